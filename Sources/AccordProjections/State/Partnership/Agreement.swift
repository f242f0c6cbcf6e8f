import AccordModel

/// A signed agreement (`agreement.signed.v1`).
public struct Agreement: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// Its title (`data.title`).
    public var title: Register<String>
    /// The stakeholder ids of its parties (`data.parties`).
    public var parties: Register<[String]>
    /// The date it was signed (`data.date`).
    public var date: Register<String>
    /// Where it was signed (`data.place`).
    public var place: Register<String>?
}

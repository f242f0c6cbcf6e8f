import AccordModel

/// An organisation of the partnership (`stakeholder/<id>`), from `stakeholder.registered.v1`,
/// `stakeholder.updated.v1` and `stakeholder.participated.v1` events.
public struct Stakeholder: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// Its name (`data.name`).
    public var name: Register<String>?
    /// Its kind (`data.kind`).
    public var kind: Register<String>?
    /// Its country (`data.country`).
    public var country: Register<String>?
    /// The value chains it works in (`data.valueChains`).
    public var valueChains: Register<[String]>?
    /// Its IATI organisation identifier (`data.iatiRef`).
    public var iatiRef: Register<String>?
    /// When it was first registered (the least stamp of a registration).
    public var registered: Stamp?
}

import AccordModel

/// One delivery of a skills programme (`skills.programme.delivered.v1`).
public struct ProgrammeDelivery: Codable, Sendable, Equatable {
    /// The id of the programme (the event's subject).
    public var programme: String
    /// Its title.
    public var title: String
    /// The stakeholder id that delivered it.
    public var provider: String
    /// How many took part (0 to 999,999,999).
    public var participants: Int
    /// When it was delivered.
    public var date: String
}

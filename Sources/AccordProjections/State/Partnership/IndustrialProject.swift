import AccordModel

/// An industrial project (`industry.project.registered.v1`, `industry.milestone.reached.v1`).
public struct IndustrialProject: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// Its name (`data.name`).
    public var name: Register<String>?
    /// The stakeholder id of its sponsor (`data.sponsor`).
    public var sponsor: Register<String>?
    /// Its value chain (`data.valueChain`).
    public var valueChain: Register<String>?
    /// Its country (`data.country`).
    public var country: Register<String>?
    /// Its capacity, as a decimal text (`data.capacity`).
    public var capacity: Register<String>?
    /// The unit of ``capacity`` (`data.capacityUnit`).
    public var capacityUnit: Register<String>?
    /// The milestone last reached (fold order).
    public var milestone: Register<Milestone>?
    /// The date of that milestone (`data.date`).
    public var milestoneDate: Register<String>?
}

/// The stages of an industrial project, in order.
public enum Milestone: String, Codable, Sendable, CaseIterable {
    /// Concept.
    case concept
    /// Feasibility study.
    case feasibility
    /// Final investment decision.
    case fid
    /// Under construction.
    case construction
    /// Operating.
    case operational
}

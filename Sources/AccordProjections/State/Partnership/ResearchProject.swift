import AccordModel

/// A research project (`research.project.started.v1`).
public struct ResearchProject: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// Its title (`data.title`).
    public var title: Register<String>?
    /// The stakeholder ids of its partners (`data.partners`).
    public var partners: Register<[String]>?
    /// Its field of research (`data.field`).
    public var field: Register<String>?
    /// Its budget, as a decimal text (`data.budget`).
    public var budget: Register<String>?
    /// The currency of ``budget`` (`data.currency`).
    public var currency: Register<String>?
}

/// A published research output (`research.output.published.v1`).
public struct ResearchOutput: Codable, Sendable, Equatable {
    /// The id of the research project it came from (the event's subject).
    public var research: String
    /// Its title.
    public var title: String
    /// When it was published.
    public var date: String
    /// Where it can be read.
    public var url: String?
}

import AccordModel

/// What the summary view and the command checks need to know of the per-event history — how
/// many research outputs each project has, how many deliveries and participants each skills
/// programme — counted as the fold adds outputs and deliveries, so that they are answered
/// without reading the history file (``PartnershipState/historyCounts``, Format.md §9.4.3).
///
/// Every output and delivery folded is counted, retracted or not, and of retired subjects too:
/// a view that hides those (``Views/visible(_:)``) reads the history itself.
public struct HistoryCounts: Sendable, Equatable {
    /// Research outputs folded, by the id of their research project.
    public internal(set) var outputs: [String: Int] = [:]
    /// Deliveries folded and their participants, by the id of their programme.
    public internal(set) var programmes: [String: Programme] = [:]

    /// One programme's deliveries folded and their participants.
    public struct Programme: Sendable, Equatable {
        /// Deliveries folded.
        public internal(set) var deliveries: Int
        /// Their participants, summed.
        public internal(set) var participants: Int

        /// The counts of `deliveries` deliveries with `participants` participants in all.
        public init(deliveries: Int, participants: Int) {
            self.deliveries = deliveries
            self.participants = participants
        }
    }

    /// No outputs, no deliveries.
    public init() {}

    /// The counts of the outputs and deliveries of `state`, counted from its maps (which reads
    /// the history of a loaded read model whole).
    /// - Complexity: O(outputs + deliveries).
    public init(counting state: PartnershipState) {
        for output in state.outputs.values { count(output) }
        for delivery in state.deliveries.values { count(delivery) }
    }

    /// Counts one output folded.
    mutating func count(_ output: ResearchOutput) { outputs[output.research, default: 0] += 1 }

    /// Counts one delivery folded.
    mutating func count(_ delivery: ProgrammeDelivery) {
        var programme = programmes[delivery.programme] ?? Programme(deliveries: 0, participants: 0)
        programme.deliveries += 1
        programme.participants += delivery.participants
        programmes[delivery.programme] = programme
    }

    /// Research outputs folded, over all projects.
    public var outputCount: Int { outputs.values.reduce(0, +) }
    /// Participants of every delivery folded.
    public var participants: Int { programmes.values.reduce(0) { $0 + $1.participants } }
}

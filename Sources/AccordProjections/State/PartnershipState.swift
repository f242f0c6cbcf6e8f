import AccordModel

/// The current state of a partnership: every view's data, folded from events by
/// ``PartnershipProjection``. A pure value: two sites with the same events hold equal states.
///
/// Every "last" value is a ``Register`` decided by the fold order (``Stamp``); sums are exact and
/// per currency; collections are keyed by id. So the fold is independent of arrival order.
public struct PartnershipState: Codable, Sendable, Equatable {
    public var stakeholders: [String: Stakeholder] = [:]
    public var agreements: [String: Agreement] = [:]
    public var actions: [String: Action] = [:]
    public var fundings: [String: Funding] = [:]
    public var projects: [String: IndustrialProject] = [:]
    public var offtakes: [String: Offtake] = [:]
    public var research: [String: ResearchProject] = [:]
    /// Research outputs and programme deliveries, keyed by the id of the event that recorded them.
    public var outputs: [String: ResearchOutput] = [:]
    public var deliveries: [String: ProgrammeDelivery] = [:]
    /// Events folded, per site: the version vector of what the state covers.
    public var feeds: [String: Feed] = [:]
    /// How many events each stakeholder appears in (as subject or as a reference).
    public var activity: [String: Int] = [:]
    /// Organisations taking part in each funding, with their IATI organisation role codes
    /// (1 funding, 2 accountable, 3 extending, 4 implementing): funding id → stakeholder id →
    /// sorted role codes. Nil until a `stakeholder.participated.v1` event is folded, so that
    /// states without one encode (and digest) as before.
    public var participants: [String: [String: [String]]]?
    /// Imported finance items already counted: the first 32 hex digits of the SHA-256 of each
    /// `data.source` → the funding id. Nil until an imported finance event is folded.
    public var financeSources: [String: String]?

    public init() {}

    /// One site's feed as folded: count and last event.
    public struct Feed: Codable, Sendable, Equatable {
        public var events: Int
        public var lastSeq: UInt64
        public var lastID: String
    }

    public var eventCount: Int { feeds.values.reduce(0) { $0 + $1.events } }
}

public struct Stakeholder: Codable, Sendable, Equatable {
    public var id: String
    public var name: Register<String>?
    public var kind: Register<String>?
    public var country: Register<String>?
    public var valueChains: Register<[String]>?
    public var iatiRef: Register<String>?
    /// When it was first registered (the least stamp of a registration).
    public var registered: Stamp?
}

public struct Agreement: Codable, Sendable, Equatable {
    public var id: String
    public var title: Register<String>
    public var parties: Register<[String]>
    public var date: Register<String>
    public var place: Register<String>?
}

/// The lifecycle of a roadmap action.
public enum ActionStatus: String, Codable, Sendable, CaseIterable, Comparable {
    case proposed, agreed, started, completed, cancelled

    public var isOpen: Bool { self != .completed && self != .cancelled }

    /// The status a lifecycle event type sets (`action.agreed.v1` → agreed), or nil.
    public init?(eventType: String) {
        switch eventType {
        case "action.proposed.v1": self = .proposed
        case "action.agreed.v1": self = .agreed
        case "action.started.v1": self = .started
        case "action.completed.v1": self = .completed
        case "action.cancelled.v1": self = .cancelled
        default: return nil
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public struct Action: Codable, Sendable, Equatable {
    public var id: String
    public var title: Register<String>?
    public var pillar: Register<String>?
    public var valueChains: Register<[String]>?
    public var leads: Register<[String]>?
    public var due: Register<String>?
    /// The status set by the latest lifecycle event (fold order).
    public var status: Register<ActionStatus>?
    /// The note or reason of the latest lifecycle event.
    public var note: Register<String>?
    /// The date (UTC, of its recording) of the latest lifecycle event.
    public var statusDate: Register<String>?
}

/// The four IATI finance stages (transaction types 12, 2, 3, 4).
public enum FinanceStage: String, Codable, Sendable, CaseIterable {
    case pledged, committed, disbursed, spent
}

public struct Funding: Codable, Sendable, Equatable {
    public var id: String
    public var provider: Register<String>
    public var receiver: Register<String>
    public var valueChain: Register<String>?
    public var instrument: Register<String>?
    public var action: Register<String>?
    /// Exact sums per stage and currency; negative amounts (corrections) included. Keys are the
    /// ``FinanceStage`` names, and `iati-<code>` for other IATI transaction types.
    public var totals: [String: CurrencySums] = [:]
    /// Transactions folded, per stage.
    public var transactions: [String: Int] = [:]

    public func total(_ stage: FinanceStage) -> CurrencySums { totals[stage.rawValue] ?? CurrencySums() }
}

public enum Milestone: String, Codable, Sendable, CaseIterable {
    case concept, feasibility, fid, construction, operational
}

public struct IndustrialProject: Codable, Sendable, Equatable {
    public var id: String
    public var name: Register<String>?
    public var sponsor: Register<String>?
    public var valueChain: Register<String>?
    public var country: Register<String>?
    public var capacity: Register<String>?
    public var capacityUnit: Register<String>?
    public var milestone: Register<Milestone>?
    public var milestoneDate: Register<String>?
}

public struct Offtake: Codable, Sendable, Equatable {
    public var id: String
    public var buyer: Register<String>
    public var seller: Register<String>
    public var commodity: Register<String>
    public var quantity: Register<String>
    public var unit: Register<String>
    public var from: Register<String>?
    public var to: Register<String>?
}

public struct ResearchProject: Codable, Sendable, Equatable {
    public var id: String
    public var title: Register<String>?
    public var partners: Register<[String]>?
    public var field: Register<String>?
    public var budget: Register<String>?
    public var currency: Register<String>?
}

public struct ResearchOutput: Codable, Sendable, Equatable {
    public var research: String
    public var title: String
    public var date: String
    public var url: String?
}

public struct ProgrammeDelivery: Codable, Sendable, Equatable {
    public var programme: String
    public var title: String
    public var provider: String
    public var participants: Int
    public var date: String
}

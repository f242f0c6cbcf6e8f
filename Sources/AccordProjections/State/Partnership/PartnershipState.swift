import AccordModel

/// The current state of a partnership: every view's data, folded from events by
/// ``PartnershipProjection``. A pure value: two sites with the same events hold equal states.
///
/// Every "last" value is a ``Register`` decided by the fold order (``Stamp``); sums are exact and
/// per currency; collections are keyed by id. So the fold is independent of arrival order.
public struct PartnershipState: Codable, Sendable, Equatable {
    /// Stakeholders, by the id of their subject (`stakeholder/<id>`).
    public var stakeholders: [String: Stakeholder] = [:]
    /// Signed agreements, by the id of their subject.
    public var agreements: [String: Agreement] = [:]
    /// Roadmap actions, by the id of their subject.
    public var actions: [String: Action] = [:]
    /// Fundings and their finance sums, by the id of their subject.
    public var fundings: [String: Funding] = [:]
    /// Industrial projects, by the id of their subject.
    public var projects: [String: IndustrialProject] = [:]
    /// Offtake agreements, by the id of their subject.
    public var offtakes: [String: Offtake] = [:]
    /// Research projects, by the id of their subject.
    public var research: [String: ResearchProject] = [:]
    /// Research outputs, keyed by the id of the event that recorded them (per-event history: a
    /// loaded read model reads them from its history file only when asked, §9.4).
    public var outputs: HistoryMap<ResearchOutput> = [:]
    /// Programme deliveries, keyed by the id of the event that recorded them (per-event history).
    public var deliveries: HistoryMap<ProgrammeDelivery> = [:]
    /// Events folded, per site: the version vector of what the state covers.
    public var feeds: [String: Feed] = [:]
    /// How many events each stakeholder appears in (as subject or as a reference).
    /// Kept apart in a read model (a `counts` value, Format.md §9.4.2): counting never decodes
    /// the counts a loaded read model holds.
    public var activity: ActivityCounts = [:]
    /// Organisations taking part in each funding, with their IATI organisation role codes
    /// (1 funding, 2 accountable, 3 extending, 4 implementing): funding id → stakeholder id →
    /// sorted role codes. Nil until a `stakeholder.participated.v1` event is folded, so that
    /// states without one encode (and digest) as before.
    public var participants: [String: [String: [String]]]?
    /// Imported finance items already counted: the first 32 hex digits of the SHA-256 of each
    /// `data.source` → the funding id. Nil until an imported finance event is folded.
    public var financeSources: [String: String]?

    /// Retractions (`event.retracted.v1`), by the id of the event they retract and their subject
    /// (``Retraction/key(event:subject:)``): of several, the one with the greatest stamp. An event
    /// is retracted when a retraction with its id and its subject is here; nothing takes that
    /// back. Nil until a retraction is folded.
    public var retractions: [String: Register<Retraction>]?
    /// Retired subjects (`kind/id`) → the id of each retirement not retracted → the retirement.
    /// A subject is retired while it has one. Nil until a retirement is folded.
    public var retirements: [String: [String: Retirement]]?

    /// Counts of ``outputs`` and ``deliveries`` kept as they are folded (and in the read model's
    /// summary), so that the summary view and the command checks need not read the history;
    /// nil for a state decoded from JSON, whose counts are then taken from the history. Derived
    /// from the two maps: not part of the digest (§9.2, ``CodingKeys``) nor of equality.
    public internal(set) var historyCounts: HistoryCounts?

    /// History entries (ledger entries, outputs, deliveries) this value has folded since it was
    /// made or decoded: how many a read model written now appends, at most (Format.md §9.4.5,
    /// `READMODEL_CHUNK_ENTRIES`). Kept as the fold goes, so that a long fold can check it after
    /// every batch; not part of the state (its JSON, digest or equality).
    public internal(set) var historyEntriesFolded = 0

    /// The state of a partnership with no events.
    public init() { historyCounts = HistoryCounts() }

    /// The stored properties of the state's JSON and digest (§9.2): all but ``historyCounts``.
    enum CodingKeys: String, CodingKey {
        case stakeholders, agreements, actions, fundings, projects, offtakes, research, outputs, deliveries, feeds, activity, participants,
             financeSources, retractions, retirements
    }

    /// Equal when every stored property but ``historyCounts`` (derived from two of them) is.
    public static func == (a: PartnershipState, b: PartnershipState) -> Bool {
        a.stakeholders == b.stakeholders && a.agreements == b.agreements && a.actions == b.actions && a.fundings == b.fundings
            && a.projects == b.projects && a.offtakes == b.offtakes && a.research == b.research && a.outputs == b.outputs
            && a.deliveries == b.deliveries && a.feeds == b.feeds && a.activity == b.activity && a.participants == b.participants
            && a.financeSources == b.financeSources && a.retractions == b.retractions && a.retirements == b.retirements
    }

    /// ``historyCounts``, counted from the history when the state does not keep them.
    public var countsOfHistory: HistoryCounts { historyCounts ?? HistoryCounts(counting: self) }

    /// One site's feed as folded: count and last event.
    public struct Feed: Codable, Sendable, Equatable {
        /// Events of the site folded.
        public var events: Int
        /// The greatest sequence number folded.
        public var lastSeq: UInt64
        /// The id (64 hex digits) of the event with ``lastSeq``.
        public var lastID: String
    }

    /// Events folded, over all sites.
    /// - Complexity: O(sites).
    public var eventCount: Int { feeds.values.reduce(0) { $0 + $1.events } }
}

import AccordModel

/// A funding (`funding/<id>`) and the exact sums of its finance events.
public struct Funding: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// The stakeholder id providing the money (`data.provider`).
    public var provider: Register<String>
    /// The stakeholder id receiving it (`data.receiver`).
    public var receiver: Register<String>
    /// The value chain it funds (`data.valueChain`).
    public var valueChain: Register<String>?
    /// The financial instrument (`data.instrument`).
    public var instrument: Register<String>?
    /// The id of the roadmap action it funds (`data.action`).
    public var action: Register<String>?
    /// Exact sums per stage and currency; negative amounts (corrections) included, retracted
    /// transactions left out. Keys are the
    /// ``FinanceStage`` names, and `iati-<code>` for other IATI transaction types.
    public var totals: [String: CurrencySums] = [:]
    /// Transactions folded, per stage (retracted ones not counted).
    public var transactions: [String: Int] = [:]
    /// Every finance event of the funding, by event id, retracted or not: the history the sums
    /// are made of, so that a retraction folded after its event can take it out again (per-event
    /// history: a loaded read model reads it from its history file only when asked, §9.4).
    public var ledger: HistoryMap<FinanceEntry> = [:]

    /// The sums of one stage, per currency (empty when none was folded).
    public func total(_ stage: FinanceStage) -> CurrencySums { totals[stage.rawValue] ?? CurrencySums() }
}

/// The four IATI finance stages (transaction types 12, 2, 3, 4).
public enum FinanceStage: String, Codable, Sendable, CaseIterable {
    /// Pledged (`finance.pledged.v1`, IATI type 12).
    case pledged
    /// Committed (`finance.committed.v2`, IATI type 2).
    case committed
    /// Disbursed (`finance.disbursed.v1`, IATI type 3).
    case disbursed
    /// Spent (`finance.spent.v1`, IATI type 4).
    case spent
}

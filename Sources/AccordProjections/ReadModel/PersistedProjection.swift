import AccordModel

/// A projection whose state can be kept in a read-model file (Format.md §9.4): a pure fold with
/// a name and a version, encoded by hand.
public protocol PersistedProjection: ReadModelCodable, Sendable {
    /// The name of the read model, in its file name and header (`partnership`, `conflicts`).
    static var readModelName: String { get }
    /// The version of the fold: a file of another version is ignored and rebuilt.
    static var readModelVersion: Int { get }
    /// The state of no events.
    init()
    /// Folds one event.
    mutating func fold(_ event: Event)
    /// Whether the model agrees with the version vector of its file's header (a check against
    /// mistakes; true unless the model keeps its own vector).
    func agrees(with vector: [String: PartnershipState.Feed]) -> Bool
    /// Whether the model keeps per-event history in a history file beside its read model
    /// (`cache/<name>.history`, Format.md §9.4.2); false unless it says so.
    static var keepsHistory: Bool { get }
    /// The state from the two parts of a layout 4 file (Format.md §9.4.2), its checksum checked
    /// (§9.4.4 checks 6 and 7).
    ///
    /// By default the state is one part, the first, read with ``ReadModelCodable/init(from:)``;
    /// a model whose ``ReadModelCodable/encode(to:)`` marks a second part
    /// (``ReadModelEncoder/beginSecondPart()``) decodes both, and may do so at once.
    /// - Parameter parts: where the parts lie in the open file, and its trailer.
    /// - Returns: the model.
    /// - Throws: ``ReadModelRejection`` when a value does not decode, a part does not end where
    ///   it should, or the checksum differs.
    static func decode(parts: ReadModelParts) throws -> Self
    /// How many per-event history entries the model holds in memory: those folded since its
    /// read model was written or loaded, which the next write appends to the history file
    /// (Format.md §9.4.5); 0 unless the model keeps history.
    var historyEntriesInMemory: Int { get }
    /// How many per-event history entries the model has folded since it was made or decoded:
    /// at least ``historyEntriesInMemory``, and kept as the fold goes, so that reading it costs
    /// nothing (a long fold checks it after every batch against `READMODEL_CHUNK_ENTRIES`,
    /// Format.md §9.4.5); 0 unless the model keeps history.
    var historyEntriesFolded: Int { get }
    /// Keeps the history entries held in memory encoded, as the history file will hold them
    /// (about half the memory), until they are written; the state is unchanged. A long fold
    /// calls it now and then (Format.md §9.4.5); nothing by default.
    mutating func packHistory()
}

extension PersistedProjection {
    public func agrees(with vector: [String: PartnershipState.Feed]) -> Bool { true }
    public static var keepsHistory: Bool { false }
    public var historyEntriesInMemory: Int { 0 }
    public var historyEntriesFolded: Int { 0 }
    public mutating func packHistory() {}
}

extension PartnershipState: PersistedProjection {
    /// ``PartnershipProjection/name``.
    public static var readModelName: String { PartnershipProjection.name }
    /// ``PartnershipProjection/version``.
    public static var readModelVersion: Int { PartnershipProjection.version }
    /// ``PartnershipProjection/apply(_:to:)``.
    public mutating func fold(_ event: Event) { PartnershipProjection.apply(event, to: &self) }
    /// Whether the state's ``feeds`` are the vector.
    public func agrees(with vector: [String: PartnershipState.Feed]) -> Bool { feeds == vector }
    /// True: fundings' ledgers, research outputs and programme deliveries are kept in
    /// `cache/partnership.history` and read only when asked for.
    public static var keepsHistory: Bool { true }
    /// The entries folded into the fundings' ledgers, the outputs and the deliveries since the
    /// read model was loaded (or all of them, without one). O(fundings).
    public var historyEntriesInMemory: Int {
        fundings.values.reduce(outputs.overlay.count + outputs.packedCount + deliveries.overlay.count + deliveries.packedCount) {
            $0 + $1.ledger.overlay.count + $1.ledger.packedCount
        }
    }
    /// Packs the outputs', the deliveries' and every funding's ledger's entries held in memory
    /// (``HistoryMap/pack()``). O(fundings + entries packed).
    public mutating func packHistory() {
        outputs.pack()
        deliveries.pack()
        let unpacked = fundings.compactMap { $0.value.ledger.overlay.isEmpty ? nil : $0.key }
        for id in unpacked { fundings[id]?.ledger.pack() }
    }
}

extension ConflictScanner: PersistedProjection {
    /// `conflicts`.
    public static var readModelName: String { "conflicts" }
    /// Version 1.
    public static var readModelVersion: Int { 1 }
    /// ``add(_:)``.
    public mutating func fold(_ event: Event) { add(event) }
}

import AccordModel
import AccordStore

/// Writes imported events: those whose identity is not yet known, in batches of whole groups
/// (an IATI activity, a CSV row), as they are handed over, so memory holds one batch at most.
public final class ImportWriter {
    /// At most this many events go into one batch (Journal/Import.md, "Batches").
    public static let maxEventsPerBatch = 10_000

    private let writer: EventWriter
    /// Identities the journal holds, and those written since (by UTF-8 bytes).
    public private(set) var known: Set<BytewiseText>
    /// Events written.
    public private(set) var new = 0
    /// Events not written because their identity was known (or repeated in a batch).
    public private(set) var alreadyKnown = 0
    /// Batches written.
    public private(set) var batches = 0
    private var batch: [ImportedEvent] = []
    private var inBatch = Set<BytewiseText>()

    /// A writer into `writer`'s journal, which holds the identities `known` (``SourceIndex/load(_:)``).
    public init(writer: EventWriter, known: Set<BytewiseText>) {
        self.writer = writer
        self.known = known
    }

    /// Takes one group; writes the batch first if the group would not fit in it.
    /// - Throws: what ``EventWriter/append(_:expecting:now:)`` throws; batches written before
    ///   stay (each is whole), and importing the file again adds only the rest.
    public func add(_ group: [ImportedEvent]) throws {
        let fresh = group.filter { !known.contains(BytewiseText($0.identity)) && inBatch.insert(BytewiseText($0.identity)).inserted }
        alreadyKnown += group.count - fresh.count
        if batch.count + fresh.count > Self.maxEventsPerBatch { try flush() }
        batch += fresh
    }

    /// Writes what is left.
    public func flush() throws {
        guard !batch.isEmpty else { return }
        _ = try writer.append(batch.map(\.draft))
        known.reserveCapacity(known.count + batch.count)
        for event in batch { known.insert(BytewiseText(event.identity)) }
        new += batch.count
        batches += 1
        batch = []
        inBatch = []
    }

    /// Writes `groups` and returns the counts: (new events, already known, batches).
    public static func write(_ groups: [[ImportedEvent]], to writer: EventWriter, known: inout Set<BytewiseText>) throws -> (new: Int, known: Int, batches: Int) {
        let importer = ImportWriter(writer: writer, known: known)
        for group in groups { try importer.add(group) }
        try importer.flush()
        known = importer.known
        return (importer.new, importer.alreadyKnown, importer.batches)
    }
}

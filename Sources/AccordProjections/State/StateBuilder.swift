import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// Builds ``PartnershipState`` from a journal: from its read model (Format.md §9.4) and the
/// events after it, or by a full replay; optionally only up to a time or an event (time travel).
///
/// ```swift
/// let result = try StateBuilder(journal: journal).build()
/// print(try result.state.digest())
/// ```
public struct StateBuilder {
    /// Where to stop.
    public enum Cutoff: Sendable {
        /// Everything.
        case none
        /// Events recorded at or before this instant (UTC).
        case asOf(Timestamp)
        /// The event with this id and every event recorded before it (``Stamp/isRecorded(before:)``).
        case at(EventID)
    }

    /// The last batch a state covers.
    public typealias Coverage = ReadModelCoverage

    /// What a build did.
    public struct Result: Sendable {
        /// The state built.
        public var state: PartnershipState
        /// Events folded by this build (not counting those the read model covered).
        public var replayed: Int
        /// Events the read model file covered, when a valid one was used.
        public var loadedEvents: Int?
        /// The last batch the state covers (without a cutoff); nil for an empty journal.
        public var coverage: Coverage?
        /// The read-model file written by this build (relative to the journal), if any.
        public var wroteReadModel: String?
        /// Why a read-model file that was there was ignored (the state was rebuilt by replay).
        public var readModelRejection: ReadModelRejection?
        /// Whether the journal holds snapshot files of an older Accord (`snapshots/`), which are
        /// no longer read (Format.md §9.4.6).
        public var oldSnapshots = false
        /// An incomplete or damaged last batch that ended the replay (not in the state).
        public var tornTail: Damage?
    }

    /// The journal to read.
    public let journal: EventJournal
    /// The read model: `cache/partnership.readmodel`.
    public var readModel: ReadModelStore<PartnershipState>
    /// Write the read model after folding at least this many events (nil: never write it); an
    /// ignored read model is rewritten at once.
    public var refreshAfter: Int? = ReadModelFile.refreshEvents

    /// A builder of `journal`'s state, with its read model.
    public init(journal: EventJournal) {
        self.journal = journal
        readModel = ReadModelStore(journal: journal)
    }

    /// Builds the state.
    /// - Parameters:
    ///   - cutoff: time travel; the read model is used only without a cutoff.
    ///   - useReadModel: false forces a full replay, and neither reads nor writes the read model.
    /// - Throws: ``SegmentError`` or ``AccordError`` for a damaged journal; ``AccordError``
    ///   `.notFound` for an `at` id that is not in the journal.
    /// - Complexity: O(read model + events after it) without a cutoff, else O(journal).
    public func build(cutoff: Cutoff = .none, useReadModel: Bool = true) throws -> Result {
        switch cutoff {
        case .none:
            let current = try readModel.current(useFile: useReadModel, refreshAfter: refreshAfter)
            var result = Result(state: current.model, replayed: current.replayed, loadedEvents: current.loadedEvents, coverage: current.coverage)
            result.wroteReadModel = current.wrote
            result.readModelRejection = current.rejection
            result.tornTail = current.tornTail
            result.oldSnapshots = useReadModel && Self.hasOldSnapshots(journal)
            return result
        case .asOf(let instant):
            return try fold { $0.time <= instant }
        case .at(let id):
            var events = try journal.events()
            var target: Stamp?
            while target == nil, let event = try events.next() {
                if event.id == id { target = Stamp(event) }
            }
            guard let target else {
                throw AccordError(.notFound, "No event with id '\(id.hex)' in the journal at '\(journal.path)'.", field: "--at")
            }
            return try fold { !target.isRecorded(before: Stamp($0)) }
        }
    }

    /// ``build(cutoff:useReadModel:)``, under its former name.
    @available(*, deprecated, renamed: "build(cutoff:useReadModel:)")
    public func build(cutoff: Cutoff = .none, useSnapshots: Bool) throws -> Result {
        try build(cutoff: cutoff, useReadModel: useSnapshots)
    }

    private func fold(where include: (Event) -> Bool) throws -> Result {
        var state = PartnershipState()
        var events = try journal.events()
        var replayed = 0
        while let event = try events.next() {
            guard include(event) else { continue }
            PartnershipProjection.apply(event, to: &state)
            replayed += 1
        }
        return Result(state: state, replayed: replayed, coverage: nil)
    }

    /// Brings the read model up to date and writes it now, whatever was folded (`accord snapshot`).
    /// - Returns: the file's name (relative to the journal) and the events it covers.
    /// - Throws: ``AccordError`` `.badInput` for an empty journal; journal errors; ``SegmentError``
    ///   when the file cannot be written.
    public func writeReadModelNow() throws -> (file: String, events: Int) {
        let current = try readModel.current(refreshAfter: nil)
        guard let coverage = current.coverage else {
            throw AccordError(.badInput, "The journal has no events yet; there is nothing to keep in a read model.")
        }
        return (try readModel.write(current.model, vector: current.vector, coverage: coverage, continuing: current.history), current.model.eventCount)
    }

    /// The folder of snapshots written by Accord before read models (Format.md §9.4.6).
    public static let oldSnapshotFolder = "snapshots"

    /// Whether `journal` has a `snapshots/` folder with a `partnership-*.json` file in it.
    static func hasOldSnapshots(_ journal: EventJournal) -> Bool {
        guard let directory = opendir(journal.path + "/" + oldSnapshotFolder) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("partnership-"), name.hasSuffix(".json") { return true }
        }
        return false
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Rebuilds ``PartnershipState`` from a journal: from the newest valid snapshot and the events
/// after it, or by a full replay; optionally only up to a time or an event (time travel).
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

    /// The last batch a state covers: where it starts and ends, and its last event's id.
    public struct Coverage: Sendable, Codable, Equatable {
        /// Where the batch starts.
        public var batch: SegmentPosition
        /// Where it ends.
        public var end: SegmentPosition
        /// The id (64 hex digits) of its last event.
        public var lastID: String
    }

    /// What a build did.
    public struct Result: Sendable {
        /// The state built.
        public var state: PartnershipState
        /// Events folded by this build (not counting those the snapshot covered).
        public var replayed: Int
        /// The snapshot used, if any.
        public var snapshot: SnapshotStore.Snapshot?
        /// The last batch the state covers (without a cutoff); nil for an empty journal.
        public var coverage: Coverage?
        /// The file of a snapshot written by this build, if any.
        public var wroteSnapshot: String?
        /// An incomplete or damaged last batch that ended the replay (not in the state).
        public var tornTail: Damage?
    }

    /// The journal to read.
    public let journal: EventJournal
    /// Where snapshots are read and written: the journal's `snapshots/` folder.
    public var snapshots: SnapshotStore
    /// Write a new snapshot when at least this many events were replayed (nil: never).
    public var snapshotEvery: Int? = 10_000

    /// A builder of `journal`'s state, with its snapshots.
    public init(journal: EventJournal) {
        self.journal = journal
        snapshots = SnapshotStore(journal: journal)
    }

    /// Builds the state.
    /// - Parameters:
    ///   - cutoff: time travel; snapshots are used only without a cutoff.
    ///   - useSnapshots: false forces a full replay and writes no snapshot.
    /// - Throws: ``SegmentError`` or ``AccordError`` for a damaged journal; ``AccordError``
    ///   `.notFound` for an `at` id that is not in the journal.
    /// - Complexity: O(events after the snapshot) without a cutoff, else O(journal).
    public func build(cutoff: Cutoff = .none, useSnapshots: Bool = true) throws -> Result {
        switch cutoff {
        case .none:
            let snapshot = useSnapshots ? snapshots.newestValid() : nil
            var state = snapshot?.state ?? PartnershipState()
            var coverage = snapshot?.coverage
            var events = try journal.events(from: snapshot?.coverage.end ?? .start)
            var replayed = 0
            while let event = try events.next() {
                PartnershipProjection.apply(event, to: &state)
                replayed += 1
                if events.isLastOfBatch, let start = events.batchPosition {
                    coverage = Coverage(batch: start, end: events.nextPosition, lastID: event.id.hex)
                }
            }
            var result = Result(state: state, replayed: replayed, snapshot: snapshot, coverage: coverage)
            result.tornTail = events.tornTail
            if useSnapshots, let every = snapshotEvery, replayed >= every, let coverage {
                result.wroteSnapshot = try? snapshots.write(state: state, coverage: coverage)
            }
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

    private func fold(where include: (Event) -> Bool) throws -> Result {
        var state = PartnershipState()
        var events = try journal.events()
        var replayed = 0
        while let event = try events.next() {
            guard include(event) else { continue }
            PartnershipProjection.apply(event, to: &state)
            replayed += 1
        }
        return Result(state: state, replayed: replayed, snapshot: nil, coverage: nil)
    }

    /// Writes a snapshot of the whole journal now.
    /// - Returns: the snapshot's file name (relative to the journal) and the events it covers.
    /// - Throws: ``AccordError`` `.badInput` for an empty journal; journal errors.
    public func snapshotNow() throws -> (file: String, events: Int) {
        var builder = self
        builder.snapshotEvery = nil
        let result = try builder.build()
        guard let coverage = result.coverage else {
            throw AccordError(.badInput, "The journal has no events yet; there is nothing to snapshot.")
        }
        return (try snapshots.write(state: result.state, coverage: coverage), result.state.eventCount)
    }
}

import AccordModel
import AccordSegments
import Foundation
import Glibc

/// A last batch that this process found where a heads cache says it is (or wrote there), with
/// the state its segment file had then (``HeadsCache/matches(_:)``).
///
/// The state is what `stat(2)` says of the file — device, inode, size, modification and
/// change times to the nanosecond — taken *before* the batch was read or right after it was
/// written, so that any write to the file since (an append, a truncation, a replacement)
/// makes the memory useless and the batch is read again. It is a memory of this process only,
/// never written anywhere.
package struct VerifiedLastBatch: Hashable {
    /// At most this many remembered batches; the memory is emptied when it is full (a server
    /// adds one per push).
    static let capacity = 64

    /// Guarded by ``lock`` (an `NSLock`, a pthread mutex that ThreadSanitizer sees; it does not
    /// see the futex under `Synchronization.Mutex` and reports its guarded accesses as races).
    nonisolated(unsafe) private static var memory: [VerifiedLastBatch: FileState] = [:]
    private static let lock = NSLock()

    typealias FileState = SegmentFileState

    /// The segment file's path, as bytes.
    let segment: [UInt8]
    let lastBatch: SegmentPosition
    let end: SegmentPosition
    let lastID: EventID
    /// The file's state when this value was made (nil when it cannot be read).
    package let state: SegmentFileState?

    /// - Parameter known: the segment file's state when the caller has it (the writer, from its
    ///   open file, right after writing the batch); nil to `stat` the file's path.
    package init(_ journal: EventJournal, lastBatch: SegmentPosition, end: SegmentPosition, lastID: EventID, state known: SegmentFileState? = nil) {
        segment = Array((journal.directory.path + "/" + SegmentDirectory.relativeSegmentPath(lastBatch.segment)).utf8)
        self.lastBatch = lastBatch
        self.end = end
        self.lastID = lastID
        state = known ?? FileState(path: String(decoding: segment, as: UTF8.self))
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.segment == b.segment && a.lastBatch == b.lastBatch && a.end == b.end && a.lastID == b.lastID
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(segment)
        hasher.combine(lastBatch)
        hasher.combine(end)
        hasher.combine(lastID)
    }

    /// Whether this process found or wrote this batch while its file was in the state it is in now.
    package var isKnown: Bool {
        guard let state else { return false }
        return Self.lock.withLock { Self.memory[self] == state }
    }

    /// Remembers the batch with the file's state taken at ``init(_:lastBatch:end:lastID:)``.
    func note() {
        guard let state else { return }
        Self.lock.withLock {
            if Self.memory.count >= Self.capacity { Self.memory.removeAll() }
            Self.memory[self] = state
        }
    }
}

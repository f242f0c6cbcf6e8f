import Glibc

/// What `stat(2)` says of a segment file, as far as a change to it shows: device, inode, size,
/// modification and change times to the nanosecond. Any write to the file (an append, a
/// truncation, a replacement) changes it.
package struct SegmentFileState: Equatable, Sendable {
    var device: UInt64, inode: UInt64, size: Int64
    var modified: timespec, changed: timespec

    /// The file's state now; nil when it cannot be read.
    package init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The state now of the file open as `fd` (`fstat`: no path lookup); nil when it cannot be read.
    package init?(fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        self.init(info)
    }

    private init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
            && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }
}

/// One batch a reader of a journal directory has read and checked, handed once to the next
/// reader of the same directory value that asks for that member while its segment file is
/// unchanged.
///
/// A journal's heads cache is checked by reading its last batch (Format.md §1); a command that
/// then reads the journal from before that batch (a push, `bundle create`) read it a second
/// time: 12.5 MB inflated twice for a 30,000-event push (issue 16). The check offers the batch
/// here; ``BatchIterator`` takes it instead of inflating the member again when the file's state
/// (``SegmentFileState``, taken before the check read it) is still the same. The memory is that
/// of the ``SegmentDirectory`` value and its copies (an `EventJournal`): at most one batch, at
/// most `MAX_BATCH` bytes, held until it is taken, another is offered, or ``drop()`` (a write).
package final class BatchHandoff: @unchecked Sendable {
    /// Guarded by ``mutex`` (a pthread mutex, which ThreadSanitizer sees).
    private var held: (segment: Int, state: SegmentFileState, batch: Batch)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Batches handed over so far (tests read it).
    package var handedOver: Int { locked { handed } }
    private var handed = 0

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Offers `batch`, read from segment `segment` while the file was in `state` (taken before
    /// the read began); replaces any batch offered before.
    package func offer(_ batch: Batch, segment: Int, state: SegmentFileState) {
        locked { held = (segment, state, batch) }
    }

    /// Drops the batch held, if any (the journal is being written).
    package func drop() {
        locked { held = nil }
    }

    /// The batch offered for the member at `offset` of segment `segment` of `directory`, if one
    /// is, and the segment file is in the state it had when that batch was read; it is no longer
    /// held afterwards either way.
    func take(segment: Int, offset: Int64, of directory: SegmentDirectory) -> Batch? {
        let found: (state: SegmentFileState, batch: Batch)? = locked {
            guard let held, held.segment == segment, held.batch.offset == offset else { return nil }
            self.held = nil
            return (held.state, held.batch)
        }
        guard let found, SegmentFileState(path: directory.segmentPath(segment)) == found.state else { return nil }
        locked { handed += 1 }
        return found.batch
    }
}

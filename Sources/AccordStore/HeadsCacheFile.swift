import AccordModel
import AccordSegments
import Glibc

/// The writer's `cache/heads.json`, kept open and rewritten in place after every append.
///
/// The first save writes a new file and renames it into place (so a file of the earlier form is
/// never partly overwritten); later saves are one `pwrite` at offset 0 of the JSON line and its
/// checksum line, padded with spaces to the longest content written so far, so the file never
/// shrinks and no stale bytes outlive a save. Nothing is synced: a stale or lost cache costs only
/// a replay. A reader that catches a save half done, or a crash that tore one, sees a checksum
/// that does not match, and replays.
final class HeadsCacheFile {
    private let journal: EventJournal
    private var fd: Int32 = -1
    /// The file's length: the longest content written to it.
    private var length = 0

    init(journal: EventJournal) {
        self.journal = journal
    }

    deinit { closeFile() }

    func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// The bytes of a file holding `cache`, padded to at least `minimum` bytes.
    static func fileBytes(_ cache: HeadsCache, minimum: Int = 0) -> [UInt8] {
        var out = cache.jsonBytes()
        let digest = Digest.sha256(out)
        out.append(0x0a)
        out.append(contentsOf: HeadsCache.checksumPrefix)
        digest.appendHex(to: &out)
        out.append(0x0a)
        if out.count < minimum { out.append(contentsOf: repeatElement(0x20, count: minimum - out.count)) }
        return out
    }

    /// Writes `cache` (not synced). Failures are ignored: the cache is only a shortcut.
    /// - Parameter segmentState: the state of the segment file holding the cache's last batch,
    ///   when the caller just wrote that batch there (``SegmentWriter/segmentFileState``); nil to
    ///   `stat` the file.
    func save(_ cache: HeadsCache, segmentState: SegmentFileState? = nil) {
        journal.directory.handoff.drop()
        // The writer has just written (or replayed up to) the batch the cache names: later
        // opens in this process need not read it back to believe the cache.
        if let lastBatch = cache.lastBatch, let lastID = cache.lastID {
            VerifiedLastBatch(journal, lastBatch: lastBatch, end: cache.end, lastID: lastID, state: segmentState).note()
        }
        if fd >= 0 {
            let bytes = Self.fileBytes(cache, minimum: length)
            if writeAll(fd, bytes, at: 0) {
                length = bytes.count
                return
            }
            closeFile()
        }
        let folder = journal.path + "/" + HeadsCache.folder
        mkdir(folder, 0o755)
        let bytes = Self.fileBytes(cache)
        let path = HeadsCache.path(journal)
        let temporary = path + ".tmp-\(getpid())"
        let created = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard created >= 0 else { return }
        guard writeAll(created, bytes, at: 0) else {
            close(created)
            unlink(temporary)
            return
        }
        // Unlink, then rename onto the free name: ext4 (auto_da_alloc) starts writing a file's
        // data back at once when it is renamed over an existing file, which made every append
        // pay a second disk write. In between there is briefly no cache: readers replay
        // instead (slower, never wrong), and a writer never looks then (it holds the lock).
        unlink(path)
        guard rename(temporary, path) == 0 else {
            close(created)
            unlink(temporary)
            return
        }
        fd = created
        length = bytes.count
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let wrote = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if wrote < 0, errno == EINTR { continue }
                if wrote <= 0 { return false }
                done += wrote
            }
            return true
        }
    }
}

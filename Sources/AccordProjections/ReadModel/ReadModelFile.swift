import AccordModel
import AccordSegments
import AccordStore
import CMalloc
import Glibc

/// The constants of read-model files (Format.md §9.4, *Limits*).
public enum ReadModelFile {
    /// The folder of read-model files in a journal: `cache/`, beside the heads cache.
    public static let folder = "cache"
    /// The first 8 bytes of every read-model file: `ACCORDRM`.
    public static let magic: [UInt8] = Array("ACCORDRM".utf8)
    /// The version of the file layout (§9.4.2), after the magic bytes, and of the history file's.
    /// Version 2 kept the per-event history in a history file of its own; version 3 keeps the
    /// activity counts as a `counts` value (sorted, decoded only when read); version 4 writes the
    /// state in two parts, the second's offset before the checksum, so that a reader decodes them
    /// at once. A file of layout 1, 2 or 3 is ignored and rebuilt.
    public static let formatVersion: UInt32 = 4
    /// The smallest file a reader looks into: the magic, the layout, the split and the checksum.
    public static let minimumBytes: Int64 = 8 + 4 + 8 + 32
    /// `MAX_READMODEL_TEXT`: the most bytes one text of a read model may hold.
    public static let maxTextBytes = 1_048_576
    /// `MAX_READMODEL_FILE`: the largest read-model file a reader opens.
    public static let maxFileBytes: Int64 = 17_179_869_184
    /// `READMODEL_REFRESH_EVENTS`: a read that folded at least this many events (beyond a valid
    /// file, or from the start without one) writes the file; an ignored file is rewritten at once.
    public static let refreshEvents = 10_000
    /// `READMODEL_CHUNK_EVENTS`: a fold of more events than this (a rebuild from scratch, or a
    /// read model far behind the journal) writes the read model after each such run of whole
    /// batches and loads it back, so that the history entries it folded are on disk and the
    /// model holds only their extents (Format.md §9.4.5): its memory does not grow with the
    /// journal.
    public static let chunkEvents = 100_000
    /// `READMODEL_CHUNK_ENTRIES`: a fold that has folded this many history entries (ledger
    /// entries, outputs, deliveries) since its model was made or read back writes a chunk at the
    /// end of the batch, whatever the events folded (Format.md §9.4.5): the entries a chunk holds
    /// in memory are bounded by this (plus one batch's), not by the journal's mix of events.
    public static let chunkEntries = 25_000
    /// A long fold packs the history entries it holds (``PersistedProjection/packHistory()``)
    /// at the end of the first batch after each run of this many entries folded, so that at
    /// most about this many are held as values (the rest encoded, about half the memory) until
    /// the chunk is written. Not a property of any file.
    public static let packEntries = 2_000
    /// The trailer: the SHA-256 of every byte before it.
    public static let trailerBytes = 32

    /// Hands the memory the allocator holds free back to the system (glibc's `malloc_trim(0)`):
    /// a long fold calls it when it has released a chunk's state and after it has read the
    /// chunk back, so that the pages those freed are not counted in the process's memory while
    /// the next chunk is folded. Without it, glibc keeps them (in the arena of the thread that
    /// allocated them: the second part of a read model is decoded on a thread of its own), and
    /// a rebuild's resident memory stays well above what it holds.
    static func returnFreedMemory() {
        _ = malloc_trim(0)
    }

    /// The size from which glibc's allocator maps a block on its own (`M_MMAP_THRESHOLD`) once a
    /// long fold has written its first chunk: 256 KiB, the writer's buffer
    /// (``ReadModelEncoder/bufferBytes``).
    static let mappedBlockBytes: Int32 = 1 << 18

    /// Has glibc map every block of ``mappedBlockBytes`` or more on its own, for the rest of the
    /// process (`mallopt(M_MMAP_THRESHOLD, …)`); called by a long fold when it writes its first
    /// chunk. Left alone, glibc raises that threshold each time such a block is freed (up to
    /// 32 MiB), so that the large blocks of a chunk read back — each map's storage, the
    /// decoders' buffers — come from the heap, and what they leave there when the next chunk
    /// frees them is not handed back between the chunks. Mapped, they are returned to the
    /// system when freed. The cost: a `mmap` and `munmap` per such block.
    static func mapLargeBlocks() {
        _ = mallopt(M_MMAP_THRESHOLD, mappedBlockBytes)
    }

    /// The file name of `Model`'s read model: `<name>.readmodel`.
    public static func fileName<Model: PersistedProjection>(of model: Model.Type) -> String { model.readModelName + ".readmodel" }
}

extension ReadModelDecoder {
    /// Reads the journal's `PARTNERSHIP` and `SITE` texts (Format.md §9.4.2; the web view's
    /// index file too, Journal/UI.md §8.1) and refuses a file of another journal.
    /// - Throws: ``ReadModelRejection`` naming the partnership and site found.
    public mutating func journal(_ journal: EventJournal) throws {
        let partnership = try text(), site = try text()
        guard sameBytes(partnership, journal.partnership), sameBytes(site, journal.site.rawValue) else {
            throw ReadModelRejection("It belongs to the journal of site '\(site.prefix(64))' of partnership '\(partnership.prefix(64))', not this one.")
        }
    }

    /// Reads the batch covered (`u32` segment, `i64` offset), where it ends (the same) and its
    /// last event's id (`text`), and where in the file they start, for ``ReadModelRejection/stale(_:at:)``.
    public mutating func coverage() throws -> (coverage: ReadModelCoverage, at: Int64) {
        let at = offset
        let batch = SegmentPosition(segment: Int(try u32()), offset: try i64())
        let end = SegmentPosition(segment: Int(try u32()), offset: try i64())
        return (ReadModelCoverage(batch: batch, end: end, lastID: try text()), at)
    }
}

extension ReadModelRejection {
    /// A file whose covered batch the journal does not hold (``ReadModelCoverage/isHeld(by:)``).
    public static func stale(_ coverage: ReadModelCoverage, at offset: Int64) -> ReadModelRejection {
        ReadModelRejection("It covers a batch at \(coverage.batch) (byte \(offset) of the file) that this journal does not hold as recorded.")
    }
}

/// The last batch a read model covers: where it starts and ends, and its last event's id.
public struct ReadModelCoverage: Sendable, Equatable {
    /// Where the batch starts.
    public var batch: SegmentPosition
    /// Where it ends: where the next fold starts.
    public var end: SegmentPosition
    /// The id (64 hex digits) of its last event.
    public var lastID: String

    /// The coverage of the batch from `batch` to `end` whose last event has `lastID`.
    public init(batch: SegmentPosition, end: SegmentPosition, lastID: String) {
        self.batch = batch
        self.end = end
        self.lastID = lastID
    }

    /// Whether `journal` holds, at ``batch``, a valid batch ending at ``end`` whose last record
    /// has the id ``lastID`` (check 4 of Format.md §9.4.4): false for a file that is stale (the
    /// journal was restored from a backup, or went on separately) or was never this journal's.
    /// Reads that one batch only.
    public func isHeld(by journal: EventJournal) -> Bool {
        guard var batches = try? journal.directory.batches(from: batch),
              let found = try? batches.next(), found.end == end,
              let last = found.records.last, let event = try? EventRecord.decode(last)
        else { return false }
        return sameBytes(event.id.hex, lastID)
    }
}

extension ReadModelFile {
    /// Removes the temporary files `<name>.tmp-<pid>-<random>` of the files `names` in `folder`
    /// left by writers that were killed (their process is gone); those of live processes stay.
    /// - Parameters:
    ///   - folder: the `cache/` folder.
    ///   - names: the files' names (`partnership.readmodel`, `web.index`).
    public static func removeAbandonedTemporaries(in folder: String, of names: [String]) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefixes = names.map { $0 + ".tmp-" }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let prefix = prefixes.first(where: { name.hasPrefix($0) }),
                  let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink(folder + "/" + name) }
        }
    }

    /// Writes a file of `cache/` as a read model is written (Format.md §9.4.5): `body` encodes
    /// it into `<path>.tmp-<pid>-<random>` (created with `O_EXCL`, mode 0644), the trailer (the
    /// SHA-256 of every byte before it) is added, the file is `fdatasync`ed and renamed over
    /// `path`, then the folder is synced. A failure at any step leaves the former file in place
    /// and removes the temporary one.
    /// - Parameters:
    ///   - path: the file to replace (in an existing folder).
    ///   - io: how bytes are written.
    ///   - body: writes every byte before the trailer.
    /// - Throws: ``SegmentError`` `.io` / `.diskFull` when a step fails; what `body` throws.
    public static func writeAtomically(_ path: String, io: any SegmentIO, _ body: (inout ReadModelEncoder) throws -> Void) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot create '\(temporary)': \(Errno(errno)).", path: temporary) }
        do {
            var out = ReadModelEncoder(fd: fd, path: temporary, io: io)
            try body(&out)
            try out.finish()
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = Errno(errno)
            unlink(temporary)
            throw SegmentError(.io, "Cannot rename '\(temporary)' to '\(path)': \(error).", path: path)
        }
        var folder = path
        while let last = folder.utf8.last, last != UInt8(ascii: "/") { folder.removeLast() }
        try? FileBytes.syncDirectory(folder.isEmpty ? "." : folder)
    }

    /// Opens `path` for reading, and keeps it only when it is a regular file: opened with
    /// `O_NONBLOCK`, so that a FIFO or a device put in its place neither blocks the reader nor
    /// is read (a derived file is checked before it is trusted, Format.md §9.4.4).
    /// - Returns: the descriptor (the caller closes it) and the file's size; nil when there is
    ///   no file.
    public static func openRegular(_ path: String) -> Result<(fd: Int32, size: Int64)?, ReadModelRejection> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            return errno == ENOENT ? .success(nil) : .failure(ReadModelRejection("It cannot be opened: \(Errno(errno))."))
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = Errno(errno)
            close(fd)
            return .failure(ReadModelRejection("It cannot be examined: \(error)."))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(ReadModelRejection("It is not a regular file."))
        }
        return .success((fd, Int64(status.st_size)))
    }
}

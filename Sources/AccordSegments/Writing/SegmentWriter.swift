import Glibc

/// The single writer of a journal directory.
///
/// Opening takes the exclusive lock (Format.md §5) and recovers the tail (§6). ``append(_:)``
/// writes one batch as one gzip member with one `pwrite` and one `fdatasync`, and returns only
/// once the batch is durable. A batch of fewer than ``Options/literalsBelow`` bytes is not
/// compressed (its DEFLATE data is one block of literals); a larger one is, at
/// ``Options/compressionLevel``. If the write or the sync fails, the segment is truncated back to
/// its previous length, so no partial member stays in front of later batches.
///
/// ```swift
/// let writer = try SegmentWriter(directory: journal)
/// let end = try writer.append([Array("{\"a\":1}".utf8)])
/// ```
public final class SegmentWriter {
    /// Settings of a writer.
    public struct Options: Sendable {
        /// zlib level for batches, 0–9 (Format.md §4, "Compression"; the README's *Performance*
        /// gives the measured trade between levels). Default 1: the fastest durable ingest; 6 stores about 22 %
        /// fewer bytes for about 37 % fewer events per second.
        public var compressionLevel: Int32 = 1
        /// Segment size, in bytes, past which a new segment is begun (Format.md §3).
        public var segmentLimit: Int64 = SegmentFormat.defaultSegmentLimit
        /// How long to wait for another writer to release the lock, in seconds.
        public var lockTimeout: Double = 30
        /// Compress batches of 64 KiB or more in two halves on two threads (Format.md §4,
        /// "Compression"). Default true.
        public var parallelCompression = true
        /// Batches of fewer bytes than this (uncompressed, with every newline) are written as
        /// literals in one fixed-Huffman block, not compressed at ``compressionLevel``
        /// (Format.md §4, "Compression"; Decision 0025). Default ``SegmentFormat/literalsBelow``;
        /// 0 compresses every batch.
        public var literalsBelow = SegmentFormat.literalsBelow
        /// The system calls used on segment files; tests substitute faulty ones.
        public var io: any SegmentIO = SegmentIOs.processDefault
        /// Called under the lock, before recovery: a position up to which the caller knows the
        /// journal to be made of complete batches (its own cache of the last append). Recovery
        /// then checks only what follows it; if anything there is invalid, it checks the whole
        /// last segment before cutting anything (Format.md §6).
        public var recoveryHint: (@Sendable () -> SegmentPosition?)?
        /// The default settings.
        public init() {}
    }

    /// The journal directory written to.
    public let directory: SegmentDirectory
    /// What recovery did when the writer opened, or nil when the tail was clean.
    public let recovery: RecoveryReport?
    private let options: Options
    private var lock: WriterLock?
    private let deflater: Deflater
    /// For the second half of large batches, compressed on another thread.
    private let secondDeflater: Deflater?
    private var segmentNumber: Int
    private var segmentFD: Int32 = -1
    private var segmentLength: Int64 = 0
    private var unusable: String?

    /// Opens the writer: takes the lock, then checks the last segment and cuts off a torn tail.
    /// - Throws: ``SegmentError`` `.busy` (lock not released in time), `.corrupt` (damage with
    ///   valid batches after it in the last segment: the journal is not written to until it is
    ///   restored), `.io`.
    public init(directory: SegmentDirectory, options: Options = Options()) throws {
        self.directory = directory
        self.options = options
        self.deflater = Deflater(level: options.compressionLevel)
        self.secondDeflater = options.parallelCompression ? Deflater(level: options.compressionLevel) : nil
        lock = try WriterLock(journalPath: directory.path, timeout: options.lockTimeout)
        let numbers = try directory.segmentNumbers()
        segmentNumber = numbers.last ?? 0
        var recovery: RecoveryReport?
        if segmentNumber > 0 {
            let last = numbers.last ?? 0
            let hint = options.recoveryHint?().flatMap { $0.segment == last ? $0.offset : nil } ?? 0
            recovery = try Self.recoverTail(directory: directory, segment: segmentNumber, io: options.io, from: hint)
            segmentFD = try Self.openSegment(directory.segmentPath(segmentNumber), create: false)
            var info = stat()
            fstat(segmentFD, &info)
            segmentLength = Int64(info.st_size)
        }
        self.recovery = recovery
    }

    deinit {
        if segmentFD >= 0 { Glibc.close(segmentFD) }
    }

    /// Closes the segment and releases the lock; later appends throw `.writerUnusable`.
    public func close() {
        if segmentFD >= 0 { Glibc.close(segmentFD) }
        segmentFD = -1
        lock = nil
        if unusable == nil { unusable = "it was closed." }
    }

    /// The position just past the last batch.
    public var end: SegmentPosition { SegmentPosition(segment: max(segmentNumber, 1), offset: segmentLength) }

    /// The state of the segment file the last batch was appended to, by `fstat` of the open file
    /// (what `stat` of its path gives, without the path lookup: a single append paid one); nil
    /// before the first segment or when it cannot be read.
    package var segmentFileState: SegmentFileState? {
        segmentFD >= 0 ? SegmentFileState(fd: segmentFD) : nil
    }

    /// Appends one batch durably and atomically: afterwards the batch is wholly on disk, or the
    /// segment is as it was.
    /// - Parameter records: the records, each non-empty, without newlines, valid UTF-8 is not
    ///   checked here (the model does), at most ``SegmentFormat/maxRecordBytes`` each and
    ///   ``SegmentFormat/maxBatchBytes`` together.
    /// - Returns: the position of the new batch.
    /// - Throws: ``SegmentError`` `.invalidRecord`, `.diskFull`, `.io` (the segment is back at
    ///   its previous length), `.writerUnusable` (an earlier truncate failed; reopen).
    @discardableResult
    public func append<Record: Collection<UInt8>>(_ records: [Record]) throws -> SegmentPosition {
        try appendRecords(records)
    }

    /// Appends one batch of byte-array records durably and atomically, as the generic
    /// ``append(_:)`` does.
    ///
    /// The type `EventWriter` passes, specialised here, where the generic method, called from
    /// other modules, is not: its witness-table calls per record were a twentieth of a single
    /// append's CPU beyond `write` + `fdatasync`. Format.md §4–§5.
    /// - Parameter records: as for ``append(_:)``.
    /// - Returns: the position of the new batch.
    /// - Throws: ``SegmentError``, as ``append(_:)``.
    @discardableResult
    public func append(_ records: [[UInt8]]) throws -> SegmentPosition {
        try appendRecords(records)
    }

    private func appendRecords<Record: Collection<UInt8>>(_ records: [Record]) throws -> SegmentPosition {
        if let unusable {
            throw SegmentError(.writerUnusable, "This journal writer can no longer append: \(unusable) Reopen the journal; recovery will cut off the partial batch.")
        }
        guard !records.isEmpty else { throw SegmentError(.invalidRecord, "A batch needs at least one record.") }
        var payload: [UInt8] = []
        payload.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
        for (index, record) in records.enumerated() {
            guard !record.isEmpty else { throw SegmentError(.invalidRecord, "Record \(index + 1) of the batch is empty.") }
            guard record.count <= SegmentFormat.maxRecordBytes else {
                throw SegmentError(.invalidRecord, "Record \(index + 1) of the batch is \(record.count) bytes; a record may hold at most \(SegmentFormat.maxRecordBytes).")
            }
            // The generic method is not specialised for callers in other modules: scan and copy through
            // contiguous storage (memchr, memcpy), not byte by byte through the protocol.
            let newline: Bool? = record.withContiguousStorageIfAvailable { bytes in
                if memchr(bytes.baseAddress!, 0x0a, bytes.count) != nil { return true }
                payload.append(contentsOf: bytes)
                return false
            }
            if newline == nil {
                guard !record.contains(0x0a) else { throw SegmentError(.invalidRecord, "Record \(index + 1) of the batch contains a newline byte.") }
                payload.append(contentsOf: record)
            } else if newline == true {
                throw SegmentError(.invalidRecord, "Record \(index + 1) of the batch contains a newline byte.")
            }
            payload.append(0x0a)
        }
        guard payload.count <= SegmentFormat.maxBatchBytes else {
            throw SegmentError(.invalidRecord, "The batch is \(payload.count) bytes; a batch may hold at most \(SegmentFormat.maxBatchBytes). Split it.")
        }
        let member = try payload.withUnsafeBytes {
            try BatchMember.encode(
                payload: $0, recordCount: records.count, deflater: deflater, second: secondDeflater, literalsBelow: options.literalsBelow)
        }
        return try write(member: member)
    }

    private func write(member: [UInt8]) throws -> SegmentPosition {
        if segmentNumber == 0 || (segmentLength > 0 && segmentLength + Int64(member.count) > options.segmentLimit) {
            try beginSegment()
        }
        let start = segmentLength
        let relative = SegmentDirectory.relativeSegmentPath(segmentNumber)
        var done = 0
        let failure: (code: SegmentError.Code, errno: Int32, what: String)? = member.withUnsafeBytes { raw in
            while done < raw.count {
                let wrote = options.io.write(fd: segmentFD, bytes: UnsafeRawBufferPointer(rebasing: raw[done...]), at: start + Int64(done))
                if wrote == -Int(EINTR) { continue }
                if wrote < 0 {
                    let number = Int32(-wrote)
                    return (Self.isDiskFull(number) ? .diskFull : .io, number, "write")
                }
                if wrote == 0 { return (.io, EIO, "write") }
                done += wrote
            }
            let synced = options.io.sync(fd: segmentFD)
            // A full disk or quota can surface at fdatasync too (NFS, thin provisioning).
            if synced != 0 { return (Self.isDiskFull(-synced) ? .diskFull : .io, -synced, "fdatasync") }
            return nil
        }
        guard let failure else {
            segmentLength = start + Int64(member.count)
            return SegmentPosition(segment: segmentNumber, offset: start)
        }
        // Put the segment back exactly as it was, and make that durable (Format.md §5).
        let restored = options.io.truncate(fd: segmentFD, to: start) == 0 && options.io.sync(fd: segmentFD) == 0
        if !restored {
            unusable = "a failed \(failure.what) could not be undone by truncating '\(relative)' to \(start) bytes."
        }
        let cause = Errno(failure.errno)
        let advice = failure.code == .diskFull ? "Free space on the disk and append again." : "Check the disk and append again."
        throw SegmentError(
            failure.code,
            "Could not append a batch to '\(relative)' at byte \(start): \(failure.what) failed (\(cause)); \(restored ? "the segment is back at its previous length and nothing was written." : "the segment could not be restored; the next open will cut the partial batch off.") \(advice)",
            path: relative, offset: start, underlying: cause)
    }

    /// `ENOSPC` (no space) and `EDQUOT` (quota exceeded) both mean "free space and retry".
    private static func isDiskFull(_ number: Int32) -> Bool { number == ENOSPC || number == EDQUOT }

    private func beginSegment() throws {
        let next = segmentNumber + 1
        var info = stat()
        let path = directory.segmentPath(next)
        // An empty next segment may be left by an earlier attempt whose directory sync failed.
        let reuse = stat(path, &info) == 0 && info.st_size == 0
        let fd = try Self.openSegment(path, create: !reuse)
        do {
            try FileBytes.syncDirectory(directory.path + "/" + SegmentFormat.segmentsFolder)
        } catch {
            Glibc.close(fd)
            throw error
        }
        if segmentFD >= 0 { Glibc.close(segmentFD) }
        segmentFD = fd
        segmentNumber = next
        segmentLength = 0
    }

    private static func openSegment(_ path: String, create: Bool) throws -> Int32 {
        let flags = create ? (O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC) : (O_RDWR | O_CLOEXEC)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            throw SegmentError(.io, "Cannot open the segment '\(path)' for writing: \(Errno(errno)).", path: path, underlying: Errno(errno))
        }
        if create, fsync(fd) != 0 {
            Glibc.close(fd)
            throw SegmentError(.io, "Cannot sync the new segment '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno))
        }
        return fd
    }

    /// Format.md §6: walk the last segment; a torn or corrupt last batch (or junk after it) is
    /// copied to quarantine and cut off; damage with valid batches after it is refused.
    private static func recoverTail(directory: SegmentDirectory, segment: Int, io: any SegmentIO, from start: Int64 = 0) throws -> RecoveryReport? {
        let relative = SegmentDirectory.relativeSegmentPath(segment)
        let scanner = try SegmentScanner(path: directory.segmentPath(segment), relativePath: relative)
        var payload: [UInt8] = []
        var newlines: [Int] = []
        var records = 0
        if start > 0, start <= scanner.size { scanner.seek(to: start) }
        while true {
            switch try scanner.next(into: &payload, newlines: &newlines) {
            case .end:
                return nil
            case .batch(_, _, let recordCount):
                records += recordCount
                continue
            case .invalid where start > 0:
                // Never cut on the strength of a hint: classify from the segment's start.
                return try recoverTail(directory: directory, segment: segment, io: io, from: 0)
            case .invalid(let invalid):
                let damage = try scanner.classify(invalid, inLastSegment: true)
                guard damage.kind == .tornTail else {
                    // Another version's member, or damage with a valid batch after it: refuse
                    // to open, changing nothing.
                    throw damage.error(
                        intactRecords: records,
                        consequence: damage.kind == .corrupt
                            ? "The journal is not written to until the damage is restored from a backup or a peer; run 'accord verify' for details."
                            : "Nothing was changed.")
                }
                return try quarantine(directory: directory, relative: relative, scanner: scanner, from: damage.offset, reason: damage.reason, io: io)
            }
        }
    }

    private static func quarantine(
        directory: SegmentDirectory, relative: String, scanner: SegmentScanner, from offset: Int64, reason: String, io: any SegmentIO
    ) throws -> RecoveryReport {
        let length = scanner.size - offset
        var tail = [UInt8](repeating: 0, count: Int(length))
        let got = tail.withUnsafeMutableBytes { pread(scanner.fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard got == Int(length) else {
            throw SegmentError(.io, "Cannot read the damaged tail of '\(relative)' at byte \(offset) to quarantine it.", path: relative, offset: offset)
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let segmentName = String(relative.split(separator: "/").last ?? "segment").dropLast(3)
        let nanos = String(now.tv_nsec)
        let name = "\(segmentName)-at-\(offset)-\(now.tv_sec).\(String(repeating: "0", count: max(0, 9 - nanos.count)) + nanos).tail"
        let quarantineRelative = SegmentFormat.quarantineFolder + "/" + name
        let quarantinePath = directory.path + "/" + quarantineRelative
        // The folder may be missing (git, for one, does not keep empty folders).
        if mkdir(directory.path + "/" + SegmentFormat.quarantineFolder, 0o755) == 0 {
            try FileBytes.syncDirectory(directory.path)
        }
        unlink(quarantinePath)
        try FileBytes.writeNew(quarantinePath, bytes: tail, mode: 0o644)
        let fd = open(directory.path + "/" + relative, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot open '\(relative)' to cut its damaged tail: \(Errno(errno)).", path: relative, underlying: Errno(errno)) }
        defer { Glibc.close(fd) }
        guard io.truncate(fd: fd, to: offset) == 0, io.sync(fd: fd) == 0 else {
            throw SegmentError(.io, "Cannot cut the damaged tail of '\(relative)' at byte \(offset): \(Errno(errno)).", path: relative, offset: offset, underlying: Errno(errno))
        }
        return RecoveryReport(segment: relative, validLength: offset, quarantinedBytes: length, quarantineFile: quarantineRelative, reason: reason)
    }
}

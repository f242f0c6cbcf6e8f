import Glibc

/// A damaged byte range found in a segment (Format.md §6).
public struct Damage: Sendable, Equatable, CustomStringConvertible {
    /// How the damage relates to the rest of the journal.
    public enum Kind: Sendable, Equatable {
        /// Invalid bytes at the end of the last segment, with no valid batch after them: what a
        /// write cut short by a crash leaves. A writer cuts them off into quarantine on open.
        case tornTail
        /// Invalid bytes with valid batches after them (in this segment or a later one). Never
        /// repaired automatically.
        case corrupt
    }

    public var kind: Kind
    /// Segment file, relative to the journal directory (`segments/00000001.gz`).
    public var segment: String
    /// Byte offset in the segment where the invalid bytes begin.
    public var offset: Int64
    /// How many bytes are invalid.
    public var length: Int64
    /// Why the first invalid batch was rejected.
    public var reason: String

    public var description: String {
        switch kind {
        case .tornTail:
            return "Incomplete or damaged last batch at byte \(offset) of '\(segment)' (\(length) bytes: \(reason)); the next append cuts it off into quarantine."
        case .corrupt:
            return "Damaged data at byte \(offset) of '\(segment)' (\(length) bytes: \(reason)); valid batches follow it, so it is not repaired automatically."
        }
    }
}

/// Reads the members of one segment file in order, by parsing each header and skipping exactly
/// the member's declared length — never by searching for the gzip magic bytes (Format.md §5).
/// Memory is bounded by one batch.
final class SegmentScanner {
    let fd: Int32
    let relativePath: String
    private(set) var size: Int64
    private(set) var offset: Int64 = 0
    private let inflater = Inflater()
    private var memberBuffer: [UInt8] = []

    enum Step {
        case batch(offset: Int64, length: Int, recordCount: Int)
        case end
        case invalid(offset: Int64, reason: String, unsupportedVersion: UInt16?)
    }

    init(path: String, relativePath: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SegmentError(.io, "Cannot open '\(relativePath)': \(Errno(errno)).", path: relativePath, underlying: Errno(errno))
        }
        self.fd = fd
        self.relativePath = relativePath
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = Errno(errno)
            close(fd)
            throw SegmentError(.io, "Cannot read the size of '\(relativePath)': \(error).", path: relativePath, underlying: error)
        }
        size = Int64(info.st_size)
    }

    deinit { close(fd) }

    /// Re-reads the file's size (for following a journal that grows).
    func refreshSize() {
        var info = stat()
        if fstat(fd, &info) == 0 { size = Int64(info.st_size) }
    }

    /// Moves to `offset` (which must be the start of a member or the end).
    func seek(to offset: Int64) { self.offset = offset }

    /// Reads the next member into `payload`: its records, each ending in a newline.
    func next(into payload: inout [UInt8]) throws -> Step {
        if offset == size { return .end }
        switch try readMember(at: offset, into: &payload) {
        case .success(let header):
            let start = offset
            offset += Int64(header.memberLength)
            return .batch(offset: start, length: header.memberLength, recordCount: header.recordCount)
        case .failure(let problem):
            return .invalid(offset: offset, reason: problem.reason, unsupportedVersion: problem.version)
        }
    }

    struct Problem: Error {
        var reason: String
        var version: UInt16?
    }

    /// Reads and checks the whole member at `position`.
    func readMember(at position: Int64, into payload: inout [UInt8]) throws -> Result<BatchMember.Header, Problem> {
        let remaining = size - position
        guard remaining >= Int64(BatchMember.headerLength) else {
            return .failure(Problem(reason: "only \(remaining) bytes remain, fewer than a batch header"))
        }
        var headerBytes = [UInt8](repeating: 0, count: BatchMember.headerLength)
        try readFully(&headerBytes, at: position)
        let header: BatchMember.Header
        switch headerBytes.withUnsafeBytes({ BatchMember.parseHeader($0) }) {
        case .success(let parsed): header = parsed
        case .failure(.notAMember(let why)): return .failure(Problem(reason: why))
        case .failure(.unsupportedVersion(let version)):
            return .failure(Problem(reason: "the batch has format version \(version)", version: version))
        }
        guard Int64(header.memberLength) <= remaining else {
            return .failure(Problem(reason: "the batch declares \(header.memberLength) bytes but only \(remaining) remain"))
        }
        guard header.memberLength <= SegmentFormat.maxBatchBytes + (SegmentFormat.maxBatchBytes >> 6) + 1024 else {
            return .failure(Problem(reason: "the batch declares \(header.memberLength) bytes, more than a batch may hold"))
        }
        if memberBuffer.count != header.memberLength {
            memberBuffer = [UInt8](repeating: 0, count: header.memberLength)
        }
        try readFully(&memberBuffer, at: position)
        let failure = memberBuffer.withUnsafeBytes {
            BatchMember.decodeBody($0, header: header, inflater: inflater, into: &payload)
        }
        if let failure { return .failure(Problem(reason: failure)) }
        return .success(header)
    }

    /// Looks for the first offset after `position` at which a complete, valid member starts.
    /// Used only to tell damage in the middle from a torn tail (Format.md §6), never to read.
    func findValidMember(after position: Int64) throws -> Int64? {
        var scratch: [UInt8] = []
        let window = 1 << 20
        var start = position + 1
        // Never more than what is left to search: zeroing a whole window for a small file
        // (a bundle, a damaged fixture) cost more than the search itself.
        var buffer = [UInt8](repeating: 0, count: Int(min(Int64(window), max(0, size - start))) + 3)
        while start + Int64(BatchMember.minimumLength) <= size {
            let count = Int(min(Int64(buffer.count), size - start))
            try readFully(&buffer, count: count, at: start)
            var index = 0
            while index + 3 < count {
                if buffer[index] == 0x1f, buffer[index + 1] == 0x8b, buffer[index + 2] == 0x08, buffer[index + 3] == 0x06 {
                    let candidate = start + Int64(index)
                    if case .success = try readMember(at: candidate, into: &scratch) { return candidate }
                }
                index += 1
            }
            start += Int64(max(1, count - 3))
        }
        return nil
    }

    private func readFully(_ buffer: inout [UInt8], count: Int? = nil, at position: Int64) throws {
        let wanted = count ?? buffer.count
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < wanted {
                let got = pread(fd, raw.baseAddress! + done, wanted - done, off_t(position + Int64(done)))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw SegmentError(.io, "Cannot read '\(relativePath)' at byte \(position + Int64(done)): \(Errno(errno)).",
                                       path: relativePath, offset: position + Int64(done), underlying: Errno(errno))
                }
                if got == 0 {
                    throw SegmentError(.io, "'\(relativePath)' became shorter while it was read (at byte \(position + Int64(done))).",
                                       path: relativePath, offset: position + Int64(done))
                }
                done += got
            }
        }
    }
}

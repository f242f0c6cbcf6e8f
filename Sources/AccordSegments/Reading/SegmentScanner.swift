import Glibc

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
    /// When set, each member read records its access points (kept in ``lastAccessPoints`` when
    /// its batch inflates to more than ``AccessPointOptions/minimumBatchBytes``).
    var accessPoints: AccessPointOptions?
    /// The access points of the member last read whole and valid (none unless ``accessPoints``).
    private(set) var lastAccessPoints: [AccessPoint] = []
    /// The trailer's CRC-32 of the member last read whole and valid.
    private(set) var lastChecksum: UInt32 = 0

    enum Step {
        /// A valid member; its payload and newlines were left in the caller's buffers.
        case batch(offset: Int64, length: Int, recordCount: Int)
        case end
        case invalid(Invalid)
    }

    /// The first invalid member met, before it is classified.
    struct Invalid {
        /// Where the invalid bytes begin.
        var offset: Int64
        /// Why the member there was rejected.
        var reason: String
        /// The format version of a member with a sound header of another version (Format.md §2).
        var otherVersion: UInt16?
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

    /// Reads the next member into `payload`: its records, each ending in a newline, whose
    /// offsets are left in `newlines`.
    func next(into payload: inout [UInt8], newlines: inout [Int]) throws -> Step {
        if offset == size { return .end }
        switch try readMember(at: offset, into: &payload, newlines: &newlines) {
        case .success(let header):
            let start = offset
            offset += Int64(header.memberLength)
            return .batch(offset: start, length: header.memberLength, recordCount: header.recordCount)
        case .failure(let problem):
            return .invalid(Invalid(offset: offset, reason: problem.reason, otherVersion: problem.version))
        }
    }

    /// Classifies the damage at an invalid member (Format.md §6): the one place that tells a
    /// member of another version, damage with a valid member after it and a torn tail apart.
    /// Each caller applies its own policy to the answer (a reader throws or stops, `verify`
    /// lists it and resumes, a writer cuts a torn tail off or refuses to open).
    ///
    /// - Parameters:
    ///   - invalid: what ``next(into:newlines:)`` returned.
    ///   - inLastSegment: whether this is the journal's last segment; only there can damage be
    ///     a torn tail.
    ///   - findingResume: probe for the next valid member even where the kind is already known
    ///     (damage in an earlier segment), to measure the damage and resume after it.
    /// - Throws: ``SegmentError`` `.io` when the probe cannot read.
    func classify(_ invalid: Invalid, inLastSegment: Bool, findingResume: Bool = false) throws -> SegmentDamage {
        var damage = SegmentDamage(
            kind: .tornTail, segment: relativePath, offset: invalid.offset, length: size - invalid.offset,
            resume: nil, reason: invalid.reason)
        if let version = invalid.otherVersion {
            damage.kind = .otherVersion(version)
            return damage
        }
        guard inLastSegment || findingResume else {
            damage.kind = .corrupt
            return damage
        }
        if let resume = try findValidMember(after: invalid.offset) {
            damage.kind = .corrupt
            damage.resume = resume
            damage.length = resume - invalid.offset
        } else if !inLastSegment {
            damage.kind = .corrupt
        }
        return damage
    }

    /// Why a member is invalid, as ``readMember(at:into:newlines:)`` found it.
    struct Problem: Error {
        var reason: String
        var version: UInt16?
    }

    /// Reads and checks the whole member at `position`.
    func readMember(at position: Int64, into payload: inout [UInt8], newlines: inout [Int]) throws -> Result<BatchMember.Header, Problem> {
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
        guard header.memberLength <= SegmentFormat.maxMemberBytes else {
            return .failure(Problem(reason: "the batch declares \(header.memberLength) bytes, more than a batch may hold"))
        }
        if memberBuffer.count != header.memberLength {
            memberBuffer = [UInt8](repeating: 0, count: header.memberLength)
        }
        try readFully(&memberBuffer, at: position)
        lastAccessPoints = []
        var recorder = accessPoints.map { AccessPointRecorder(span: $0.span) }
        let failure = memberBuffer.withUnsafeBytes { member in
            guard recorder != nil else {
                return BatchMember.decodeBody(member, header: header, inflater: inflater, into: &payload, newlines: &newlines)
            }
            return withUnsafeMutablePointer(to: &recorder!) {
                BatchMember.decodeBody(member, header: header, inflater: inflater, into: &payload, newlines: &newlines, points: $0)
            }
        }
        if let failure { return .failure(Problem(reason: failure)) }
        lastChecksum = memberBuffer.withUnsafeBytes { BatchMember.readLE32($0, at: header.memberLength - 8) }
        if let recorder, let options = accessPoints, payload.count > options.minimumBatchBytes { lastAccessPoints = recorder.points }
        return .success(header)
    }

    /// Looks for the first offset after `position` at which a complete, valid member starts.
    /// Used only to tell damage in the middle from a torn tail (Format.md §6), never to read.
    func findValidMember(after position: Int64) throws -> Int64? {
        var scratch: [UInt8] = []
        var scratchNewlines: [Int] = []
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
                    if case .success = try readMember(at: candidate, into: &scratch, newlines: &scratchNewlines) { return candidate }
                }
                index += 1
            }
            start += Int64(max(1, count - 3))
        }
        return nil
    }

    /// `count` bytes of the file from `position`.
    /// - Throws: ``SegmentError`` `.io`, also when the file ends before.
    func bytes(count: Int, at position: Int64) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        try readFully(&buffer, at: position)
        return buffer
    }

    /// Fills `buffer` from the file at `position`.
    /// - Throws: ``SegmentError`` `.io`, also when the file ends before.
    func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws {
        try readFully(into: buffer, count: buffer.count, at: position)
    }

    private func readFully(_ buffer: inout [UInt8], count: Int? = nil, at position: Int64) throws {
        let wanted = count ?? buffer.count
        try buffer.withUnsafeMutableBytes { try readFully(into: $0, count: wanted, at: position) }
    }

    private func readFully(into raw: UnsafeMutableRawBufferPointer, count wanted: Int, at position: Int64) throws {
        var done = 0
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

import CZlib

/// A place in a batch's DEFLATE data where inflating may start other than at its beginning, as
/// zlib's `examples/zran.c` keeps them: a deflate block boundary, the bits of its byte still to
/// be read, the number of uncompressed bytes before it, and the 32 KiB of output before it (the
/// window that back-references there may reach into). In memory only (Journal/UI.md §8); never
/// written to disk.
public struct AccessPoint: Sendable {
    /// The most bytes of output kept before a point: DEFLATE's whole window (RFC 1951 §2).
    public static let windowBytes = 32 << 10

    /// Bytes of the member's DEFLATE data (which starts at member byte 30, Format.md §4) wholly
    /// or partly read before the point: with ``bits`` > 0 the last of them still holds the
    /// point's first ``bits`` bits, in its high bits.
    public let compressedOffset: Int
    /// Bits (0–7) of the byte before ``compressedOffset`` that belong to the data after the point.
    public let bits: Int
    /// Bytes of the inflated batch before the point.
    public let uncompressedOffset: Int
    /// The last ``windowBytes`` of the inflated batch before the point (fewer near its start).
    public let window: [UInt8]

    /// A point as kept outside the reader that recorded it (the web view's index file,
    /// Journal/UI.md §8.1). ``SegmentDirectory/inflate(ranges:ofBatchAt:framing:points:)``
    /// checks it against its member before it uses it.
    /// - Parameters:
    ///   - compressedOffset: see ``compressedOffset``.
    ///   - bits: see ``bits`` (0–7).
    ///   - uncompressedOffset: see ``uncompressedOffset``.
    ///   - window: see ``window``: `min(uncompressedOffset, windowBytes)` bytes.
    public init(compressedOffset: Int, bits: Int, uncompressedOffset: Int, window: [UInt8]) {
        self.compressedOffset = compressedOffset
        self.bits = bits
        self.uncompressedOffset = uncompressedOffset
        self.window = window
    }
}

/// When the reader records ``AccessPoint``s of the batches it inflates (an option of
/// ``SegmentDirectory/batches(from:tolerateTornTail:accessPoints:)``, which only the web view's
/// index pass sets; Journal/UI.md §8).
///
/// Memory: at most ``AccessPoint/windowBytes`` (32 KiB) and 40 bytes per ``span`` of each batch
/// inflating to more than ``minimumBatchBytes`` — with the defaults, at most 3.2 % of those
/// batches' inflated size, and nothing for smaller batches.
public struct AccessPointOptions: Sendable {
    /// Batches inflating to more than this get access points (``minimumBatchBytes``' default).
    public static let defaultMinimumBatchBytes = 4 << 20
    /// The least output between two access points (``span``'s default): a read from one
    /// inflates at most this plus one deflate block before the bytes wanted.
    public static let defaultSpan = 1 << 20

    /// Only batches inflating to more bytes than this keep their points.
    public var minimumBatchBytes: Int
    /// The least output between two access points, in bytes (at least 1).
    public var span: Int

    /// - Parameters:
    ///   - minimumBatchBytes: see ``minimumBatchBytes``.
    ///   - span: see ``span``.
    public init(minimumBatchBytes: Int = defaultMinimumBatchBytes, span: Int = defaultSpan) {
        self.minimumBatchBytes = minimumBatchBytes
        self.span = max(1, span)
    }
}

/// What a batch's member says of itself, as read when it was inflated whole and checked: a
/// later read from an ``AccessPoint`` checks that the member still says the same before it
/// trusts the point (Journal/UI.md §8).
public struct BatchFraming: Sendable, Equatable {
    /// The header's `memberLength` (Format.md §4).
    public let memberLength: Int
    /// The header's `recordCount`.
    public let recordCount: Int
    /// The trailer's ISIZE: the inflated batch's length.
    public let inflatedSize: Int
    /// The trailer's CRC-32 of the inflated batch.
    public let checksum: UInt32

    /// What a member said of itself (usually ``Batch/framing``, which reads it).
    /// - Parameters:
    ///   - memberLength: the header's `memberLength`.
    ///   - recordCount: the header's `recordCount`.
    ///   - inflatedSize: the trailer's ISIZE.
    ///   - checksum: the trailer's CRC-32.
    public init(memberLength: Int, recordCount: Int, inflatedSize: Int, checksum: UInt32) {
        self.memberLength = memberLength
        self.recordCount = recordCount
        self.inflatedSize = inflatedSize
        self.checksum = checksum
    }
}

/// Collects access points while ``Inflater`` inflates a member.
struct AccessPointRecorder {
    let span: Int
    private(set) var points: [AccessPoint] = []
    private var last = 0

    init(span: Int) { self.span = span }

    mutating func reset() {
        points.removeAll()
        last = 0
    }

    /// At a block boundary after `output` (all output so far) and `compressedOffset` input bytes.
    mutating func note(compressedOffset: Int, bits: Int, output: UnsafeRawBufferPointer) {
        let out = output.count
        guard out - last >= span else { return }
        let kept = min(out, AccessPoint.windowBytes)
        points.append(AccessPoint(
            compressedOffset: compressedOffset, bits: bits, uncompressedOffset: out,
            window: Array(UnsafeRawBufferPointer(rebasing: output[(out - kept)..<out]))))
        last = out
    }
}

extension SegmentDirectory {
    /// Bytes of the compressed data read at once by ``inflate(ranges:ofBatchAt:framing:points:)``.
    static let accessReadBytes = 64 << 10

    /// Parts of one batch's inflated bytes, inflated from the nearest ``AccessPoint`` before each
    /// rather than from the member's start (zlib's `zran.c`: `inflatePrime` for the bits,
    /// `inflateSetDictionary` with the window), and only as far as each part's end.
    ///
    /// The member must still frame as `framing` says (its header's length and record count, its
    /// trailer's CRC-32 and ISIZE). Its CRC-32 covers the whole batch, so it cannot be checked
    /// here: the caller checks what the bytes mean (the web view: each record's id, which hashes
    /// its content, Format.md §7.3) and reads the whole member when they do not check
    /// (Journal/UI.md §8). Memory: the parts, one window, and 128 KiB of buffers.
    ///
    /// ```swift
    /// let batch = try #require(try directory.batches(accessPoints: AccessPointOptions()).next())
    /// let record = batch.records[7]
    /// let bytes = try directory.inflate(ranges: [record.startIndex..<record.endIndex], ofBatchAt: batch.position,
    ///                                   framing: batch.framing, points: batch.accessPoints)[0]
    /// ```
    /// - Complexity: per run of ranges, at most the span between points plus one deflate block
    ///   inflated before the first byte wanted; never more than the whole member for ascending
    ///   ranges that do not overlap.
    /// - Parameters:
    ///   - ranges: byte ranges of the inflated batch, each within `0..<framing.inflatedSize`, in
    ///     any order; ascending ones are inflated in one run where no nearer point lies between.
    ///   - position: where the member starts.
    ///   - framing: what the member said when the points were recorded.
    ///   - points: the member's access points, ascending, as ``Batch/accessPoints`` gave them;
    ///     with none, each run starts at the member's start.
    /// - Returns: the bytes of each range, in the order of `ranges`.
    /// - Throws: ``SegmentError`` `.corrupt` when the member no longer frames as `framing` says,
    ///   or its data does not inflate from a point (naming the segment and byte offset);
    ///   `.invalidRecord` for a range outside the batch; `.io`.
    public func inflate(ranges: [Range<Int>], ofBatchAt position: SegmentPosition, framing: BatchFraming, points: [AccessPoint]) throws -> [[UInt8]] {
        let relative = Self.relativeSegmentPath(position.segment)
        for range in ranges where range.lowerBound < 0 || range.upperBound > framing.inflatedSize {
            throw SegmentError(.invalidRecord, "Bytes \(range.lowerBound)..<\(range.upperBound) lie outside the batch at byte \(position.offset) of '\(relative)' (\(framing.inflatedSize) bytes inflated).", path: relative, offset: position.offset)
        }
        let file = try SegmentScanner(path: segmentPath(position.segment), relativePath: relative)
        func changed(_ why: String) -> SegmentError {
            SegmentError(.corrupt, "The batch at byte \(position.offset) of '\(relative)' is not as it was when indexed (\(why)); if the journal was restored from a backup, restart the program that read it, else run 'accord verify'.", path: relative, offset: position.offset)
        }
        let headerLength = BatchMember.headerLength, trailerLength = BatchMember.trailerLength
        guard framing.memberLength >= BatchMember.minimumLength, framing.memberLength <= SegmentFormat.maxMemberBytes,
              position.offset >= 0, position.offset + Int64(framing.memberLength) <= file.size else {
            throw changed("the segment ends before the batch's \(framing.memberLength) bytes")
        }
        let header = try file.bytes(count: headerLength, at: position.offset)
        switch header.withUnsafeBytes({ BatchMember.parseHeader($0) }) {
        case .success(let parsed):
            guard parsed.memberLength == framing.memberLength, parsed.recordCount == framing.recordCount else {
                throw changed("its header declares \(parsed.memberLength) bytes and \(parsed.recordCount) records")
            }
        case .failure:
            throw changed("no valid batch header starts there")
        }
        let trailer = try file.bytes(count: trailerLength, at: position.offset + Int64(framing.memberLength - trailerLength))
        let (crc, isize) = trailer.withUnsafeBytes { (BatchMember.readLE32($0, at: 0), BatchMember.readLE32($0, at: 4)) }
        guard crc == framing.checksum, Int(isize) == framing.inflatedSize else { throw changed("its trailer's CRC-32 or length differs") }

        let bodyStart = position.offset + Int64(headerLength)
        let bodyLength = framing.memberLength - headerLength - trailerLength
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.accessReadBytes, alignment: 8)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.accessReadBytes, alignment: 8)
        defer { input.deallocate(); scratch.deallocate() }
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SegmentError(.io, "zlib could not start a decompressor.")
        }
        defer { inflateEnd(&stream) }
        var fed = 0  // bytes of the DEFLATE data given to zlib
        var produced = 0  // bytes of the inflated batch made
        var started = false

        func broken(_ why: String) -> SegmentError {
            SegmentError(.corrupt, "The batch at byte \(position.offset) of '\(relative)' does not inflate from its access point (\(why), near byte \(bodyStart + Int64(fed)) of the segment); run 'accord verify'.", path: relative, offset: bodyStart + Int64(fed))
        }
        func begin(at point: AccessPoint?) throws {
            guard inflateReset(&stream) == Z_OK else { throw broken("zlib could not restart") }
            stream.avail_in = 0
            fed = point?.compressedOffset ?? 0
            produced = point?.uncompressedOffset ?? 0
            guard let point else { return }
            guard point.bits >= 0, point.bits < 8, point.compressedOffset >= (point.bits > 0 ? 1 : 0),
                  point.compressedOffset <= bodyLength, point.window.count <= AccessPoint.windowBytes else {
                throw broken("the access point lies outside the batch")
            }
            if point.bits > 0 {
                let byte = try file.bytes(count: 1, at: bodyStart + Int64(point.compressedOffset - 1))[0]
                guard inflatePrime(&stream, Int32(point.bits), Int32(byte >> (8 - point.bits))) == Z_OK else { throw broken("zlib refused the point's bits") }
            }
            if !point.window.isEmpty {
                let status = point.window.withUnsafeBytes {
                    inflateSetDictionary(&stream, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt($0.count))
                }
                guard status == Z_OK else { throw broken("zlib refused the point's window") }
            }
        }
        /// Inflates the next `count` bytes into `destination` (nil: into the scratch buffer, discarded).
        func pump(_ count: Int, into destination: UnsafeMutableRawPointer?) throws {
            var remaining = count
            while remaining > 0 {
                // With no input left zlib may still hold output (of a match it has decoded).
                if stream.avail_in == 0, fed < bodyLength {
                    let n = min(input.count, bodyLength - fed)
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: input[0..<n]), at: bodyStart + Int64(fed))
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(n)
                    fed += n
                }
                let room = destination == nil ? min(remaining, scratch.count) : remaining
                let target = destination.map { $0 + (count - remaining) } ?? scratch.baseAddress!
                stream.next_out = target.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(room)
                let available = stream.avail_in
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let made = room - Int(stream.avail_out)
                remaining -= made
                produced += made
                if made == 0, stream.avail_in == available, status == Z_OK || status == Z_BUF_ERROR {
                    // No progress with all input given: the data ends before the bytes wanted.
                    throw broken("the compressed data ends before byte \(produced) of the batch")
                }
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    continue
                case Z_STREAM_END:
                    if remaining > 0 { throw broken("the compressed data ends at byte \(produced) of the batch") }
                default:
                    let text = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw broken("invalid compressed data: \(text)")
                }
            }
        }

        var results = [[UInt8]](repeating: [], count: ranges.count)
        for i in ranges.indices.sorted(by: { ranges[$0].lowerBound < ranges[$1].lowerBound }) {
            let range = ranges[i]
            let point = points.last { $0.uncompressedOffset <= range.lowerBound }
            if !started || produced > range.lowerBound || (point?.uncompressedOffset ?? 0) > produced {
                try begin(at: point)
                started = true
            }
            try pump(range.lowerBound - produced, into: nil)
            results[i] = try [UInt8](unsafeUninitializedCapacity: range.count) { buffer, count in
                if range.count > 0 { try pump(range.count, into: UnsafeMutableRawPointer(buffer.baseAddress!)) }
                count = range.count
            }
        }
        return results
    }
}

extension BatchFraming {
    /// Bytes of the member's DEFLATE data: ``memberLength`` less the header (30 bytes) and the
    /// trailer (8; Format.md §4). An ``AccessPoint``'s ``AccessPoint/compressedOffset`` is at most this.
    public var deflateLength: Int { memberLength - BatchMember.headerLength - BatchMember.trailerLength }

    /// Whether a valid member can say this of itself (Format.md §4): at least the smallest
    /// member and at most `MAX_MEMBER` bytes, at least one record, at most `MAX_BATCH` bytes
    /// inflated. For framings kept outside the reader (Journal/UI.md §8.1).
    public var isPossible: Bool {
        memberLength >= BatchMember.minimumLength && memberLength <= SegmentFormat.maxMemberBytes
            && recordCount >= 1 && inflatedSize >= recordCount && inflatedSize <= SegmentFormat.maxBatchBytes
    }
}

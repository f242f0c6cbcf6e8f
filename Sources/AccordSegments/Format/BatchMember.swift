import AccordParallel
import Glibc

/// Encoding and decoding of one batch as one gzip member (RFC 1952), as `Journal/Format.md` §4
/// lays it out byte by byte:
///
/// ```
/// offset size  field
///  0     2     ID1 ID2       1f 8b
///  2     1     CM            08 (deflate)
///  3     1     FLG           06 (FHCRC | FEXTRA)
///  4     4     MTIME         00 00 00 00
///  8     1     XFL           00
///  9     1     OS            ff (unknown)
/// 10     2     XLEN          16 (little-endian)
/// 12     2     SI1 SI2       'A' 'J'
/// 14     2     LEN           12
/// 16     2     version       format version (1)
/// 18     2     reserved      0
/// 20     4     memberLength  bytes of the whole member, header to trailer
/// 24     4     recordCount   records (lines) in the batch
/// 28     2     HCRC          low 16 bits of the CRC-32 of bytes 0..<28
/// 30     n     raw DEFLATE data (RFC 1951)
/// 30+n   4     CRC32         of the uncompressed batch
/// 34+n   4     ISIZE         uncompressed length
/// ```
enum BatchMember {
    static let headerLength = 30
    static let trailerLength = 8
    static let minimumLength = headerLength + 3 + trailerLength  // a batch's DEFLATE data is at least 3 bytes
    static let magic: [UInt8] = [0x1f, 0x8b, 0x08, 0x06]

    /// Fixed header bytes 0..<20; the version is filled in at 16.
    static func fixedHeader(version: UInt16) -> [UInt8] {
        [
            0x1f, 0x8b, 0x08, 0x06, 0, 0, 0, 0, 0x00, 0xff,
            16, 0, UInt8(ascii: "A"), UInt8(ascii: "J"), 12, 0,
            UInt8(truncatingIfNeeded: version), UInt8(truncatingIfNeeded: version >> 8), 0, 0,
        ]
    }

    /// Batches at least this large are compressed in two halves on two threads.
    static let parallelThreshold = 64 << 10

    /// Builds the member for `payload` (the records, each followed by `\n`).
    ///
    /// With a `second` deflater and a payload of at least ``parallelThreshold`` bytes, the two
    /// halves are compressed at once on two threads: the first ends with a sync flush (byte
    /// aligned, not final), the second starts with the first's last 32 KiB as its preset
    /// dictionary and ends the stream. Joined, they are one raw DEFLATE stream (Format.md §4,
    /// "Compression"), as `pigz` makes them; readers see no difference. A payload of fewer than
    /// `literalsBelow` bytes is not compressed: it is written as literals in one fixed-Huffman
    /// block (``LiteralBlock``, Decision 0025).
    static func encode(
        payload: UnsafeRawBufferPointer, recordCount: Int, deflater: Deflater, second: Deflater? = nil,
        literalsBelow: Int = SegmentFormat.literalsBelow
    ) throws -> [UInt8] {
        var member = fixedHeader(version: SegmentFormat.version)
        member.reserveCapacity(payload.count / 2 + 64)
        member.append(contentsOf: [0, 0, 0, 0])  // memberLength, patched below
        appendLE32(UInt32(recordCount), to: &member)
        member.append(contentsOf: [0, 0])  // HCRC, patched below
        let crc: UInt32
        if payload.count < literalsBelow {
            LiteralBlock.append(payload, to: &member)
            crc = crc32(of: payload)
        } else if let second, payload.count >= parallelThreshold {
            let middle = payload.count / 2
            // Each thread also takes the CRC-32 of its half; the two are combined below
            // (`crc32_combine`), so the whole batch is not read a third time on one core.
            let halves = ParallelSlots.map(2) { part in
                Result<(compressed: [UInt8], crc: UInt32), Error> {
                    var output: [UInt8] = []
                    if part == 0 {
                        let half = UnsafeRawBufferPointer(rebasing: payload[..<middle])
                        try deflater.compress(half, appendingTo: &output, dictionary: nil, final: false)
                        return (output, crc32(of: half))
                    } else {
                        let half = UnsafeRawBufferPointer(rebasing: payload[middle...])
                        try second.compress(
                            half, appendingTo: &output,
                            dictionary: UnsafeRawBufferPointer(rebasing: payload[..<middle]), final: true)
                        return (output, crc32(of: half))
                    }
                }
            }
            let first = try halves[0].get(), last = try halves[1].get()
            member.reserveCapacity(headerLength + first.compressed.count + last.compressed.count + trailerLength)
            member.append(contentsOf: first.compressed)
            member.append(contentsOf: last.compressed)
            crc = crc32(combining: first.crc, last.crc, secondLength: payload.count - middle)
        } else {
            try deflater.compress(payload, appendingTo: &member)
            crc = crc32(of: payload)
        }
        appendLE32(crc, to: &member)
        appendLE32(UInt32(truncatingIfNeeded: payload.count), to: &member)
        let length = UInt32(member.count)
        member[20] = UInt8(truncatingIfNeeded: length)
        member[21] = UInt8(truncatingIfNeeded: length >> 8)
        member[22] = UInt8(truncatingIfNeeded: length >> 16)
        member[23] = UInt8(truncatingIfNeeded: length >> 24)
        let hcrc = member.withUnsafeBytes { crc32(of: UnsafeRawBufferPointer(rebasing: $0[0..<28])) }
        member[28] = UInt8(truncatingIfNeeded: hcrc)
        member[29] = UInt8(truncatingIfNeeded: hcrc >> 8)
        return member
    }

    /// What the fixed 30-byte header says, once checked.
    struct Header {
        var version: UInt16
        var memberLength: Int
        var recordCount: Int
    }

    enum HeaderProblem: Error {
        case notAMember(String)
        case unsupportedVersion(UInt16)
    }

    /// Checks the 30 header bytes: fixed fields, header CRC, version, and a plausible length.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer) -> Result<Header, HeaderProblem> {
        precondition(bytes.count >= headerLength)
        let expected = fixedHeader(version: 0)
        for index in 0..<16 where bytes[index] != expected[index] {
            return .failure(.notAMember("header byte \(index) is 0x\(hex(bytes[index])), expected 0x\(hex(expected[index]))"))
        }
        let hcrc = UInt16(bytes[28]) | UInt16(bytes[29]) << 8
        let computed = UInt16(truncatingIfNeeded: crc32(of: UnsafeRawBufferPointer(rebasing: bytes[0..<28])))
        guard hcrc == computed else { return .failure(.notAMember("the header checksum does not match")) }
        let version = UInt16(bytes[16]) | UInt16(bytes[17]) << 8
        guard bytes[18] == 0, bytes[19] == 0 else { return .failure(.notAMember("reserved header bytes are not zero")) }
        guard version == SegmentFormat.version else { return .failure(.unsupportedVersion(version)) }
        let length = Int(readLE32(bytes, at: 20))
        let count = Int(readLE32(bytes, at: 24))
        guard length >= minimumLength else { return .failure(.notAMember("the member length \(length) is too small")) }
        guard count >= 1 else { return .failure(.notAMember("the record count is zero")) }
        return .success(Header(version: version, memberLength: length, recordCount: count))
    }

    /// Decodes a whole member (exactly `header.memberLength` bytes) into `payload`.
    ///
    /// With `points`, access points are recorded in it while the body inflates (``AccessPoint``).
    /// The payload's newlines are found once, here: their offsets are left in `newlines` (one
    /// per record, in order), from which ``Batch`` cuts its records without scanning again.
    /// - Returns: nil on success, else why the member is invalid.
    static func decodeBody(
        _ member: UnsafeRawBufferPointer, header: Header, inflater: Inflater, into payload: inout [UInt8],
        newlines: inout [Int], points: UnsafeMutablePointer<AccessPointRecorder>? = nil
    ) -> String? {
        newlines.removeAll(keepingCapacity: true)
        let body = UnsafeRawBufferPointer(rebasing: member[headerLength..<(member.count - trailerLength)])
        // ISIZE (the trailer's last 4 bytes) says how long the batch should be; checked below.
        let expected = Int(readLE32(member, at: member.count - 4))
        switch inflater.decompress(body, into: &payload, limit: SegmentFormat.maxBatchBytes, expectedSize: expected, points: points) {
        case .invalid(let why): return why
        case .tooLarge: return "the batch inflates to more than \(SegmentFormat.maxBatchBytes) bytes"
        case .complete(let consumed, let unusedBits):
            guard consumed == body.count else {
                return "the compressed data ends \(body.count - consumed) bytes before the trailer"
            }
            // The padding bits after the end of the DEFLATE stream must be zero (Format.md §4);
            // no checksum covers them, so this is what catches a flip there.
            if unusedBits > 0, let last = body.last, last >> (8 - unusedBits) != 0 {
                return "the padding bits after the compressed data are not zero"
            }
        }
        let crc = readLE32(member, at: member.count - 8)
        let isize = readLE32(member, at: member.count - 4)
        let computed = payload.withUnsafeBytes { crc32(of: $0) }
        guard crc == computed else { return "the CRC-32 of the batch does not match" }
        guard isize == UInt32(truncatingIfNeeded: payload.count) else { return "the batch length (ISIZE) does not match" }
        guard payload.last == 0x0a else { return "the batch does not end with a newline" }
        // Lines found with memchr (a byte loop here cost a tenth of a replay). Every record is
        // at least two bytes with its newline, which bounds what a header may make us reserve.
        newlines.reserveCapacity(min(header.recordCount, payload.count / 2))
        let empty = payload.withUnsafeBytes { bytes -> Bool in
            let base = bytes.baseAddress!
            var start = 0
            while start < bytes.count, let found = memchr(base + start, 0x0a, bytes.count - start) {
                let newline = base.distance(to: UnsafeRawPointer(found))
                if newline == start { return true }
                newlines.append(newline)
                start = newline + 1
            }
            return false
        }
        if empty { return "the batch holds an empty record" }
        guard newlines.count == header.recordCount else {
            return "the batch holds \(newlines.count) records, its header says \(header.recordCount)"
        }
        return nil
    }

    static func appendLE32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    static func readLE32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

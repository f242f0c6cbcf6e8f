import AccordParallel
import Glibc

/// A standalone file of batches in the journal's member format (Format.md §4): what a bundle is
/// made of (SyncProtocol.md). Unlike a segment, a member file is written whole and read whole:
/// any invalid byte, a torn end included, makes the whole file invalid.
public enum MemberFile {
    /// Encodes `batches` (each a non-empty list of records) as consecutive gzip members.
    ///
    /// Members are independent DEFLATE streams, so a run of batches (at most ``windowBatches``
    /// of them, or ``windowBytes`` of records) is compressed at once, one member per task on
    /// every core, each with a compressor of its own: the bytes are exactly those of one
    /// compressor used for each member in turn. A large push was made on one core before
    /// (issue 16: 30,000 events, three members, 0.15 s of `deflate` at level 6).
    /// - Throws: ``SegmentError`` `.invalidRecord` for an empty batch or record, or a newline
    ///   (the first such batch, in order).
    public static func encode(_ batches: [[[UInt8]]], compressionLevel: Int32 = 6) throws -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        while start < batches.count {
            var end = start, bytes = 0
            repeat {
                bytes += batches[end].reduce(0) { $0 + $1.count + 1 }
                end += 1
            } while end < batches.count && end - start < windowBatches && bytes < windowBytes
            let payloads = try (start..<end).map { try payload(of: batches[$0], index: $0) }
            if payloads.count == 1 || bytes < BatchMember.parallelThreshold {
                let deflater = Deflater(level: compressionLevel)
                for (offset, payload) in payloads.enumerated() {
                    out += try payload.withUnsafeBytes { try BatchMember.encode(payload: $0, recordCount: batches[start + offset].count, deflater: deflater) }
                }
            } else {
                let members = ParallelSlots.map(payloads.count) { offset in
                    Result { try payloads[offset].withUnsafeBytes { try BatchMember.encode(payload: $0, recordCount: batches[start + offset].count, deflater: Deflater(level: compressionLevel)) } }
                }
                for member in members { out += try member.get() }
            }
            start = end
        }
        return out
    }

    /// How many batches ``encode(_:compressionLevel:)`` compresses at once, at most.
    static let windowBatches = 64
    /// How many bytes of records ``encode(_:compressionLevel:)`` holds uncompressed at once, about
    /// (a window is closed once it reaches them): 32 MiB.
    static let windowBytes = 32 << 20

    /// One batch's records, each followed by `\n`: a member's payload.
    private static func payload(of records: [[UInt8]], index: Int) throws -> [UInt8] {
        guard !records.isEmpty else { throw SegmentError(.invalidRecord, "Batch \(index + 1) of the file is empty.") }
        var payload: [UInt8] = []
        payload.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
        for record in records {
            guard !record.isEmpty, !record.contains(0x0a) else {
                throw SegmentError(.invalidRecord, "A record of batch \(index + 1) is empty or contains a newline.")
            }
            payload += record
            payload.append(0x0a)
        }
        return payload
    }

    /// Writes a member file durably and atomically (temporary file, `fsync`, rename).
    /// - Throws: ``SegmentError`` `.invalidRecord` as ``encode(_:compressionLevel:)``; `.io`.
    public static func write(_ batches: [[[UInt8]]], to path: String) throws {
        try FileBytes.writeAtomically(path, bytes: try encode(batches))
    }

    /// Reads every batch of a member file.
    /// - Parameter limit: the largest file accepted, in bytes.
    /// - Throws: ``SegmentError`` `.corrupt` naming the byte offset of the first invalid member
    ///   (a changed byte, a torn end, junk after the last member), `.io`.
    /// - Parameter inflatedLimit: the most uncompressed bytes accepted in all (a small file may
    ///   inflate enormously); beyond it the file is refused.
    /// - Parameter afterFirst: called with the first batch as soon as it is read, before any
    ///   other is inflated: it may throw to stop reading, and returns the most uncompressed bytes
    ///   accepted in all later batches (a bundle's header declares them, SyncProtocol.md §4.2).
    public static func read(_ path: String, limit: Int64 = 1 << 30, inflatedLimit: Int = 1 << 30, afterFirst: ((Batch) throws -> Int)? = nil) throws -> [Batch] {
        let scanner = try SegmentScanner(path: path, relativePath: path)
        guard scanner.size <= limit else {
            throw SegmentError(.invalidRecord, "'\(path)' is \(scanner.size) bytes, more than the \(limit) accepted.", path: path)
        }
        var batches: [Batch] = []
        var inflated = 0
        var laterLimit = Int.max
        while true {
            var payload: [UInt8] = []
            var newlines: [Int] = []
            switch try scanner.next(into: &payload, newlines: &newlines) {
            case .end:
                return batches
            case .batch(let offset, let length, _):
                inflated += payload.count
                guard inflated <= inflatedLimit, inflated <= laterLimit else {
                    throw SegmentError(.invalidRecord, "'\(path)' inflates to more than \(min(inflatedLimit, laterLimit)) bytes\(laterLimit < Int.max ? " (what its first batch declares)" : ""); it is refused.", path: path, offset: offset)
                }
                let batch = Batch(segment: 0, offset: offset, length: length, payload: payload, newlines: newlines)
                if batches.isEmpty, let afterFirst {
                    let declared = try afterFirst(batch)
                    laterLimit = declared >= Int.max - inflated ? Int.max : inflated + max(0, declared)
                }
                batches.append(batch)
            case .invalid(let invalid):
                throw SegmentError(.corrupt, "'\(path)' is damaged at byte \(invalid.offset) (\(invalid.reason)); nothing in it was used.", path: path, offset: invalid.offset)
            }
        }
    }
}

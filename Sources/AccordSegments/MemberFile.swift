import Glibc

/// A standalone file of batches in the journal's member format (Format.md §4): what a bundle is
/// made of (SyncProtocol.md). Unlike a segment, a member file is written whole and read whole:
/// any invalid byte, a torn end included, makes the whole file invalid.
public enum MemberFile {
    /// Encodes `batches` (each a non-empty list of records) as consecutive gzip members.
    ///
    /// A member of at least 64 KiB is compressed in two halves at once on two threads, as the
    /// segment writer compresses a batch (Format.md §4, "Compression"): each member's bytes
    /// depend on its records alone, so a file is exactly its batches' members made one by one.
    /// A large push was compressed on one core before (issue 16: 30,000 events, 0.15 s of
    /// `deflate` at level 6).
    /// - Throws: ``SegmentError`` `.invalidRecord` for an empty batch or record, or a newline
    ///   (the first such batch, in order).
    public static func encode(_ batches: [[[UInt8]]], compressionLevel: Int32 = 6) throws -> [UInt8] {
        let first = Deflater(level: compressionLevel), second = Deflater(level: compressionLevel)
        var out: [UInt8] = []
        for (index, records) in batches.enumerated() {
            let payload = try payload(of: records, index: index)
            out += try payload.withUnsafeBytes { try BatchMember.encode(payload: $0, recordCount: records.count, deflater: first, second: second) }
        }
        return out
    }

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

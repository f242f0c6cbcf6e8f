import AccordParallel
import Glibc

/// A standalone file of batches in the journal's member format (Format.md §4): what a bundle is
/// made of (SyncProtocol.md). Unlike a segment, a member file is written whole and read whole:
/// any invalid byte, a torn end included, makes the whole file invalid.
public enum MemberFile {
    /// Encodes `batches` (each a non-empty list of records) as consecutive gzip members.
    ///
    /// Each member is compressed whole by libdeflate (``WholeBufferDeflater``), several members
    /// at once on every core, in windows of at most ``windowBytes`` of records so that at most
    /// that much of the file is held twice (records and payloads) at a time. A member's bytes
    /// depend on its records and the level alone, so a file is exactly its batches' members
    /// made one by one. A 30,000-event push (12.5 MB of records, three members) took 0.15 s of
    /// zlib's `deflate` at level 6 on one core, then about 75 ms in halves on two (issue 16).
    /// - Parameter compressionLevel: libdeflate's level, 1 to 12 (6, its default, is about as
    ///   small as zlib's 9).
    /// - Throws: ``SegmentError`` `.invalidRecord` for an empty batch or record, or a newline
    ///   (the first such batch, in order); `.io` when libdeflate cannot make a compressor.
    public static func encode(_ batches: [[[UInt8]]], compressionLevel: Int32 = 6) throws -> [UInt8] {
        try encode(batches, compressionLevel: compressionLevel, windowBytes: windowBytes)
    }

    /// ``encode(_:compressionLevel:)`` in windows of at most `windowBytes` of records (tests
    /// check that the window changes no byte).
    package static func encode(_ batches: [[[UInt8]]], compressionLevel: Int32, windowBytes: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        while start < batches.count {
            // A window: at least one batch, then more while they fit in windowBytes.
            var end = start + 1, bytes = batches[start].reduce(0) { $0 + $1.count + 1 }
            while end < batches.count {
                let next = batches[end].reduce(0) { $0 + $1.count + 1 }
                guard bytes + next <= windowBytes else { break }
                bytes += next
                end += 1
            }
            // Each task joins its batches' records into a payload (checking them) and compresses
            // it; the first failure in batch order is the one thrown.
            let count = end - start, cores = max(1, min(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 64))
            let members = ParallelSlots.map(count, run: (count + cores - 1) / cores, state: {
                Result { try WholeBufferDeflater(level: compressionLevel) }
            }) { offset, compressor in
                Result<[UInt8], Error> {
                    let index = start + offset
                    return try payload(of: batches[index], index: index).withUnsafeBytes {
                        try BatchMember.encode(payload: $0, recordCount: batches[index].count, compressor: try compressor.get())
                    }
                }
            }
            for member in members { out += try member.get() }
            start = end
        }
        return out
    }

    /// At most this many bytes of records (each with its `\n`) are compressed at once by
    /// ``encode(_:compressionLevel:)``, unless one batch alone is larger (at most `MAX_BATCH`).
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

import AccordSegments
import AccordTesting
import Testing

/// Reading parts of a large batch from its access points (Journal/UI.md §8): what the web view's
/// event pages do instead of inflating a whole member of up to 64 MiB.
@Suite("Access points: parts of a large batch read from them")
struct AccessPointTests {
    /// Records of varied sizes, 12 bytes to nearly `MAX_RECORD`, of letters from a fixed
    /// pseudo-random sequence (so that they compress, but not to nothing): about 5.8 MiB.
    static func variedRecords() -> [[UInt8]] {
        let sizes = [37, 150_000, 900, 310_000, 12, 64_000, 5_000, 1_000_000, 2_100, 420_000]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out: [[UInt8]] = []
        for n in 0..<36 {
            var record = [UInt8](repeating: 0, count: sizes[n % sizes.count] + n)
            for i in record.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                record[i] = 0x61 + UInt8((state >> 59) & 15)  // 16 letters
            }
            out.append(record)
        }
        return out
    }

    /// One journal holding a small batch, then the large one (two halves deflated on two
    /// threads, the first ending with a sync flush), then another small one.
    static func makeJournal(at path: String, records: [[UInt8]]) throws -> SegmentDirectory {
        let directory = try SegmentDirectory.create(at: path)
        let writer = try SegmentWriter(directory: directory)
        try writer.append([Array("first".utf8)])
        try writer.append(records)
        try writer.append([Array("last".utf8)])
        return directory
    }

    /// The large batch, read whole with access points recorded.
    static func largeBatch(_ directory: SegmentDirectory, _ options: AccessPointOptions = AccessPointOptions()) throws -> Batch {
        var batches = try directory.batches(accessPoints: options)
        _ = try batches.next()
        return try #require(try batches.next())
    }

    @Test func everyRecordOfALargeTwoPartBatchReadFromItsAccessPointsIsWhatTheWholeReadGives() throws {
        let temp = TemporaryDirectory("access-points")
        defer { temp.remove() }
        let records = Self.variedRecords()
        let directory = try Self.makeJournal(at: temp.child("j"), records: records)
        let batch = try Self.largeBatch(directory)
        #expect(batch.payload.count > AccessPointOptions.defaultMinimumBatchBytes)
        #expect(batch.records.map(Array.init) == records)
        let points = batch.accessPoints
        #expect(points.count > 3)
        // At least a span apart, ascending, each with the 32 KiB before it.
        for (a, b) in zip([0] + points.map(\.uncompressedOffset), points.map(\.uncompressedOffset)) {
            #expect(b - a >= AccessPointOptions.defaultSpan)
        }
        for point in points {
            #expect(point.window == Array(batch.payload[(point.uncompressedOffset - AccessPoint.windowBytes)..<point.uncompressedOffset]))
        }
        // Some points fall inside a record, and some are not byte-aligned.
        let ranges = batch.records.map { $0.startIndex..<$0.endIndex }
        #expect(points.contains { p in ranges.contains { $0.lowerBound < p.uncompressedOffset && p.uncompressedOffset < $0.upperBound } })
        #expect(points.contains { $0.bits > 0 })
        // Each record alone, then all at once in another order, then pieces across points.
        for (n, range) in ranges.enumerated() {
            let read = try directory.inflate(ranges: [range], ofBatchAt: batch.position, framing: batch.framing, points: points)
            #expect(read == [Array(batch.payload[range])], "record \(n)")
        }
        let shuffled = ranges.indices.reversed().map { ranges[$0] } + [ranges[3]]
        let all = try directory.inflate(ranges: shuffled, ofBatchAt: batch.position, framing: batch.framing, points: points)
        #expect(all == shuffled.map { Array(batch.payload[$0]) })
        let across = points.map { ($0.uncompressedOffset - 10)..<($0.uncompressedOffset + 10) } + [0..<0, (batch.payload.count - 1)..<batch.payload.count]
        #expect(try directory.inflate(ranges: across, ofBatchAt: batch.position, framing: batch.framing, points: points) == across.map { Array(batch.payload[$0]) })
    }

    @Test func onlyAReaderAskedForThemRecordsAccessPointsAndOnlyForLargeBatches() throws {
        let temp = TemporaryDirectory("access-points-option")
        defer { temp.remove() }
        let directory = try Self.makeJournal(at: temp.child("j"), records: Self.variedRecords())
        var plain = try directory.batches()
        while let batch = try plain.next() { #expect(batch.accessPoints.isEmpty) }
        var asked = try directory.batches(accessPoints: AccessPointOptions())
        var counts: [Int] = []
        while let batch = try asked.next() { counts.append(batch.accessPoints.count) }
        #expect(counts.count == 3)
        #expect(counts.first == 0 && counts.dropFirst().first ?? 0 > 3 && counts.last == 0)
        // A batch no larger than the threshold keeps none, however small the span.
        let batch = try Self.largeBatch(directory, AccessPointOptions(minimumBatchBytes: 8 << 20, span: 64 << 10))
        #expect(batch.accessPoints.isEmpty)
        #expect(try Self.largeBatch(directory, AccessPointOptions(minimumBatchBytes: 1, span: 64 << 10)).accessPoints.count > 40)
    }

    @Test func aFlippedByteAfterAnAccessPointOrAChangedFramingIsAnErrorNeverACrash() throws {
        let temp = TemporaryDirectory("access-points-damage")
        defer { temp.remove() }
        let directory = try Self.makeJournal(at: temp.child("j"), records: Self.variedRecords())
        let batch = try Self.largeBatch(directory)
        let point = try #require(batch.accessPoints.dropFirst().first)
        let ranges = batch.records.map { $0.startIndex..<$0.endIndex }
        let segment = directory.path + "/segments/00000001.gz"
        // 200 bytes into the compressed data after the point: the bytes just after it no longer
        // inflate as they did (zlib's error, or other bytes: the caller's id check catches those).
        let flipped = Int(batch.offset) + 30 + point.compressedOffset + 200
        try FileDamage.flip(segment, at: flipped)
        var errors = 0
        for range in ranges where range.upperBound > point.uncompressedOffset {
            do {
                let read = try directory.inflate(ranges: [range], ofBatchAt: batch.position, framing: batch.framing, points: batch.accessPoints)
                if read != [Array(batch.payload[range])] { errors += 1 }
            } catch let error as SegmentError {
                #expect(error.code == .corrupt)
                errors += 1
            }
        }
        #expect(errors > 0)
        // The whole read sees it too.
        #expect(throws: SegmentError.self) { try readAll(directory) }
        try FileDamage.flip(segment, at: flipped)
        #expect(try readAll(directory).count == 38)
        // A member that no longer frames as indexed (a journal replaced under the reader).
        var other = batch.framing
        other = BatchFraming(memberLength: other.memberLength, recordCount: other.recordCount, inflatedSize: other.inflatedSize, checksum: other.checksum ^ 1)
        #expect(throws: SegmentError.self) {
            try directory.inflate(ranges: [ranges[5]], ofBatchAt: batch.position, framing: other, points: batch.accessPoints)
        }
        #expect(throws: SegmentError.self) {
            try directory.inflate(ranges: [ranges[5]], ofBatchAt: SegmentPosition(segment: 1, offset: batch.offset + 1), framing: batch.framing, points: batch.accessPoints)
        }
        #expect(throws: SegmentError.self) {
            try directory.inflate(ranges: [0..<(batch.payload.count + 1)], ofBatchAt: batch.position, framing: batch.framing, points: batch.accessPoints)
        }
    }
}

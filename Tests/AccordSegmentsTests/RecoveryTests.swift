import AccordSegments
import AccordTesting
import Foundation
import Testing

/// The size of the three-batch fixture's only segment, computed once.
private let threeBatchLength: Int = {
    let temp = TemporaryDirectory()
    guard let made = try? makeThreeBatchJournal(at: temp.child("j")) else { return 0 }
    return Int(made.1.last!.offset)
}()

@Suite("Recovery of torn tails and detection of damage")
struct RecoveryTests {
    @Test(arguments: 0...threeBatchLength)
    func truncatingAtAnyByteKeepsEveryCompleteBatch(cut: Int) throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        let original = try FileDamage.bytes(segment)
        try FileDamage.truncate(segment, to: cut)
        let kept = ends.filter { $0.offset <= Int64(cut) }
        let keptLength = kept.last?.offset ?? 0
        let expectedRecords = [0, 2, 5, 6][kept.count]

        let writer = try SegmentWriter(directory: directory)
        if Int64(cut) == keptLength {
            #expect(writer.recovery == nil)
        } else {
            let recovery = try #require(writer.recovery)
            #expect(recovery.validLength == keptLength)
            #expect(recovery.quarantinedBytes == Int64(cut) - keptLength)
            let quarantined = try FileDamage.bytes(directory.path + "/" + recovery.quarantineFile)
            #expect(quarantined == Array(original[Int(keptLength)..<cut]))
        }
        #expect(try FileDamage.bytes(segment).count == Int(keptLength))
        #expect(try readAll(directory).count == expectedRecords)
        try writer.append(records(["{\"after\":true}"]))
        let all = try readAll(directory)
        #expect(all.count == expectedRecords + 1)
        #expect(all.last == "{\"after\":true}")
    }

    @Test(arguments: 0..<threeBatchLength)
    func everySingleBitFlipAndByteInversionIsDetected(offset: Int) throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        for mask: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF] {
            let original = try FileDamage.bytes(segment)
            try FileDamage.flip(segment, at: offset, mask: mask)
            let report = try directory.scan { _ in }
            #expect(!report.isClean, "flip 0x\(String(mask, radix: 16)) at byte \(offset) went unnoticed")
            let damage = try #require(report.damages.first)
            let lastStart = ends[1].offset
            // Damage inside the last batch is a torn tail; anything earlier is corruption.
            #expect(damage.kind == (Int64(offset) >= lastStart ? .tornTail : .corrupt))
            #expect(damage.offset <= Int64(offset))
            try FileDamage.write(segment, original)
        }
    }

    @Test func zeroPaddingAfterTheLastBatchIsCutOffAsATornTail() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        try FileDamage.append(segment, [UInt8](repeating: 0, count: 512))
        let report = try directory.scan { _ in }
        #expect(report.damages.map(\.kind) == [.tornTail])
        #expect(report.records == 6)
        let writer = try SegmentWriter(directory: directory)
        #expect(writer.recovery?.quarantinedBytes == 512)
        #expect(writer.recovery?.validLength == ends.last!.offset)
        #expect(try readAll(directory).count == 6)
        #expect(try directory.scan { _ in }.isClean)
    }

    @Test func damageBeforeTheLastBatchIsReportedAndNeverRepaired() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        let damagedOffset = Int(ends[0].offset) + 40  // inside the second batch's compressed data
        try FileDamage.flip(segment, at: damagedOffset)
        let before = try FileDamage.bytes(segment)

        let report = try directory.scan { _ in }
        #expect(report.damages.count == 1)
        #expect(report.damages[0].kind == .corrupt)
        #expect(report.damages[0].offset == ends[0].offset)
        #expect(report.damages[0].segment == "segments/00000001.gz")
        #expect(report.records == 3)  // the first and the third batch are intact

        let openError = #expect(throws: SegmentError.self) { try SegmentWriter(directory: directory) }
        #expect(openError?.code == .corrupt)
        var batches = try directory.batches()
        _ = try batches.next()
        let readError = #expect(throws: SegmentError.self) { try batches.next() }
        #expect(readError?.code == .corrupt)
        #expect(readError?.offset == ends[0].offset)
        #expect(readError?.message.contains("2 earlier records are intact") == true)
        #expect(try FileDamage.bytes(segment) == before)
    }

    @Test func aTornTailIsToleratedByReadersAndReported() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        try FileDamage.truncate(directory.path + "/segments/00000001.gz", to: Int(ends.last!.offset) - 3)
        var batches = try directory.batches()
        var count = 0
        while let batch = try batches.next() { count += batch.records.count }
        #expect(count == 5)
        #expect(batches.tornTail?.kind == .tornTail)
        var strict = try directory.batches(tolerateTornTail: false)
        _ = try strict.next()
        _ = try strict.next()
        #expect(throws: SegmentError.self) { try strict.next() }
    }

    @Test func aCompleteBatchOfAnUnknownVersionIsRefusedNotCutOff() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        var bytes = try FileDamage.bytes(segment)
        let last = Int(ends[1].offset)
        bytes[last + 16] = 2  // version 2 …
        let crc = bytes[last..<(last + 28)].withUnsafeBytes { raw -> UInt32 in
            var c: UInt32 = 0xFFFF_FFFF
            for byte in raw {
                c ^= UInt32(byte)
                for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            }
            return ~c
        }
        bytes[last + 28] = UInt8(truncatingIfNeeded: crc)  // … with a valid header checksum
        bytes[last + 29] = UInt8(truncatingIfNeeded: crc >> 8)
        try FileDamage.write(segment, bytes)
        let error = #expect(throws: SegmentError.self) { try SegmentWriter(directory: directory) }
        #expect(error?.code == .unsupportedVersion)
        #expect(try FileDamage.bytes(segment) == bytes)
        var batches = try directory.batches()
        _ = try batches.next()
        _ = try batches.next()
        #expect(throws: SegmentError.self) { try batches.next() }
    }

    @Test func aMissingSegmentIsReported() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        var options = SegmentWriter.Options()
        options.segmentLimit = 50
        let writer = try SegmentWriter(directory: directory, options: options)
        for n in 0..<4 { try writer.append(records(["{\"n\":\(n)}"])) }
        try FileManager.default.removeItem(atPath: directory.path + "/segments/00000002.gz")
        let report = try directory.scan { _ in }
        #expect(!report.isClean)
        #expect(report.problems.first?.contains("00000002.gz") == true)
    }
}

import AccordSegments
import AccordTesting
import Foundation
import Testing

@Suite("Appending and reading batches")
struct AppendAndReadTests {
    @Test func appendedRecordsAreReadBackInOrder() throws {
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        #expect(try readAll(directory) == (1...6).map { "{\"n\":\($0)}" })
    }

    @Test func readingContinuesAcrossSegmentsAfterRollover() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        var options = SegmentWriter.Options()
        options.segmentLimit = 200
        let writer = try SegmentWriter(directory: directory, options: options)
        for n in 0..<40 { try writer.append(records(["{\"record\":\(n),\"padding\":\"\(String(repeating: "x", count: n))\"}"])) }
        #expect(try directory.segmentNumbers().count > 5)
        let read = try readAll(directory)
        #expect(read.count == 40)
        #expect(read.last == "{\"record\":39,\"padding\":\"\(String(repeating: "x", count: 39))\"}")
    }

    @Test func aReopenedWriterAppendsAfterTheLastBatch() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        #expect(writer.recovery == nil)
        #expect(writer.end == ends.last)
        try writer.append(records(["{\"n\":7}"]))
        #expect(try readAll(directory).count == 7)
    }

    @Test func segmentsAreStandardGzipThatStockToolsRead() throws {
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        let segment = directory.path + "/segments/00000001.gz"
        let gzipTest = Process()
        gzipTest.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzipTest.arguments = ["-c", "gzip -t '\(segment)'"]
        try gzipTest.run()
        gzipTest.waitUntilExit()
        #expect(gzipTest.terminationStatus == 0)
        let zcat = Process()
        let out = Pipe()
        zcat.executableURL = URL(fileURLWithPath: "/bin/sh")
        zcat.arguments = ["-c", "zcat '\(segment)'"]
        zcat.standardOutput = out
        try zcat.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        zcat.waitUntilExit()
        #expect(text == (1...6).map { "{\"n\":\($0)}\n" }.joined())
    }

    @Test func aLargeBatchCompressedInTwoHalvesReadsBackAndStockGzipAcceptsIt() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        // About 300 KiB: above the 64 KiB from which the two halves are deflated on two threads.
        let texts = (0..<3_000).map { "{\"record\":\($0),\"text\":\"\(String(repeating: "accord ", count: 10 + $0 % 7))\"}" }
        try writer.append(records(texts))
        var serial = SegmentWriter.Options()
        serial.parallelCompression = false
        let other = try SegmentDirectory.create(at: temp.child("serial"))
        try SegmentWriter(directory: other, options: serial).append(records(texts))
        #expect(try readAll(directory) == texts)
        #expect(try directory.scan { _ in }.isClean)
        let segment = directory.path + "/segments/00000001.gz"
        // Not the bytes of one serial deflate, yet a stock gzip reads the same text.
        #expect(try FileDamage.bytes(segment) != FileDamage.bytes(other.path + "/segments/00000001.gz"))
        let zcat = Process()
        let out = Pipe()
        zcat.executableURL = URL(fileURLWithPath: "/bin/sh")
        zcat.arguments = ["-c", "gzip -t '\(segment)' && zcat '\(segment)'"]
        zcat.standardOutput = out
        try zcat.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        zcat.waitUntilExit()
        #expect(zcat.terminationStatus == 0)
        #expect(text == texts.map { $0 + "\n" }.joined())
    }

    @Test func recordsWithNewlinesOrEmptyRecordsAreRefused() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        #expect(throws: SegmentError.self) { try writer.append(records(["a\nb"])) }
        #expect(throws: SegmentError.self) { try writer.append(records([""])) }
        #expect(throws: SegmentError.self) { try writer.append([[UInt8]]()) }
        #expect(try directory.segmentNumbers().isEmpty || (try FileDamage.bytes(directory.path + "/segments/00000001.gz")).isEmpty)
    }

    @Test func anUnknownFormatVersionIsRefusedBeforeAnythingElse() throws {
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        try FileDamage.write(directory.path + "/FORMAT", Array("accord-journal 2\n".utf8))
        let error = #expect(throws: SegmentError.self) { try SegmentDirectory(opening: directory.path) }
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("version 2") == true)
    }

    @Test func aDirectoryWithoutFormatFileIsNotAJournal() throws {
        let temp = TemporaryDirectory()
        let error = #expect(throws: SegmentError.self) { try SegmentDirectory(opening: temp.path) }
        #expect(error?.code == .notAJournal)
    }

    @Test func aRecordHoldingGzipMagicBytesIsNotSplit() throws {
        // With compression level 0 the records' bytes stand verbatim in the segment; a record
        // holding a whole valid member must still be read as one record.
        let temp = TemporaryDirectory()
        let inner = TemporaryDirectory("inner")
        let innerDirectory = try SegmentDirectory.create(at: inner.child("j"))
        try SegmentWriter(directory: innerDirectory).append(records(["{\"inner\":true}"]))
        let member = try FileDamage.bytes(innerDirectory.path + "/segments/00000001.gz").filter { $0 != 0x0a }
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        var options = SegmentWriter.Options()
        options.compressionLevel = 0
        options.literalsBelow = 0  // zlib's stored blocks, not literal codes: the bytes verbatim
        let writer = try SegmentWriter(directory: directory, options: options)
        try writer.append([Array("x".utf8) + member + Array("y".utf8), Array("second".utf8)])
        var batches = try directory.batches()
        let batch = try #require(try batches.next())
        #expect(batch.records.count == 2)
        #expect(Array(batch.records[0]) == Array("x".utf8) + member + Array("y".utf8))
        #expect(try batches.next() == nil)
    }
}

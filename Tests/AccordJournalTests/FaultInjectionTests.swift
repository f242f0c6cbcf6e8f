import AccordJournal
import AccordTesting
import Foundation
import Testing

@Suite("Failed writes leave the journal as it was")
struct FaultInjectionTests {
    /// The member length of the batch `{"n":7}` appended by these tests.
    static let batch = records(["{\"n\":7}", "{\"n\":8}"])

    static let memberLength: Int = {
        let temp = TemporaryDirectory()
        guard let directory = try? JournalDirectory.create(at: temp.child("j")),
              let writer = try? JournalWriter(directory: directory),
              (try? writer.append(batch)) != nil else { return 0 }
        return Int(writer.end.offset)
    }()

    @Test(arguments: 0..<memberLength)
    func diskFullAtAnyByteOfABatchLeavesTheSegmentAtItsPreviousLength(budget: Int) throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = JournalWriter.Options()
        options.io = io
        let writer = try JournalWriter(directory: directory, options: options)
        io.set(.failWrites(afterBytes: budget, errno: ENOSPC))
        let error = #expect(throws: JournalError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .diskFull)
        #expect(error?.message.contains("at byte \(ends.last!.offset)") == true)
        #expect(try FileDamage.bytes(directory.path + "/segments/00000001.gz").count == Int(ends.last!.offset))
        io.set(.none)
        try writer.append(Self.batch)
        #expect(try readAll(directory).count == 8)
        #expect(try directory.scan { _ in }.isClean)
    }

    @Test func anIOErrorOnWriteIsReportedAndUndone() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = JournalWriter.Options()
        options.io = io
        let writer = try JournalWriter(directory: directory, options: options)
        io.set(.failWrites(afterBytes: 10, errno: EIO))
        let error = #expect(throws: JournalError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .io)
        #expect(try FileDamage.bytes(directory.path + "/segments/00000001.gz").count == Int(ends.last!.offset))
    }

    @Test func aFailedSyncTruncatesTheBatchAway() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = JournalWriter.Options()
        options.io = io
        let writer = try JournalWriter(directory: directory, options: options)
        io.set(.failSync(errno: EIO))
        let error = #expect(throws: JournalError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .io)
        #expect(error?.message.contains("fdatasync") == true)
        #expect(try FileDamage.bytes(directory.path + "/segments/00000001.gz").count == Int(ends.last!.offset))
        try writer.append(Self.batch)
        #expect(try readAll(directory).count == 8)
    }

    @Test func aWriterWhoseUndoFailedRefusesFurtherAppends() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = JournalWriter.Options()
        options.io = io
        let writer = try JournalWriter(directory: directory, options: options)
        io.failTruncate = true
        io.set(.failWrites(afterBytes: 12, errno: EIO))
        #expect(throws: JournalError.self) { try writer.append(Self.batch) }
        io.set(.none)
        let error = #expect(throws: JournalError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .writerUnusable)
        // The next writer's recovery cuts the partial batch off.
        io.failTruncate = false
        writer.close()
        let reopened = try JournalWriter(directory: directory)
        #expect(reopened.recovery?.validLength == ends.last!.offset)
        #expect(try readAll(directory).count == 6)
    }

    @Test func aSecondWriterWaitsAndThenReportsBusy() throws {
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        let first = try JournalWriter(directory: directory)
        var options = JournalWriter.Options()
        options.lockTimeout = 0.2
        let error = #expect(throws: JournalError.self) { try JournalWriter(directory: directory, options: options) }
        #expect(error?.code == .busy)
        _ = first
    }
}

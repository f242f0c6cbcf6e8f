import AccordSegments
import AccordTesting
import Foundation
import Testing

@Suite("Failed writes leave the journal as it was")
struct FaultInjectionTests {
    /// The member length of the batch `{"n":7}` appended by these tests.
    static let batch = records(["{\"n\":7}", "{\"n\":8}"])

    static let memberLength: Int = {
        let temp = TemporaryDirectory()
        guard let directory = try? SegmentDirectory.create(at: temp.child("j")),
              let writer = try? SegmentWriter(directory: directory),
              (try? writer.append(batch)) != nil else { return 0 }
        return Int(writer.end.offset)
    }()

    @Test(arguments: 0..<memberLength)
    func diskFullAtAnyByteOfABatchLeavesTheSegmentAtItsPreviousLength(budget: Int) throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try SegmentWriter(directory: directory, options: options)
        io.set(.failWrites(afterBytes: budget, errno: ENOSPC))
        let error = #expect(throws: SegmentError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .diskFull)
        #expect(error?.message.contains("at byte \(ends.last!.offset)") == true)
        #expect(try FileDamage.bytes(directory.path + "/segments/00000001.gz").count == Int(ends.last!.offset))
        io.set(.none)
        try writer.append(Self.batch)
        #expect(try readAll(directory).count == 8)
        #expect(try directory.scan { _ in }.isClean)
    }

    /// The fault campaign (issue 5, part 2): ENOSPC and EIO after every byte budget of a batch
    /// (a short write, then the error), short writes of every size (which must succeed), and a
    /// failed `fdatasync` with each errno a disk may give. After each: the right error code,
    /// the segment at its previous length, the next append works, the journal scans clean and
    /// holds exactly the records appended. Prints the counts.
    @Test func everyFaultAtEveryByteOfABatchLeavesAnUncorruptedJournal() throws {
        let length = Self.memberLength
        #expect(length > 40)
        var cases: [(name: String, fault: FaultInjectingIO.Fault, code: SegmentError.Code?)] = []
        for budget in 0..<length {
            cases.append(("ENOSPC after \(budget) bytes", .failWrites(afterBytes: budget, errno: ENOSPC), .diskFull))
            cases.append(("EDQUOT after \(budget) bytes", .failWrites(afterBytes: budget, errno: EDQUOT), .diskFull))
            cases.append(("EIO after \(budget) bytes", .failWrites(afterBytes: budget, errno: EIO), .io))
        }
        for size in 1...length { cases.append(("short writes of \(size) bytes", .shortWrites(maxBytes: size), nil)) }
        for number in [EIO, ENOSPC, EDQUOT, EROFS, EINVAL] {
            cases.append(("fdatasync failing with errno \(number)", .failSync(errno: number), number == ENOSPC || number == EDQUOT ? .diskFull : .io))
        }
        var injected = 0, corrupted = 0
        for trial in cases {
            let temp = TemporaryDirectory("fault")
            let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
            let io = FaultInjectingIO()
            var options = SegmentWriter.Options()
            options.io = io
            let writer = try SegmentWriter(directory: directory, options: options)
            io.set(trial.fault)
            var expected = 6
            var intact = true
            do {
                try writer.append(Self.batch)
                expected += 2
                if trial.code != nil { intact = false }
            } catch let error as SegmentError {
                if error.code != trial.code { intact = false }
                if !error.message.contains("at byte \(ends.last!.offset)") || !error.message.contains("nothing was written") { intact = false }
            }
            injected += io.injected
            if trial.code != nil, try FileDamage.bytes(directory.path + "/segments/00000001.gz").count != Int(ends.last!.offset) { intact = false }
            io.set(.none)
            try writer.append(Self.batch)
            expected += 2
            writer.close()
            let reopened = try SegmentWriter(directory: directory)
            if reopened.recovery != nil { intact = false }
            reopened.close()
            let all = try readAll(directory)
            let clean = try directory.scan { _ in }.isClean
            if all.count != expected || all.suffix(2) != ["{\"n\":7}", "{\"n\":8}"] || !clean { intact = false }
            if !intact { corrupted += 1 }
            #expect(intact, "\(trial.name)")
        }
        print("Fault injection: \(cases.count) trials on a \(length)-byte batch, \(injected) faults injected, \(corrupted) corrupted journals.")
        #expect(corrupted == 0)
        #expect(injected >= cases.count - 1)
    }

    @Test func anIOErrorOnWriteIsReportedAndUndone() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try SegmentWriter(directory: directory, options: options)
        io.set(.failWrites(afterBytes: 10, errno: EIO))
        let error = #expect(throws: SegmentError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .io)
        #expect(try FileDamage.bytes(directory.path + "/segments/00000001.gz").count == Int(ends.last!.offset))
    }

    @Test func aFailedSyncTruncatesTheBatchAway() throws {
        let temp = TemporaryDirectory()
        let (directory, ends) = try makeThreeBatchJournal(at: temp.child("j"))
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try SegmentWriter(directory: directory, options: options)
        io.set(.failSync(errno: EIO))
        let error = #expect(throws: SegmentError.self) { try writer.append(Self.batch) }
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
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try SegmentWriter(directory: directory, options: options)
        io.failTruncate = true
        io.set(.failWrites(afterBytes: 12, errno: EIO))
        #expect(throws: SegmentError.self) { try writer.append(Self.batch) }
        io.set(.none)
        let error = #expect(throws: SegmentError.self) { try writer.append(Self.batch) }
        #expect(error?.code == .writerUnusable)
        // The next writer's recovery cuts the partial batch off.
        io.failTruncate = false
        writer.close()
        let reopened = try SegmentWriter(directory: directory)
        #expect(reopened.recovery?.validLength == ends.last!.offset)
        #expect(try readAll(directory).count == 6)
    }

    @Test func aSecondWriterWaitsAndThenReportsBusy() throws {
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        let first = try SegmentWriter(directory: directory)
        var options = SegmentWriter.Options()
        options.lockTimeout = 0.2
        let error = #expect(throws: SegmentError.self) { try SegmentWriter(directory: directory, options: options) }
        #expect(error?.code == .busy)
        _ = first
    }
}

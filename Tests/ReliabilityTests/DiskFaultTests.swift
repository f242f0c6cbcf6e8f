@testable import AccordCLI
import AccordModel
import AccordReliability
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

@Suite("Disk faults surface with the right error and exit code, and leave the journal as it was")
struct DiskFaultTests {
    static let drafts: [EventDraft] = (0..<3).map {
        EventDraft(type: EventType("action.proposed.v1"), subject: try! Subject("action/fault-\($0)"),
                   data: JSONObject([("title", .string("Fault \($0)")), ("pillar", .string("supply-chain-resilience"))]))
    }

    /// Each fault through the whole model writer (signing, chaining) as `accord append` uses
    /// it: the error, its exit status, the segment length, the next append, verify.
    @Test(arguments: [
        (FaultInjectingIO.Fault.failWrites(afterBytes: 0, errno: ENOSPC), "disk-full", "Free space on the disk"),
        (.failWrites(afterBytes: 37, errno: ENOSPC), "disk-full", "Free space on the disk"),
        (.failWrites(afterBytes: 0, errno: EIO), "io", "Check the disk"),
        (.failWrites(afterBytes: 100, errno: EIO), "io", "Check the disk"),
        (.failSync(errno: EIO), "io", "fdatasync failed"),
        (.failSync(errno: ENOSPC), "disk-full", "fdatasync failed"),
    ])
    func aFaultyDiskGivesExitFiveAndLeavesTheJournalAsItWas(fault: FaultInjectingIO.Fault, code: String, words: String) throws {
        let temp = TemporaryDirectory("disk-fault")
        let journal = try EventJournal.create(at: temp.child("j"), site: try SiteID("brussels"))
        let first = try journal.openWriter()
        try first.append([Self.drafts[0]])
        first.close()
        let segment = temp.child("j") + "/segments/00000001.gz"
        let before = try FileDamage.bytes(segment)
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try journal.openWriter(options: options)
        io.set(fault)
        let error = #expect(throws: SegmentError.self) { try writer.append([Self.drafts[1], Self.drafts[2]]) }
        #expect(error?.code.name == code)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
        #expect(ExitStatus.of(error!) == .io)
        #expect(ExitStatus.io.rawValue == 5)
        #expect(try FileDamage.bytes(segment) == before)
        io.set(.none)
        let events = try writer.append([Self.drafts[1], Self.drafts[2]])
        #expect(events.map(\.seq.rawValue) == [2, 3])
        writer.close()
        #expect(try journal.verify().isClean)
    }

    /// ENOSPC and EIO after every byte of a real signed batch (three events, about 1 KB as a
    /// gzip member), through the writer `accord append` uses: each fails with exit status 5,
    /// leaves the segment byte for byte as it was, and the writer goes on; at the end the next
    /// append works and the journal verifies. Prints the counts.
    @Test func aFaultAfterEveryByteOfASignedBatchLeavesTheJournalAsItWas() throws {
        let temp = TemporaryDirectory("disk-sweep")
        let journal = try EventJournal.create(at: temp.child("j"), site: try SiteID("brussels"))
        let first = try journal.openWriter()
        try first.append([Self.drafts[0]])
        first.close()
        let segment = temp.child("j") + "/segments/00000001.gz"
        let before = try FileDamage.bytes(segment)
        let batch = (1...3).map { index in
            EventDraft(type: EventType("action.proposed.v1"), subject: try! Subject("action/sweep-\(index)"),
                       data: JSONObject([("title", .string("Sweep \(index)")), ("pillar", .string("value-chain-integration"))]))
        }
        // One clock reading for every attempt: each writes the same bytes, whose length is
        // measured on a copy of the journal.
        let now = Timestamp.now()
        try FileDamage.copyDirectory(temp.child("j"), to: temp.child("probe"))
        let probe = try EventJournal(opening: temp.child("probe")).openWriter()
        try probe.append(batch, now: now)
        probe.close()
        let memberLength = try FileDamage.bytes(temp.child("probe") + "/segments/00000001.gz").count - before.count
        #expect(memberLength > 500)
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let writer = try journal.openWriter(options: options)
        var trials = 0, injected = 0, corrupted = 0
        for number in [ENOSPC, EIO] {
            for budget in 0..<memberLength {
                io.set(.failWrites(afterBytes: budget, errno: number))
                trials += 1
                do {
                    _ = try writer.append(batch, now: now)
                    corrupted += 1  // a fault that did not surface
                } catch let error as SegmentError {
                    if ExitStatus.of(error) != .io || error.code != (number == ENOSPC ? .diskFull : .io) { corrupted += 1 }
                } catch {
                    corrupted += 1
                }
                injected = io.injected
                if try FileDamage.bytes(segment) != before { corrupted += 1 }
            }
        }
        io.set(.none)
        let events = try writer.append(batch, now: now)
        writer.close()
        #expect(try FileDamage.bytes(segment) == FileDamage.bytes(temp.child("probe") + "/segments/00000001.gz"))
        #expect(events.map(\.seq.rawValue) == [2, 3, 4])
        #expect(try journal.verify().isClean)
        print("Fault injection through the event writer: \(trials) faults (ENOSPC and EIO after every byte of a \(memberLength)-byte signed batch), \(injected) injected, \(corrupted) wrong outcomes or changed journals; the next append and verify succeeded.")
        #expect(corrupted == 0)
        #expect(injected == trials)
    }

    /// A real full disk: a small tmpfs, filled, then `accord append` in a child process.
    /// Needs `mount -t tmpfs` (root, or a container that allows it); otherwise prints why it
    /// skipped.
    @Test func aRealFullDiskRefusesTheAppendWithExitFiveAndTheNextAppendWorksOnceSpaceIsFreed() throws {
        let temp = TemporaryDirectory("enospc")
        let mountPoint = temp.child("tmpfs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], scratch: temp.path)
        guard mounted.status == 0 else {
            print("SKIPPED aRealFullDisk…: cannot mount a tmpfs here (mount exit \(mounted.status): \(mounted.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); the fault-injection tests cover ENOSPC instead.")
            return
        }
        defer { _ = try? ChildProcess.run("/bin/umount", ["-l", mountPoint], scratch: temp.path) }
        let journal = mountPoint + "/journal"
        #expect(try accordRun(["init", "--site", "brussels", "--journal", journal], temp).status == 0)
        let firstBatch = temp.child("first.jsonl"), bigBatch = temp.child("big.jsonl")
        try Data(batch(prefix: "first", count: 5).utf8).write(to: URL(fileURLWithPath: firstBatch))
        try Data(batch(prefix: "big", count: 400).utf8).write(to: URL(fileURLWithPath: bigBatch))
        #expect(try accordRun(["append", "--from", firstBatch, "--journal", journal], temp).status == 0)
        let segments = journal + "/segments"
        func journalBytes() throws -> [String: [UInt8]] {
            var result: [String: [UInt8]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: segments) { result[name] = try FileDamage.bytes(segments + "/" + name) }
            return result
        }
        let before = try journalBytes()
        // Fill the file system: big writes, then single bytes, until ENOSPC.
        let filler = mountPoint + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        var chunk = [UInt8](repeating: 0x5a, count: 65536)
        var filled = 0
        for size in [65536, 4096, 1] {
            while true {
                let wrote = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                if wrote <= 0 { break }
                filled += wrote
            }
        }
        let fillError = errno
        close(fd)
        chunk = []
        #expect(fillError == ENOSPC)
        let full = try accordRun(["append", "--from", bigBatch, "--journal", journal], temp)
        print("Real ENOSPC on a 2 MiB tmpfs (\(filled) filler bytes): exit \(full.status), \(full.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(full.status == 5)
        #expect(full.stderr.contains("No space left on device"))
        #expect(full.stderr.contains("Free space on the disk"))
        #expect(try journalBytes() == before)
        #expect(try accordRun(["verify", "--journal", journal], temp).status == 0)
        // Free the space: the same append now works and the journal verifies.
        #expect(unlink(filler) == 0)
        let again = try accordRun(["append", "--from", bigBatch, "--journal", journal], temp)
        #expect(again.status == 0, "\(again.stderr)")
        let verify = try accordRun(["verify", "--journal", journal], temp)
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("405 events"))
    }

    private func accordRun(_ arguments: [String], _ temp: TemporaryDirectory) throws -> ChildProcess.Output {
        try ChildProcess.run(AccordExecutable.path, arguments, scratch: temp.path)
    }

    private func batch(prefix: String, count: Int) -> String {
        (0..<count).map { #"{"type":"action.proposed.v1","subject":"action/\#(prefix)-\#($0)","data":{"title":"Action \#($0) \#(prefix) \#(String(repeating: "on lithium refining and hydrogen \($0 * 7919 % 1000) ", count: 3))","pillar":"supply-chain-resilience"}}"# }.joined(separator: "\n") + "\n"
    }
}

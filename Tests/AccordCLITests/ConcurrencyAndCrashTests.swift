import AccordSegments
import AccordTesting
import Foundation
import Testing

@Suite("Concurrent writers, killed processes, damage and exit codes")
struct ConcurrencyAndCrashTests {
    @Test func twoProcessesAppendingFiftyEventsEachGiveOneHundredAndAValidJournal() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let loop = { (name: String) in
            """
            i=0; while [ $i -lt 50 ]; do i=$((i+1));
              '\(AccordExecutable.path)' append action.proposed.v1 --journal '\(journal)' --subject action/\(name)-$i \
                --data '{"title":"Action '$i' of \(name)","pillar":"supply-chain-resilience"}' > /dev/null || exit 1;
            done
            """
        }
        let a = try AccordExecutable.start(["-c", loop("a")], executable: "/bin/sh")
        let b = try AccordExecutable.start(["-c", loop("b")], executable: "/bin/sh")
        a.waitUntilExit()
        b.waitUntilExit()
        #expect(a.terminationStatus == 0)
        #expect(b.terminationStatus == 0)
        #expect(try eventCount(journal) == 100)
        let verify = try accord(["verify"], journal: journal)
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("1…100"))
    }

    @Test func aProcessKilledWhileHoldingTheLockDoesNotBlockTheNextAppend() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let holder = try AccordExecutable.start(["-x", journal + "/LOCK", "sleep", "60"], executable: "/usr/bin/flock")
        try waitUntilLocked(journal + "/LOCK")
        let blocked = try accord(["append", "--from", "-"], journal: journal, input: stakeholder, environment: ["ACCORD_LOCK_TIMEOUT": "0.5"])
        #expect(blocked.status == 4, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("Another process"))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let after = try accord(["append", "--from", "-"], journal: journal, input: stakeholder, environment: ["ACCORD_LOCK_TIMEOUT": "5"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    /// A 20,000-event batch appended after one event, and how many bytes its append writes to
    /// the segments (measured by appending it once to a copy, without a crash point).
    private func killTarget(_ temp: TemporaryDirectory) throws -> (journal: String, big: String, batchBytes: Int) {
        let journal = try newJournal(temp)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: stakeholder).status == 0)
        let big = temp.child("big.jsonl")
        let lines = (0..<20_000).map { line("action.proposed.v1", "action/a-\($0)", #"{"title":"Joint action number \#($0) on battery value chains","pillar":"value-chain-integration"}"#) }
        try FileDamage.write(big, Array((lines.joined(separator: "\n") + "\n").utf8))
        let probe = temp.child("probe")
        try FileDamage.copyDirectory(journal, to: probe)
        let before = try segmentBytes(probe)
        let run = try accord(["append", "--from", big], journal: probe)
        #expect(run.status == 0, "\(run.stderr)")
        return (journal, big, try segmentBytes(probe) - before)
    }

    /// Where in the batch's bytes the append is killed: before the first byte, after 1, 2, 3
    /// bytes, a tenth, a quarter, a half, and all but one byte of it.
    enum CrashPoint: String, CaseIterable, Sendable {
        case none = "0", one = "1", two = "2", three = "3", tenth = "1/10", quarter = "1/4", half = "1/2", allButOne = "all-1"
        func bytes(of total: Int) -> Int {
            switch self {
            case .none: 0
            case .one: 1
            case .two: 2
            case .three: 3
            case .tenth: total / 10
            case .quarter: total / 4
            case .half: total / 2
            case .allButOne: -1  // the first write cut one byte short, whatever the batch's exact size
            }
        }
    }

    @Test(arguments: CrashPoint.allCases)
    func anAppendKilledPartWayThroughWritingItsBatchLeavesNoneOfIt(point: CrashPoint) throws {
        let temp = TemporaryDirectory()
        let target = try killTarget(temp)
        let crashAt = point.bytes(of: target.batchBytes)
        #expect(target.batchBytes > 1_000, "the batch is \(target.batchBytes) bytes")
        // The probe's batch and this one differ by a few bytes (times, hlc, signature compress
        // differently); the points are fractions of it, and all-but-one is cut from the end.
        let process = try AccordExecutable.start(["append", "--from", target.big, "--journal", target.journal],
                                                 environment: [CrashPointIO.crashAfterBytesVariable: String(crashAt)])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                "the append was to be killed after \(crashAt) of \(target.batchBytes) bytes; it exited \(process.terminationStatus)")
        // Readers see only the batch acknowledged before; verify names the partial batch as a torn
        // tail (exit 3, Format.md §6), never as damage in the middle; nothing was written at 0 bytes.
        let verify = try accord(["verify"], journal: target.journal)
        if crashAt == 0 {
            #expect(verify.status == 0, "\(verify.output)")
        } else {
            #expect(verify.status == 3, "\(verify.output)")
            #expect(verify.output.contains("Incomplete or damaged last batch"), "\(verify.output)")
            #expect(!verify.output.contains("Damaged data"), "\(verify.output)")
        }
        #expect(try eventCount(target.journal) == 1, "killed after \(crashAt) of \(target.batchBytes) bytes")
        // The next writer cuts the partial batch off into quarantine/ and appends after the last kept event.
        let next = line("action.proposed.v1", "action/after-the-kill", #"{"title":"After","pillar":"supply-chain-resilience"}"#)
        let appended = try accord(["append", "--from", "-"], journal: target.journal, input: next)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(try eventCount(target.journal) == 2)
        #expect(try accord(["verify"], journal: target.journal).status == 0)
        let quarantined = (try? FileManager.default.contentsOfDirectory(atPath: target.journal + "/quarantine")) ?? []
        #expect(quarantined.isEmpty == (crashAt == 0), "quarantine holds \(quarantined) after a kill at \(crashAt) bytes")
    }

    @Test func anAppendKilledAfterWritingItsWholeBatchButBeforeFdatasyncKeepsAllOfItOrNone() throws {
        // The bytes are in the page cache, not yet durable and not acknowledged: the recovery
        // that the next writer runs finds the whole batch, which is valid, and keeps it.
        let temp = TemporaryDirectory()
        let target = try killTarget(temp)
        let process = try AccordExecutable.start(["append", "--from", target.big, "--journal", target.journal],
                                                 environment: [CrashPointIO.crashBeforeSyncVariable: "1"])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        let next = line("action.proposed.v1", "action/after-the-kill", #"{"title":"After","pillar":"supply-chain-resilience"}"#)
        #expect(try accord(["append", "--from", "-"], journal: target.journal, input: next).status == 0)
        #expect(try accord(["verify"], journal: target.journal).status == 0)
        let count = try eventCount(target.journal)
        #expect(count == 2 || count == 20_002, "\(count) events: a batch must be all or nothing")
    }

    @Test func damageMakesVerifyFailWithExitCodeThreeAndNamesTheOffset() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        let segment = temp.child("j") + "/segments/00000001.gz"
        try FileDamage.flip(segment, at: 100)
        let verify = try accord(["verify"], journal: temp.child("j"))
        #expect(verify.status == 3)
        #expect(verify.output.contains("segments/00000001.gz"))
        #expect(verify.output.contains("at byte 0"))
        let log = try accord(["log", "--json"], journal: temp.child("j"))
        #expect(log.status == 3)
        let append = try accord(["append", "--from", "-"], journal: temp.child("j"), input: stakeholder)
        #expect(append.status == 3)
    }

    @Test(arguments: Array(stride(from: 0, to: 1633, by: 7)))
    func everySeventhByteFlippedMakesTheVerifyCommandFail(offset: Int) throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        let segment = temp.child("j") + "/segments/00000001.gz"
        guard offset < (try FileDamage.bytes(segment)).count else { return }
        try FileDamage.flip(segment, at: offset)
        let verify = try accord(["verify"], journal: temp.child("j"))
        #expect(verify.status == 3, "flip at \(offset): \(verify.output)")
    }

    @Test func aTornTailIsCutOffByTheNextAppendAndKeptInQuarantine() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        let journal = temp.child("j")
        try FileDamage.append(journal + "/segments/00000001.gz", [UInt8](repeating: 0, count: 512))
        let verify = try accord(["verify"], journal: journal)
        #expect(verify.status == 3)
        #expect(verify.output.contains("next append cuts it off"))
        let append = try accord(["append", "--from", "-"], journal: journal, input: stakeholder)
        #expect(append.status == 0)
        #expect(append.stderr.contains("512 bytes"))
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: journal + "/quarantine")
        #expect(quarantined.count == 1)
        #expect(try accord(["verify"], journal: journal).status == 0)
        #expect(try eventCount(journal) == 7)
    }
}

/// The bytes of all segment files of `journal`.
private func segmentBytes(_ journal: String) throws -> Int {
    let directory = journal + "/segments"
    return try FileManager.default.contentsOfDirectory(atPath: directory).reduce(0) { sum, name in
        sum + ((try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0)
    }
}

/// Waits until another process holds `path` locked (`flock -n` fails on it), for at most 10 s.
private func waitUntilLocked(_ path: String) throws {
    for _ in 0..<200 {
        if FileManager.default.fileExists(atPath: path) {
            let probe = try AccordExecutable.start(["-n", path, "true"], executable: "/usr/bin/flock")
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { return }
        }
        usleep(50_000)
    }
    Issue.record("no process took the lock \(path) within 10 s")
    throw CancellationError()
}

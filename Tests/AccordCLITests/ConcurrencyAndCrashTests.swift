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
        usleep(300_000)
        let blocked = try accord(["append", "--from", "-"], journal: journal, input: stakeholder, environment: ["ACCORD_LOCK_TIMEOUT": "0.5"])
        #expect(blocked.status == 4, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("Another process"))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let after = try accord(["append", "--from", "-"], journal: journal, input: stakeholder, environment: ["ACCORD_LOCK_TIMEOUT": "5"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test(arguments: [0.05, 0.15, 0.3, 0.6, 1.0])
    func anAppendKilledAtAnyMomentLeavesAllOrNothingOfItsBatch(delay: Double) throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: stakeholder).status == 0)
        let big = temp.child("big.jsonl")
        let lines = (0..<20_000).map { line("action.proposed.v1", "action/a-\($0)", #"{"title":"Joint action number \#($0) on battery value chains","pillar":"value-chain-integration"}"#) }
        try FileDamage.write(big, Array((lines.joined(separator: "\n") + "\n").utf8))
        let process = try AccordExecutable.start(["append", "--from", big, "--journal", journal])
        usleep(useconds_t(delay * 1_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let acknowledged = process.terminationReason == .exit && process.terminationStatus == 0
        // Whatever the moment: the next append works, the journal verifies, and the batch is all or nothing.
        let next = line("action.proposed.v1", "action/after-the-kill", #"{"title":"After","pillar":"supply-chain-resilience"}"#)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: next).status == 0)
        let verify = try accord(["verify"], journal: journal)
        #expect(verify.status == 0, "\(verify.output)")
        let count = try eventCount(journal)
        #expect(count == 2 || count == 20_002)
        if acknowledged { #expect(count == 20_002) }
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

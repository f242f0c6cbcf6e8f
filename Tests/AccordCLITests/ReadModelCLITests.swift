import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// `accord state`, `report`, `conflicts` and `snapshot` over the read model (Format.md §9.4).
@Suite("The read model through the command line")
struct ReadModelCLITests {
    /// A journal of 300 events (one batch) and the digest of its state by full replay.
    static func journalOf300(_ temp: TemporaryDirectory) throws -> (journal: String, digest: String) {
        let journal = try newJournal(temp)
        let batch = (1...150).flatMap { n in [
            line("stakeholder.registered.v1", "stakeholder/org-\(n)", #"{"name":"Organisation \#(n)","kind":"industrial","country":"KZ"}"#),
            line("action.proposed.v1", "action/a-\(n)", #"{"title":"Action \#(n)","pillar":"supply-chain-resilience"}"#),
        ] }
        let appended = try accord(["append", "--from", "-"], journal: journal, input: batch.joined(separator: "\n"))
        #expect(appended.status == 0, "\(appended.stderr)")
        let digest = try accord(["state", "--digest", "--no-read-model"], journal: journal).output
        return (journal, digest)
    }

    /// `accord snapshot` killed (SIGKILL) after `n` bytes of the read model, or before its
    /// `fdatasync`: the state read afterwards is still the state of the journal.
    @Test func aWriterKilledAtRandomMomentsWhileWritingTheReadModelLeavesACorrectState() throws {
        let temp = TemporaryDirectory()
        let (journal, digest) = try Self.journalOf300(temp)
        #expect(try accord(["snapshot"], journal: journal).status == 0)
        let path = journal + "/" + ReadModelFile.folder + "/" + ReadModelFile.fileName(of: PartnershipState.self)
        let size = try FileDamage.bytes(path).count
        var random = SeededRandom(seed: 77)
        let points = [0, 1, 8, 12, size - 33, size - 32, size - 1] + (0..<8).map { _ in Int.random(in: 0..<size, using: &random) }
        for (index, point) in points.enumerated() {
            // Half the kills land with a valid read model in place, half with none.
            if index % 2 == 0 { try? FileManager.default.removeItem(atPath: path) }
            let killed = try AccordExecutable.start(["snapshot", "--journal", journal], environment: [CrashPointIO.crashAfterBytesVariable: String(point)])
            killed.waitUntilExit()
            #expect(killed.terminationReason == .uncaughtSignal && killed.terminationStatus == SIGKILL, "not killed at \(point)")
            let state = try accord(["state", "--digest"], journal: journal)
            #expect(state.status == 0)
            #expect(state.output == digest, "after a kill at byte \(point) of \(size)")
            #expect(!state.stderr.contains("ignored"), "a kill at \(point) left a file that was read: \(state.stderr)")
        }
        let beforeSync = try AccordExecutable.start(["snapshot", "--journal", journal], environment: [CrashPointIO.crashBeforeSyncVariable: "1"])
        beforeSync.waitUntilExit()
        #expect(beforeSync.terminationReason == .uncaughtSignal)
        #expect(try accord(["state", "--digest"], journal: journal).output == digest)
        // The killed writers' temporary files are cleared by the next writer.
        #expect(try accord(["snapshot"], journal: journal).status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: journal + "/" + ReadModelFile.folder).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "left: \(left)")
    }

    /// Layout 2: `accord snapshot` killed (SIGKILL) at random bytes of what it writes — the
    /// extents it appends to the history file, a new history file, or the read model — after new
    /// finance, output and delivery events (so that it appends) or with no read model (so that
    /// it writes a new history file): the state read afterwards is still the journal's, no file
    /// is ignored or found damaged, and the next write is used.
    @Test func aWriterKilledAtRandomMomentsWhileAppendingToTheHistoryLeavesACorrectState() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let research = (0...3).map { k in
            line("research.project.started.v1", "research/r-\(k)", #"{"title":"Research \#(k)","partners":["org-1"],"field":"materials science"}"#)
        }
        let stakeholders = (1...40).map { n in
            line("stakeholder.registered.v1", "stakeholder/org-\(n)", #"{"name":"Organisation \#(n)","kind":"industrial","country":"KZ"}"#)
        }
        let first = stakeholders + research + (1...40).flatMap { n in [
            line("finance.committed.v2", "funding/f-\(n % 7)", #"{"provider":"org-\#(n)","receiver":"org-1","value":{"amount":"\#(n).50","currency":"EUR"},"date":"2024-03-01","iatiType":"2"}"#),
            line("research.output.published.v1", "research/r-\(n % 3)", #"{"title":"Paper \#(n)","date":"2024-03-01"}"#),
            line("skills.programme.delivered.v1", "programme/p-\(n % 2)", #"{"title":"Course \#(n)","provider":"org-\#(n)","participants":\#(n),"date":"2024-01-01"}"#),
        ] }
        let appended = try accord(["append", "--from", "-"], journal: journal, input: first.joined(separator: "\n"))
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(try accord(["snapshot"], journal: journal).status == 0)
        let folder = journal + "/" + ReadModelFile.folder
        let path = folder + "/" + ReadModelFile.fileName(of: PartnershipState.self)
        let history = folder + "/partnership.history"
        #expect(FileManager.default.fileExists(atPath: history))
        let size = try FileDamage.bytes(path).count
        var random = SeededRandom(seed: 78)
        for round in 0..<12 {
            let more = (1...3).flatMap { n in [
                line("finance.disbursed.v1", "funding/f-\(n)", #"{"provider":"org-\#(n)","receiver":"org-1","amount":"\#(round).\#(n)0","currency":"EUR","date":"2024-03-01"}"#),
                line("research.output.published.v1", "research/r-\(n)", #"{"title":"Paper \#(round)-\#(n)","date":"2024-04-01"}"#),
                line("skills.programme.delivered.v1", "programme/p-\(n)", #"{"title":"Course \#(round)-\#(n)","provider":"org-\#(n)","participants":\#(n),"date":"2024-02-01"}"#),
            ] }
            #expect(try accord(["append", "--from", "-"], journal: journal, input: more.joined(separator: "\n")).status == 0)
            let digest = try accord(["state", "--digest", "--no-read-model"], journal: journal).output
            // A third of the kills land with no read model (a new history file is written).
            if round % 3 == 0 { try? FileManager.default.removeItem(atPath: path) }
            let point = Int.random(in: 0..<(size + 2_000), using: &random)
            let killed = try AccordExecutable.start(["snapshot", "--journal", journal], environment: [CrashPointIO.crashAfterBytesVariable: String(point)])
            killed.waitUntilExit()
            let state = try accord(["state", "--digest"], journal: journal)
            #expect(state.status == 0)
            #expect(state.output == digest, "round \(round): after a kill at byte \(point)")
            #expect(!state.stderr.contains("ignored") && !state.stderr.contains("damaged"), "round \(round), kill at \(point): \(state.stderr)")
        }
        #expect(try accord(["snapshot"], journal: journal).status == 0)
        let digest = try accord(["state", "--digest", "--no-read-model"], journal: journal).output
        let last = try accord(["state", "--digest"], journal: journal)
        #expect(last.output == digest)
        #expect(last.stderr.isEmpty, "\(last.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "left: \(left)")
    }

    @Test func aDamagedReadModelIsNotedOnceOnStandardErrorAndRebuilt() throws {
        let temp = TemporaryDirectory()
        let (journal, digest) = try Self.journalOf300(temp)
        #expect(try accord(["snapshot"], journal: journal).output.contains("covering 300 events"))
        let path = journal + "/" + ReadModelFile.folder + "/" + ReadModelFile.fileName(of: PartnershipState.self)
        try FileDamage.flip(path, at: 200, mask: 0x04)
        let first = try accord(["state", "--digest"], journal: journal)
        #expect(first.status == 0)
        #expect(first.output == digest)
        #expect(first.stderr.contains("read model 'cache/partnership.readmodel' was ignored and rebuilt"), "\(first.stderr)")
        let second = try accord(["state", "--digest"], journal: journal)
        #expect(second.output == digest)
        #expect(second.stderr.isEmpty, "\(second.stderr)")
        // conflicts keeps its own read model beside it.
        #expect(try accord(["conflicts"], journal: journal).output == "No conflicts.\n")
    }
}

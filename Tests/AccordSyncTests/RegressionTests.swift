import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("Regressions found by review")
struct RegressionTests {
    @Test func aForkBelowTheHeadIsFoundByADirectorySyncNotSilentlyIgnored() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", [Fixtures.realisticDraft(1)])
        let backup = partnership.temp.child("astana-backup")
        try FileDamage.copyDirectory(partnership["astana"].path, to: backup)
        try partnership.append("astana", [Fixtures.realisticDraft(2)])
        try partnership.append("astana", [Fixtures.realisticDraft(3)])
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // Astana restores the backup WITHOUT 'accord restored' and writes new events 2 and 3.
        let restored = try EventJournal(opening: backup)
        try restored.openWriter().append([Fixtures.realisticDraft(20)], now: Fixtures.time(7))
        try restored.openWriter().append([Fixtures.realisticDraft(30)], now: Fixtures.time(8))
        let before = try partnership.ids("brussels")
        let result = try DirectorySync.sync(partnership["brussels"], with: restored)
        #expect((result.pulled.forks + result.pushed.forks).contains { $0.hasPrefix("fork in feed 'astana'") })
        #expect(try partnership.ids("brussels").ids == before.ids)
    }

    @Test func aLongFeedIsReplicatedInSeveralBatchesWithinTheBatchLimit() throws {
        let partnership = try Partnership(["astana", "brussels"])
        for round in 0..<6 { try partnership.append("astana", Fixtures.realisticDrafts(count: 50, startingAt: round * 50)) }
        let session = try SyncSession(journal: partnership["brussels"])
        session.chunkBytes = 40_000  // about 80 events
        let summary = try session.apply(try partnership["astana"].records(lacking: session.vector))
        session.close()
        #expect(summary.appended == 300)
        var batches = try partnership["brussels"].directory.batches()
        var count = 0
        while let batch = try batches.next() { count += 1; #expect(batch.records.count <= 150) }
        #expect(count >= 3)
        #expect(try partnership["brussels"].verify().isClean)
    }

    @Test func aBundleWhoseSourceIsNotASiteNameIsRefused() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 2))
        var bundle = try Bundle.make(from: partnership["astana"])
        bundle.source = "../../../../tmp/evil-peer"
        let path = partnership.temp.child("evil.bundle")
        try bundle.write(to: path)
        #expect(throws: AccordError.self) { try Bundle.read(path) }
    }

    @Test func aFullHybridClockCounterDoesNotCrashTheNextAppend() throws {
        var clock = HybridClock()
        clock.observe(HybridTimestamp(milliseconds: 1_700_000_000_000, counter: UInt32.max))
        let next = try clock.tick(physical: 0)
        #expect(next == HybridTimestamp(milliseconds: 1_700_000_000_001, counter: 0))
        #expect(throws: AccordError.self) { try HybridTimestamp(parsing: "9223372036854775807:0") }
        // The latest time an event may carry still gives a readable clock reading.
        var late = HybridClock()
        let reading = try late.tick(physical: try Timestamp(rfc3339: "9999-12-31T23:59:59.999Z").milliseconds)
        #expect(try HybridTimestamp(parsing: reading.text) == reading)
    }

    @Test func pendingEventsOfAnotherBranchDoNotBlockTheFeed() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let first = try partnership.append("astana", [Fixtures.realisticDraft(1)])
        // A branch of Astana's feed (from a lost copy) arrives early and waits as pending.
        let other = try EventJournal.create(at: partnership.temp.child("astana-other"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        let stray = try other.openWriter().append([Fixtures.realisticDraft(5)], now: Fixtures.time(1))
            + other.openWriter().append([Fixtures.realisticDraft(6)], now: Fixtures.time(2))
        var session = try SyncSession(journal: partnership["brussels"])
        _ = try session.apply([stray[1].record])
        session.close()
        #expect(try SyncSession.pendingCount(of: partnership["brussels"]) == 1)
        // The real events 1 and 2 arrive: 1 is applied; the stray 2 does not link to it: a fork, and the feed is free again.
        let second = try partnership.append("astana", [Fixtures.realisticDraft(2)])
        session = try SyncSession(journal: partnership["brussels"])
        _ = try session.apply(first.map(\.record))
        let summary = try session.apply(second.map(\.record))
        session.close()
        #expect(try partnership.ids("brussels").count == 2)
        #expect(summary.forks.isEmpty || summary.forks[0].contains("astana"))
        #expect(try SyncSession.pendingCount(of: partnership["brussels"]) == 0)
    }

    @Test func aBombOfABundleIsRefusedBeforeItFillsMemory() throws {
        let temp = TemporaryDirectory()
        let path = temp.child("bomb")
        let line = [UInt8](repeating: 0x61, count: 1 << 20)  // one 1 MiB record, compresses to ~1 KiB
        try MemberFile.write(Array(repeating: [line], count: 20), to: path)
        #expect(try FileDamage.bytes(path).count < 100_000)
        let error = #expect(throws: SegmentError.self) { try MemberFile.read(path, inflatedLimit: 8 << 20) }
        #expect(error?.message.contains("inflates to more than") == true)
    }

    @Test func aServerThatIsNotATrustedPeerGetsNothing() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 3))
        // An impostor server: a journal whose site Brussels does not trust, though it trusts Brussels.
        let impostor = try EventJournal.create(at: partnership.temp.child("impostor"), site: SiteID("lusaka"), partnership: "eu-kz-2022")
        try impostor.trust(try partnership["brussels"].signingKey().publicKey, for: SiteID("brussels"))
        let (server, address) = try AccordExecutable.serve(journal: impostor.path, scratch: partnership.temp.path)
        defer { server.terminate() }
        let refused = try AccordExecutable.run(["sync", "--with", address, "--journal", partnership["brussels"].path])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("trusts"), "\(refused.stderr)")
        #expect(try impostor.versionVector().entries.isEmpty)  // nothing was pushed
        let cli = try AccordExecutable.run(["sync", "--with", "http://127.0.0.1:1", "--journal", partnership["brussels"].path])
        #expect(cli.status == 5)  // no answer: an I/O failure, not an internal error
    }
}

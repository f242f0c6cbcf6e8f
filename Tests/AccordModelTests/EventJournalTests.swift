import AccordJournal
import AccordModel
import AccordTesting
import Foundation
import Testing

@Suite("Chained, signed feeds")
struct EventJournalTests {
    @Test func appendedEventsFormAChainThatVerifies() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        let first = try writer.append(Fixtures.realisticDrafts(count: 3), now: Fixtures.time())
        let second = try writer.append(Fixtures.realisticDrafts(count: 2, startingAt: 3), now: Fixtures.time(60))
        #expect(first.map(\.seq.rawValue) == [1, 2, 3])
        #expect(first[0].prev == nil)
        #expect(first[1].prev == first[0].id)
        #expect(second[0].prev == first[2].id)
        #expect(first.map { $0.signature != nil } == [false, false, true])
        #expect(second.last!.hlc > first.last!.hlc)
        let report = try journal.verify()
        #expect(report.isClean, "\(report.problems)")
        #expect(report.events == 5)
        #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(5))
    }

    @Test func aReopenedWriterContinuesTheChain() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        var last: Event?
        for round in 0..<3 {
            let writer = try journal.openWriter()
            last = try writer.append([Fixtures.realisticDraft(round)]).last
        }
        #expect(last?.seq == SequenceNumber(3))
        #expect(try journal.verify().isClean)
    }

    @Test func expectedSequenceNumbersGuardConcurrentIntent() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append([Fixtures.realisticDraft(0)], expecting: .noEvents)
        #expect(throws: AccordError.self) { try writer.append([Fixtures.realisticDraft(1)], expecting: .noEvents) }
        #expect(throws: AccordError.self) { try writer.append([Fixtures.realisticDraft(1)], expecting: .exactly(SequenceNumber(5))) }
        try writer.append([Fixtures.realisticDraft(1)], expecting: .exactly(SequenceNumber(1)))
    }

    @Test func aBadEventAnywhereInABatchWritesNothing() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append([Fixtures.realisticDraft(0)])
        let before = try FileDamage.snapshot(of: journal.path)
        var drafts = Fixtures.realisticDrafts(count: 5, startingAt: 1)
        drafts[3] = Fixtures.draft("finance.committed.v1", "funding/x", #"{"provider":"a","receiver":"b","amount":"1.00","currency":"ZZZ","date":"2023-01-01"}"#)
        let error = #expect(throws: AccordError.self) { try writer.append(drafts) }
        #expect(error?.line == 4)
        #expect(error?.field == "data.currency")
        #expect(try FileDamage.snapshot(of: journal.path) == before)
        try writer.append([Fixtures.realisticDraft(9)])
        #expect(try journal.verify().isClean)
    }

    @Test func aForgedSignatureAndAnUnknownSiteAreReported() throws {
        let temp = TemporaryDirectory()
        let brussels = try Fixtures.makeJournal(at: temp.child("brussels"), site: "brussels")
        try brussels.openWriter().append(Fixtures.realisticDrafts(count: 2), now: Fixtures.time())
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        try astana.openWriter().append(Fixtures.realisticDrafts(count: 2), now: Fixtures.time())
        // Copy astana's batch into brussels' journal verbatim, as sync will.
        var batches = try astana.directory.batches()
        let batch = try #require(try batches.next())
        let raw = try JournalWriter(directory: brussels.directory)
        try raw.append(batch.records.map { Array($0) })
        raw.close()
        var report = try brussels.verify()
        #expect(report.problems.contains { $0.contains("no trusted key") && $0.contains("astana") })
        // Trust a different key for astana: its signature no longer verifies.
        try brussels.trust(try SiteKey(seed: Fixtures.seed("impostor")).publicKey, for: SiteID("astana"))
        report = try brussels.verify()
        #expect(report.problems.contains { $0.contains("does not verify") })
        #expect(report.problems.contains { $0.contains("not covered by a valid signature") })
    }

    @Test func keysAreStoredPrivatelyAndTheSeedReproducesTheKey() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        var info = stat()
        #expect(stat(journal.path + "/keys/brussels.key", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try journal.signingKey().publicKey == (try SiteKey(seed: Fixtures.seed("brussels")).publicKey))
        #expect(try journal.trustedKeys().keys.map(\.rawValue) == ["brussels"])
    }
}

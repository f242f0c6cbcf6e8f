import AccordModel
import AccordSegments
import AccordStore
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

    @Test func oneBatchIsReadAtItsPositionAndNothingElseIsTakenForOne() throws {
        // `batch(at:)` and `events(inBatchAt:at:)`: the web view's index reads events by it.
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for n in 0..<3 { _ = try writer.append(Fixtures.realisticDrafts(count: 3 + n, startingAt: n * 10), now: Fixtures.time(Int64(n) * 60)) }
        writer.close()
        var batches: [(SegmentPosition, [EventID])] = []
        var events = try journal.events()
        while let event = try events.next() {
            let position = try #require(events.batchPosition)
            if batches.last?.0 != position { batches.append((position, [])) }
            batches[batches.count - 1].1.append(event.id)
        }
        #expect(batches.map(\.1.count) == [3, 4, 5])
        for (position, ids) in batches { #expect(try journal.batch(at: position).map(\.id) == ids) }
        // Some records of a batch, and its last (which carries the signature).
        let some = try journal.events(inBatchAt: batches[2].0, at: [3, 0])
        #expect(some.events.map(\.id) == [batches[2].1[3], batches[2].1[0]] && some.last.id == batches[2].1[4])
        #expect(some.last.signature != nil)
        #expect(throws: AccordError.self) { try journal.events(inBatchAt: batches[2].0, at: [5]) }
        // A position inside a batch, or past the end, is refused: never another batch's events.
        let second = batches[1].0
        #expect(throws: (any Error).self) { try journal.batch(at: SegmentPosition(segment: second.segment, offset: second.offset + 1)) }
        #expect { try journal.batch(at: SegmentPosition(segment: 9, offset: 0)) } throws: { ($0 as? AccordError)?.code == .notFound }
        // A damaged batch is refused as the streaming reader refuses it.
        let segment = journal.path + "/segments/00000001.gz"
        var bytes = try #require(FileManager.default.contents(atPath: segment))
        bytes[Int(second.offset) + 40] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment))
        #expect(throws: SegmentError.self) { try journal.batch(at: second) }
        #expect(throws: SegmentError.self) { try journal.events(inBatchAt: second, at: [0]) }
        #expect(try journal.batch(at: batches[0].0).map(\.id) == batches[0].1)
    }

    @Test func aDamagedRecordInALargeBatchIsReportedAtItsTurnAfterTheEventsBeforeIt() throws {
        // Batches of 64 records or more are decoded ahead on two threads; what the iterator
        // returns and throws must not change.
        let temp = TemporaryDirectory()
        let source = try Fixtures.makeJournal(at: temp.child("source"))
        let events = try source.openWriter().append(Fixtures.realisticDrafts(count: 100), now: Fixtures.time())
        var records = events.map(\.record)
        records[79] = Array(String(decoding: records[79], as: UTF8.self).replacingOccurrences(of: "\"seq\":80", with: "\"seq\":81").utf8)
        let damaged = try SegmentDirectory.create(at: temp.child("damaged"))
        try SegmentWriter(directory: damaged).append(records)
        let journal = try EventJournal.create(at: temp.child("j"), site: SiteID("brussels"), seed: Fixtures.seed("brussels"))
        try FileManager.default.removeItem(atPath: journal.path + "/segments")
        try FileManager.default.copyItem(atPath: damaged.path + "/segments", toPath: journal.path + "/segments")
        var read = try journal.events()
        var seqs: [UInt64] = []
        let error = #expect(throws: AccordError.self) {
            while let event = try read.next() { seqs.append(event.seq.rawValue) }
        }
        #expect(seqs == Array(1...79))
        #expect(error?.message.contains("record 80 of the batch") == true)
        // The records after it are still returned, one by one.
        #expect(try read.next()?.seq.rawValue == 81)
        #expect(EventRecord.decodeAll(events.map(\.record)).map { try? $0.get().id } == events.map(\.id))
    }

    @Test func damageInTheMiddleOfALongJournalIsReportedAtItsTurnThoughLaterBatchesAreReadAhead() throws {
        // Large batches are decoded ahead on other threads, one batch (and the read of the one
        // after it) ahead of the events handed out: a damaged record, then a damaged member
        // right after it, must each surface exactly at their turn, with every event before
        // them returned, and the records after the damaged one still returned.
        let temp = TemporaryDirectory()
        let source = try Fixtures.makeJournal(at: temp.child("source"))
        let events = try source.openWriter().append(Fixtures.realisticDrafts(count: 600), now: Fixtures.time())
        var records = events.map(\.record)
        records[249] = Array(String(decoding: records[249], as: UTF8.self).replacingOccurrences(of: "\"seq\":250", with: "\"seq\":251").utf8)
        let damaged = try SegmentDirectory.create(at: temp.child("damaged"))
        let writer = try SegmentWriter(directory: damaged)
        var positions: [SegmentPosition] = []
        for batch in 0..<6 { positions.append(try writer.append(Array(records[(batch * 100)..<((batch + 1) * 100)]))) }
        // The fourth batch's compressed data: its CRC-32 no longer matches, and valid batches follow.
        try FileDamage.flip(damaged.path + "/segments/00000001.gz", at: Int(positions[3].offset) + 200)
        let journal = try EventJournal.create(at: temp.child("j"), site: SiteID("brussels"), seed: Fixtures.seed("brussels"))
        try FileManager.default.removeItem(atPath: journal.path + "/segments")
        try FileManager.default.copyItem(atPath: damaged.path + "/segments", toPath: journal.path + "/segments")
        var read = try journal.events()
        var seqs: [UInt64] = []
        let badRecord = #expect(throws: AccordError.self) {
            while let event = try read.next() { seqs.append(event.seq.rawValue) }
        }
        #expect(seqs == Array(1...249))
        #expect(badRecord?.message.contains("record 50 of the batch at byte \(positions[2].offset)") == true)
        seqs = []
        let badMember = #expect(throws: SegmentError.self) {
            while let event = try read.next() { seqs.append(event.seq.rawValue) }
        }
        #expect(seqs == Array(251...300))
        #expect(badMember?.code == .corrupt)
        #expect(read.nextPosition == positions[3])
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
        let raw = try SegmentWriter(directory: brussels.directory)
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

    @Test func anUntrustedSitesUnsignedEventsFailVerification() throws {
        let temp = TemporaryDirectory()
        let brussels = try Fixtures.makeJournal(at: temp.child("brussels"), site: "brussels")
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        let events = try astana.openWriter().append(Fixtures.realisticDrafts(count: 3), now: Fixtures.time())
        // Copy only the first two (unsigned) events in, bypassing every check.
        let raw = try SegmentWriter(directory: brussels.directory)
        try raw.append(events.prefix(2).map { Array($0.record) })
        raw.close()
        let report = try brussels.verify()
        #expect(!report.isClean)
        #expect(report.problems.contains { $0.contains("'astana' has no trusted key") })
    }

    @Test func appendReplicatedCopiesVerifiedFeedsAndRefusesForgeriesAndForks() throws {
        let temp = TemporaryDirectory()
        let brussels = try Fixtures.makeJournal(at: temp.child("brussels"), site: "brussels")
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        let sent = try astana.openWriter().append(Fixtures.realisticDrafts(count: 3), now: Fixtures.time())
        let writer = try brussels.openWriter()
        let untrusted = #expect(throws: AccordError.self) { try writer.appendReplicated(sent.map(\.record)) }
        #expect(untrusted?.code == .untrusted)
        try brussels.trust(try astana.signingKey().publicKey, for: SiteID("astana"))
        let unsignedEnd = #expect(throws: AccordError.self) { try writer.appendReplicated(sent.prefix(2).map(\.record)) }
        #expect(unsignedEnd?.code == .untrusted)
        #expect(try writer.appendReplicated(sent.map(\.record)) == 3)
        #expect(try writer.appendReplicated(sent.map(\.record)) == 0)  // applying twice adds nothing
        // Another history of astana at the same sequence numbers: a fork.
        let restored = try EventJournal.create(at: temp.child("astana-restored"), site: SiteID("astana"), seed: Fixtures.seed("astana"))
        let other = try restored.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 50), now: Fixtures.time())
        let fork = #expect(throws: AccordError.self) { try writer.appendReplicated(other.map(\.record)) }
        #expect(fork?.message.contains("Fork in feed 'astana' at 1") == true)
        #expect(try brussels.verify().isClean)
    }

    @Test func anInterruptedInitCanBeRunAgain() throws {
        let temp = TemporaryDirectory()
        let path = temp.child("j")
        try FileManager.default.createDirectory(atPath: path + "/keys", withIntermediateDirectories: true)
        try FileDamage.write(path + "/LOCK", [])
        try FileDamage.write(path + "/keys/brussels.key", Array("stale\n".utf8))
        let journal = try Fixtures.makeJournal(at: path)
        try journal.openWriter().append([Fixtures.realisticDraft(0)])
        #expect(try journal.verify().isClean)
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

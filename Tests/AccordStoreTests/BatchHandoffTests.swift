import AccordModel
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Glibc
import Testing

/// The last batch that the heads cache's check reads is handed to the journal's next reader of
/// it instead of being inflated again (issue 16), only while its segment file is unchanged.
@Suite("The heads cache's check hands its last batch to the next reader, only while the file is unchanged")
struct BatchHandoffTests {
    /// A journal of three batches (the last one large), whose segment file was touched since it
    /// was written, so that this process no longer remembers its last batch as checked.
    static func journal(in temp: TemporaryDirectory) throws -> EventJournal {
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 30))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 20, startingAt: 30))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 1_500, startingAt: 50))
        try touch(journal)
        return try EventJournal(opening: journal.path)
    }

    /// Sets the segment file's times to now: its change time moves, its bytes do not.
    static func touch(_ journal: EventJournal) throws {
        #expect(utimensat(AT_FDCWD, journal.path + "/segments/00000001.gz", nil, 0) == 0)
    }

    static func records(_ journal: EventJournal) throws -> [[UInt8]] {
        var events = try journal.events()
        var records: [[UInt8]] = []
        while let event = try events.next() { records.append(event.record) }
        return records
    }

    @Test func aReadAfterTheHeadsCacheCheckTakesTheCheckedBatchAndReadsTheSameEvents() throws {
        let temp = TemporaryDirectory()
        let journal = try Self.journal(in: temp)
        let expected = try Self.records(try EventJournal(opening: journal.path))
        #expect(HeadsCache.load(journal) != nil)
        #expect(journal.directory.handoff.handedOver == 0)
        #expect(try Self.records(journal) == expected)
        #expect(expected.count == 1_550)
        #expect(journal.directory.handoff.handedOver == 1)
        // Taken once: a second read inflates the member itself.
        #expect(try Self.records(journal) == expected)
        #expect(journal.directory.handoff.handedOver == 1)
    }

    @Test func aBatchWhoseSegmentFileChangedSinceTheCheckIsReadFromTheFileAgain() throws {
        let temp = TemporaryDirectory()
        let journal = try Self.journal(in: temp)
        #expect(HeadsCache.load(journal) != nil)
        // Another process appends (here: another journal value, so nothing is dropped in this one).
        let other = try EventJournal(opening: journal.path)
        try other.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 1_550))
        let records = try Self.records(journal)
        #expect(records.count == 1_553)
        #expect(journal.directory.handoff.handedOver == 0)
    }

    @Test func aFileTouchedSinceTheCheckIsReadAgainEvenWithTheSameBytes() throws {
        let temp = TemporaryDirectory()
        let journal = try Self.journal(in: temp)
        #expect(HeadsCache.load(journal) != nil)
        try Self.touch(journal)
        #expect(try Self.records(journal).count == 1_550)
        #expect(journal.directory.handoff.handedOver == 0)
    }

    @Test func aWriteThroughTheSameJournalDropsTheBatchHeld() throws {
        let temp = TemporaryDirectory()
        let journal = try Self.journal(in: temp)
        #expect(HeadsCache.load(journal) != nil)
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 2, startingAt: 1_550))
        #expect(try Self.records(journal).count == 1_552)
        #expect(journal.directory.handoff.handedOver == 0)
    }

    @Test func aReaderThatRecordsAccessPointsInflatesTheMemberItself() throws {
        let temp = TemporaryDirectory()
        let journal = try Self.journal(in: temp)
        #expect(HeadsCache.load(journal) != nil)
        var batches = try journal.directory.batches(accessPoints: AccessPointOptions())
        var count = 0
        while let batch = try batches.next() { count += batch.records.count }
        #expect(count == 1_550)
        #expect(journal.directory.handoff.handedOver == 0)
    }
}

import AccordModel
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// The golden v1 journal: three batches of two, three and one events (Journal/Fixtures).
private let fixture = Fixtures.journalFixture("v1-three-batches")
private let segmentLength: Int = (try? FileDamage.bytes(fixture + "/segments/00000001.gz").count) ?? 0

/// A private copy of the fixture to damage.
private func copyOfFixture(_ temp: TemporaryDirectory) throws -> EventJournal {
    try FileDamage.copyDirectory(fixture, to: temp.child("j"))
    return try EventJournal(opening: temp.child("j"))
}

@Suite("The v1 fixture journal, damaged on purpose")
struct FixtureDamageTests {
    @Test func theFixtureStillReadsToItsDocumentedEvents() throws {
        let journal = try EventJournal(opening: fixture)
        var events = try journal.events()
        var read: [Event] = []
        while let event = try events.next() { read.append(event) }
        #expect(read.count == 6)
        #expect(read.map(\.type.rawValue) == ["stakeholder.registered.v1", "stakeholder.registered.v1", "agreement.signed.v1",
                                             "finance.committed.v1", "finance.disbursed.v1", "finance.committed.v1"])
        #expect(read.compactMap { $0.data["amount"]?.stringValue } == ["80.60", "0.10", "1234567.89"])
        #expect(read.map { $0.signature != nil } == [false, true, false, false, true, true])
        #expect(try journal.verify().isClean)
    }

    @Test func theWriterStillProducesTheFixtureRecordsByteForByte() throws {
        // Rebuild the fixture's events with today's code: the records must be identical.
        let journal = try EventJournal(opening: fixture)
        var batches = try journal.directory.batches()
        var fixtureRecords: [[UInt8]] = []
        while let batch = try batches.next() { fixtureRecords += batch.records.map { Array($0) } }
        let temp = TemporaryDirectory()
        let seed = Array(("accord-demo-key-brussels" + String(repeating: ".", count: 32)).utf8.prefix(32))
        let rebuilt = try EventJournal.create(at: temp.child("j"), site: SiteID("brussels"), seed: seed)
        let writer = try rebuilt.openWriter()
        var events = try journal.events()
        var group: [EventDraft] = []
        var groupTime: Timestamp?
        var produced: [[UInt8]] = []
        while let event = try events.next() {
            group.append(EventDraft(type: event.type, subject: event.subject, data: event.data, time: nil, actor: event.actor))
            groupTime = event.time
            if events.isLastOfBatch {
                produced += try writer.append(group, now: groupTime).map(\.record)
                group = []
            }
        }
        #expect(produced == fixtureRecords)
    }

    @Test(arguments: 0...segmentLength)
    func truncatingAtAnyByteKeepsCompleteBatchesAndTheNextAppendChainsToTheLastKeptEvent(cut: Int) throws {
        let temp = TemporaryDirectory()
        let journal = try copyOfFixture(temp)
        let segment = journal.path + "/segments/00000001.gz"
        try FileDamage.truncate(segment, to: cut)
        let boundaries = try batchEnds(of: fixture)
        let keptBatches = boundaries.filter { $0 <= Int64(cut) }.count
        let keptEvents = [0, 2, 5, 6][keptBatches]

        let writer = try journal.openWriter()
        #expect((writer.recovery != nil) == (!boundaries.contains(Int64(cut)) && cut != 0))
        #expect(writer.head?.seq.rawValue ?? 0 == UInt64(keptEvents))
        let lastKept = writer.head?.id
        let appended = try writer.append([Fixtures.realisticDraft(0)], now: Fixtures.time(86_400))
        #expect(appended[0].prev == lastKept)
        #expect(appended[0].seq.rawValue == UInt64(keptEvents + 1))
        let report = try journal.verify()
        #expect(report.isClean, "\(report.problems) \(report.integrity.damages)")
        #expect(report.events == keptEvents + 1)
    }

    @Test(arguments: 0..<segmentLength)
    func everySingleByteFlipIsReportedByVerifyAndCrashesNothing(offset: Int) throws {
        let temp = TemporaryDirectory()
        let journal = try copyOfFixture(temp)
        try FileDamage.flip(journal.path + "/segments/00000001.gz", at: offset)
        let report = try journal.verify()
        #expect(!report.isClean, "a flip at byte \(offset) went unnoticed")
        // Reading stops with an error or at a torn tail; opening a writer recovers or refuses.
        var events = try journal.events()
        do {
            while try events.next() != nil {}
        } catch is SegmentError {
        } catch is AccordError {}
        do {
            _ = try journal.openWriter()
        } catch is SegmentError {
        } catch is AccordError {}
    }
}

/// The end offsets of the batches of a journal's first segment.
func batchEnds(of path: String) throws -> [Int64] {
    var batches = try SegmentDirectory(opening: path).batches()
    var ends: [Int64] = []
    while let batch = try batches.next() { ends.append(batch.end.offset) }
    return ends
}

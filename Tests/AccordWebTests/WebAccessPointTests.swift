import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
@testable import AccordWeb
import Testing

/// Event pages of events in large batches read from the batches' access points (Journal/UI.md
/// §8), against the whole-member reads they replace.
@Suite("accord ui: event pages of large batches read from access points")
struct WebAccessPointTests {
    /// Small enough that a test's batch of 1,500 events (about 0.5 MiB) has many points.
    static let small = AccessPointOptions(minimumBatchBytes: 64 << 10, span: 16 << 10)
    /// No batch gets points: every read is of the whole member, as before.
    static let none = AccessPointOptions(minimumBatchBytes: Int.max)

    /// A small batch, one of 1,500 events with a funding's disbursements and its receiver's
    /// updates spread through it, and another small batch; every event, in journal order.
    static func makeJournal(at path: String) throws -> (journal: EventJournal, events: [Event], large: Range<Int>) {
        let journal = try Fixtures.makeJournal(at: path)
        let writer = try journal.openWriter()
        defer { writer.close() }
        var events = try writer.append([
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry","kind":"government","country":"KZ"}"#),
        ] + Fixtures.realisticDrafts(count: 20), now: Fixtures.time(0))
        var drafts: [EventDraft] = []
        for (n, draft) in Fixtures.realisticDrafts(count: 1_500, startingAt: 20).enumerated() {
            drafts.append(draft)
            if n % 150 == 75 {
                drafts.append(Fixtures.draft("finance.disbursed.v1", "funding/f-22", #"{"provider":"eib","receiver":"kz-miid","amount":"\#(n + 1)","currency":"EUR","date":"2024-02-05"}"#))
                drafts.append(Fixtures.draft("stakeholder.updated.v1", "stakeholder/kz-miid", #"{"name":"Ministry, named \#(n) times"}"#))
            }
        }
        let start = events.count
        events += try writer.append(drafts, now: Fixtures.time(86_400))
        let large = start..<events.count
        events += try writer.append([
            Fixtures.draft("finance.disbursed.v1", "funding/f-22", #"{"provider":"eib","receiver":"kz-miid","amount":"7","currency":"EUR","date":"2024-03-05"}"#),
        ] + Fixtures.realisticDrafts(count: 10, startingAt: 1_520), now: Fixtures.time(86_400 * 2))
        return (journal, events, large)
    }

    @Test func eventPagesInALargeBatchShowWhatTheWholeMemberReadShowed() throws {
        let temp = TemporaryDirectory("ui-access-points")
        defer { temp.remove() }
        let (journal, events, large) = try Self.makeJournal(at: temp.child("j"))
        let web = WebJournal(journal: journal, writerOptions: .init(), accessPoints: Self.small)
        let whole = WebJournal(journal: journal, writerOptions: .init(), persistence: .off, accessPoints: Self.none)
        let current = try web.current()
        let names = Names(state: current.state, fundingTitles: current.facts.fundingTitles)
        var compared = 0
        for (n, event) in events.enumerated()
        where n % 23 == 0 || n == large.upperBound - 1 || sameBytes(event.subject.description, "funding/f-22") || sameBytes(event.subject.description, "stakeholder/kz-miid") {
            #expect(try web.readsFromAccessPoints(event.id.hex) == large.contains(n), "event \(n)")
            #expect(try whole.readsFromAccessPoints(event.id.hex) == false)
            let found = try #require(try web.event(event.id.hex))
            let before = try #require(try whole.event(event.id.hex))
            #expect(found.event.record == event.record && before.event.record == event.record)
            let kept = SubjectPages.kinds.contains(event.subject.kind)
            let new = EventPages.event(found, around: kept ? try web.states(around: event, current: current.state) : nil, names: names)
            let old = EventPages.event(before, around: kept ? try whole.states(around: event, current: current.state) : nil, names: names)
            #expect(new == old, "event \(n), \(event.type) \(event.subject)")
            compared += 1
        }
        #expect(compared > 80)
        #expect(LogIndex.bytesPerBatch == 48, "Journal/UI.md §7 states 48")
        // The last event of the large batch carries its signature, read from a point and verified.
        let last = try #require(try web.event(events[large.upperBound - 1].id.hex))
        #expect(last.signature.contains("verifies under the key"))
    }

    @Test func aLargeBatchAppendedWhileTheServerRunsGetsAccessPointsToo() throws {
        let temp = TemporaryDirectory("ui-access-points-later")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 10), now: Fixtures.time(0))
        let web = WebJournal(journal: journal, writerOptions: .init(), accessPoints: Self.small)
        let whole = WebJournal(journal: journal, writerOptions: .init(), persistence: .off, accessPoints: Self.none)
        _ = try web.current()
        // Another process appends a large batch; the next request indexes it.
        let other = try EventJournal(opening: journal.path)
        let appended = try other.openWriter().append(Fixtures.realisticDrafts(count: 1_500, startingAt: 10), now: Fixtures.time(86_400))
        let current = try web.current()
        let names = Names(state: current.state, fundingTitles: current.facts.fundingTitles)
        for event in appended.enumerated().filter({ $0.offset % 97 == 0 || $0.offset == appended.count - 1 }).map(\.element) {
            #expect(try web.readsFromAccessPoints(event.id.hex))
            let found = try #require(try web.event(event.id.hex))
            let before = try #require(try whole.event(event.id.hex))
            let kept = SubjectPages.kinds.contains(event.subject.kind)
            #expect(EventPages.event(found, around: kept ? try web.states(around: event, current: current.state) : nil, names: names)
                    == EventPages.event(before, around: kept ? try whole.states(around: event, current: current.state) : nil, names: names))
        }
    }

    @Test func aFlippedByteAfterAnAccessPointIsAnErrorPageNeverAnotherEvent() throws {
        let temp = TemporaryDirectory("ui-access-points-damage")
        defer { temp.remove() }
        let (journal, events, large) = try Self.makeJournal(at: temp.child("j"))
        let web = WebJournal(journal: journal, writerOptions: .init(), accessPoints: Self.small)
        let current = try web.current()
        // The large batch as the index pass read it, and one of its points.
        var batches = try journal.directory.batches(accessPoints: Self.small)
        _ = try batches.next()
        let batch = try #require(try batches.next())
        try #require(batch.accessPoints.count > 3)
        let point = batch.accessPoints[2]
        try FileDamage.flip(journal.directory.path + "/segments/00000001.gz", at: Int(batch.offset) + 30 + point.compressedOffset + 40)
        var errors = 0
        for n in large {
            do {
                let found = try web.event(events[n].id.hex)
                #expect(found?.event.record == events[n].record, "event \(n)")
            } catch {
                #expect(error is SegmentError, "event \(n): \(error)")
                errors += 1
            }
        }
        #expect(errors > 0)
        // The record holding the point's 1,000th byte after it is inflated past the flip: its page
        // and any "what it changed" that folds it are errors (the whole member's CRC-32 decides).
        let hit = try #require(batch.records.firstIndex { $0.endIndex > point.uncompressedOffset + 1_000 })
        let event = events[large.lowerBound + hit]
        #expect(throws: SegmentError.self) { try web.event(event.id.hex) }
        #expect(throws: SegmentError.self) { try web.states(around: event, current: current.state) }
    }

    @Test func anIndexLoadedFromItsFileReadsLargeBatchesFromTheAccessPointsItKept() throws {
        let temp = TemporaryDirectory("ui-access-points-file")
        defer { temp.remove() }
        let (journal, events, large) = try Self.makeJournal(at: temp.child("j"))
        let built = WebJournal(journal: journal, writerOptions: .init(), accessPoints: Self.small)
        #expect(try built.warmUp().contains("built from the journal."))
        // This server records no points itself: the points it reads from came from the file.
        let loaded = WebJournal(journal: journal, writerOptions: .init(), accessPoints: Self.none)
        let said = try loaded.warmUp()
        #expect(said.contains("loaded from 'cache/web.index'"), "\(said)")
        try WebIndexFileTests.expectSameIndex(loaded, as: journal, accessPoints: Self.small)
        let whole = WebJournal(journal: journal, writerOptions: .init(), persistence: .off, accessPoints: Self.none)
        let current = try loaded.current()
        let names = Names(state: current.state, fundingTitles: current.facts.fundingTitles)
        var compared = 0
        for (n, event) in events.enumerated() where n % 37 == 0 || sameBytes(event.subject.description, "funding/f-22") {
            #expect(try loaded.readsFromAccessPoints(event.id.hex) == large.contains(n), "event \(n)")
            let found = try #require(try loaded.event(event.id.hex))
            let before = try #require(try whole.event(event.id.hex))
            let kept = SubjectPages.kinds.contains(event.subject.kind)
            #expect(EventPages.event(found, around: kept ? try loaded.states(around: event, current: current.state) : nil, names: names)
                    == EventPages.event(before, around: kept ? try whole.states(around: event, current: current.state) : nil, names: names),
                    "event \(n)")
            compared += 1
        }
        #expect(compared > 40)
    }
}

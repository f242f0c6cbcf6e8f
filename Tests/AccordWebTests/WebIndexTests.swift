import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
@testable import AccordWeb
import Foundation
import Testing

/// The web view's index of the log (Journal/UI.md §8) against the full scans it replaced: the
/// same pages, filters, histories and "what it changed", after appends and syncs.
@Suite("accord ui: the log index gives what the full scan gave")
struct WebIndexTests {
    // MARK: Tests

    @Test func filtersSearchAndPagingGiveWhatTheFullScanGave() throws {
        let temp = TemporaryDirectory("ui-index-filters")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for batch in 0..<6 {
            _ = try writer.append(Fixtures.realisticDrafts(count: 40, startingAt: batch * 40), now: Fixtures.time(Int64(batch) * 86_400 * 40))
        }
        // One event a second, with fractions: "…:00Z" and "…:00.5Z" order as bytes, as before.
        for n in 0..<4 { _ = try writer.append([Fixtures.realisticDraft(240 + n)], now: Timestamp(seconds: 1_700_000_000, nanoseconds: Int32(n) * 250_000_000)) }
        writer.close()
        let web = WebJournal(journal: journal, writerOptions: .init())
        for query in Self.queries { try Self.expectSameLog(web, journal, query) }
    }

    @Test func aDamagedNewBatchFoldsNothingOfItselfKeepsTheBatchesBeforeItAndIsFoldedOnceWhenRepaired() throws {
        let temp = TemporaryDirectory("ui-index-damaged-new")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 20), now: Fixtures.time(0))
        let web = WebJournal(journal: journal, writerOptions: .init(), persistence: .off)
        #expect(try web.current().state.stakeholders.count > 0)
        // Three batches appended by another process after the state was built: a, b, c.
        let writer = try EventJournal(opening: journal.path).openWriter()
        for (n, name) in ["a", "b", "c"].enumerated() {
            _ = try writer.append([
                Fixtures.draft("stakeholder.registered.v1", "stakeholder/new-\(name)", #"{"name":"New \#(name)","kind":"industrial","country":"KZ"}"#),
                Fixtures.draft("finance.committed.v1", "funding/new-\(name)", #"{"provider":"new-\#(name)","receiver":"new-\#(name)","amount":"1\#(n).00","currency":"EUR","date":"2024-01-0\#(n + 1)"}"#),
            ], now: Fixtures.time(86_400 * Int64(n + 1)))
        }
        writer.close()
        var members = try journal.directory.batches()
        var positions: [(segment: Int, offset: Int64, length: Int)] = []
        while let batch = try members.next() { positions.append((batch.segment, batch.offset, batch.length)) }
        let b = positions[positions.count - 2]
        let segment = journal.directory.path + "/" + SegmentDirectory.relativeSegmentPath(b.segment)
        // A byte in the middle of b's compressed data (b is not the last member: not a torn tail).
        let flipAt = Int(b.offset) + b.length / 2
        try FileDamage.flip(segment, at: flipAt)
        #expect(throws: (any Error).self) { try web.current() }
        // Folded up to b, not into it: the next request reads b (and meets the damage) again.
        #expect(web.foldedEnd() == SegmentPosition(segment: b.segment, offset: b.offset), "a kept, nothing of b")
        #expect(throws: (any Error).self) { try web.history(of: "stakeholder/new-a", limit: 10) }
        // Repaired: b and c are folded, each once, and the sums are the full fold's.
        try FileDamage.flip(segment, at: flipAt)
        let after = try web.current().state
        #expect(["new-a", "new-b", "new-c"].allSatisfy { id in after.stakeholders.keys.contains { sameBytes($0, id) } })
        #expect(try web.history(of: "funding/new-b", limit: 10).total == 1)
        var full = PartnershipState()
        var all = try journal.events()
        while let event = try all.next() { PartnershipProjection.apply(event, to: &full) }
        #expect(sameBytes(try after.digest(), try full.digest()), "each event folded once")
    }

    @Test func theFormChecksADraftAgainstWhatAnotherProcessAppendedSinceThePageWasServed() throws {
        let temp = TemporaryDirectory("ui-index-form-checks")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 20), now: Fixtures.time(0))
        let web = WebJournal(journal: journal, writerOptions: .init(), persistence: .off)
        _ = try web.current()
        let commitment = Fixtures.draft("finance.committed.v1", "funding/f-late", #"{"provider":"late-bank","receiver":"late-bank","amount":"5.00","currency":"EUR","date":"2024-01-01"}"#)
        #expect(throws: AccordError.self) { try web.append(commitment, actor: nil) }
        // Another process registers the provider; the form's check sees it, and the event is folded once.
        _ = try EventJournal(opening: journal.path).openWriter().append([
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/late-bank", #"{"name":"Late Bank","kind":"financial","country":"KZ"}"#),
        ], now: Fixtures.time(86_400))
        let event = try web.append(commitment, actor: "officer")
        #expect(sameBytes(event.actor, "officer"))
        var full = PartnershipState()
        var all = try journal.events()
        while let each = try all.next() { PartnershipProjection.apply(each, to: &full) }
        #expect(sameBytes(try web.current().state.digest(), try full.digest()))
    }

    @Test func aTornLastBatchIsNotedOnTheDashboardAsAccordStateNotesIt() throws {
        let temp = TemporaryDirectory("ui-index-torn")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        _ = try writer.append(Fixtures.realisticDrafts(count: 20), now: Fixtures.time(0))
        _ = try writer.append(Fixtures.realisticDrafts(count: 5, startingAt: 20), now: Fixtures.time(86_400))
        writer.close()
        var batches = try journal.directory.batches()
        var last: Batch?
        while let batch = try batches.next() { last = batch }
        let torn = try #require(last)
        // The last batch cut in its middle, as a writer killed in its write leaves it.
        let segment = journal.directory.path + "/" + SegmentDirectory.relativeSegmentPath(torn.segment)
        let whole = try FileDamage.bytes(segment)
        #expect(truncate(segment, off_t(torn.offset) + off_t(torn.length / 2)) == 0)
        let web = WebJournal(journal: journal, writerOptions: .init(), persistence: .off)
        let current = try web.current()
        #expect(current.state.eventCount == 20)
        let noted = try #require(current.tornTail)
        let page = Dashboard.page(state: current.state, series: current.series, today: try CalendarDate(parsing: "2026-12-07"), facts: current.facts,
                                  exchanges: [:], ownSite: "brussels", tornTail: current.tornTail)
        #expect(page.contains(#"<p id="torn-tail" role="status">"#) && page.contains(HTML.escape(noted.description)))
        // The batch whole again (the write finished): it is folded, and the note is gone.
        try FileDamage.write(segment, whole)
        let after = try web.current()
        #expect(after.tornTail == nil && after.state.eventCount == 25)
    }

    @Test func appendsByAnotherWriterAndBackDatedEventsFromASyncAreIndexed() throws {
        let temp = TemporaryDirectory("ui-index-appends")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("brussels"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time(86_400 * 800))
        let web = WebJournal(journal: journal, writerOptions: .init())
        try Self.expectSameLog(web, journal, "")
        // Another process's writer appends while the server's index is live.
        let other = try EventJournal(opening: journal.path)
        let appended = try other.openWriter().append(Fixtures.realisticDrafts(count: 12, startingAt: 30), now: Fixtures.time(86_400 * 900))
        try Self.expectSameLog(web, journal, "")
        try Self.expectSameLog(web, journal, "type=finance.committed.v1")
        #expect(try web.event(appended[5].id.hex)?.event.id == appended[5].id)
        // A sync brings another office's events recorded long before: they sort among the old ones.
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        let old = try astana.openWriter().append([
            Fixtures.draft("stakeholder.updated.v1", "stakeholder/org-0", #"{"name":"Organisation zero, renamed in Astana"}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/f-0", #"{"provider":"eib","receiver":"kz-miid","amount":"5","currency":"EUR","date":"2020-01-01"}"#),
        ], now: Fixtures.time(-86_400 * 30))
        try journal.trust(try astana.signingKey().publicKey, for: astana.site)
        try astana.trust(try journal.signingKey().publicKey, for: journal.site)
        _ = try DirectorySync.sync(journal, with: astana)
        for query in ["", "site=astana", "subject=funding/f-0", "q=Astana", "to=2022-11-06", "page=2"] { try Self.expectSameLog(web, journal, query) }
        let history = try web.history(of: "funding/f-0", limit: SubjectPages.maxHistory)
        #expect(history.events.first?.id == old[1].id.hex, "the back-dated disbursement is the subject's oldest event")
        #expect(history.total == (try Self.scan(journal).filter { sameBytes($0.subject, "funding/f-0") }.count))
        #expect(try web.event(old[0].id.hex)?.event.id == old[0].id)
    }

    @Test func anEventIDNotInTheJournalIsNotFound() throws {
        let temp = TemporaryDirectory("ui-index-404")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let events = try journal.openWriter().append(Fixtures.realisticDrafts(count: 5), now: Fixtures.time())
        let web = WebJournal(journal: journal, writerOptions: .init())
        #expect(try web.event(events[2].id.hex)?.event.id == events[2].id)
        #expect(try web.event(String(repeating: "ab", count: 32)) == nil)
        // Ids are lowercase hex digits compared as bytes: the same digits in upper case name no event.
        #expect(try web.event(events[2].id.hex.uppercased()) == nil)
        #expect(try web.event(String(repeating: "zz", count: 32)) == nil)
    }

    @Test func whatAnEventChangedIsWhatTheFullFoldShowsOnTheSampleWithTheEUIATIFile() throws {
        let temp = TemporaryDirectory("ui-index-changed")
        defer { temp.remove() }
        let path = temp.child("sample")
        try FileManager.default.copyItem(atPath: Fixtures.repositoryRoot + "/Journal/sample", toPath: path)
        let imported = try AccordExecutable.run(["import", "iati", try Fixtures.sharedDataFile("iati/eu-intpa-activities-2021-05-26.xml"), "--journal", path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let journal = try EventJournal(opening: path)
        // Names, a lead and a sponsor changed after the events that name them; a retraction; a
        // back-dated correction.
        let writer = try journal.openWriter()
        let later = try writer.append([
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/lead-a", #"{"name":"Lead A","kind":"government","country":"KZ"}"#),
            Fixtures.draft("action.proposed.v1", "action/act-1", #"{"title":"Act one","pillar":"value-chain-integration","due":"2030-01-01","leads":["lead-a"]}"#),
            Fixtures.draft("finance.committed.v1", "funding/fx", #"{"provider":"lead-a","receiver":"kz-miid","amount":"10","currency":"EUR","date":"2024-01-05","action":"act-1"}"#),
            Fixtures.draft("industry.project.registered.v1", "project/px", #"{"name":"Plant X","sponsor":"lead-a","valueChain":"batteries","country":"KZ"}"#),
        ], now: Fixtures.time(86_400 * 1_000))
        _ = try writer.append([
            Fixtures.draft("stakeholder.updated.v1", "stakeholder/lead-a", #"{"name":"Lead A, renamed"}"#),
            Fixtures.draft("action.proposed.v1", "action/act-1", #"{"title":"Act one, retitled","pillar":"value-chain-integration"}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/fx", #"{"provider":"lead-a","receiver":"kz-miid","amount":"4","currency":"EUR","date":"2024-02-05"}"#),
        ], now: Fixtures.time(86_400 * 1_001))
        _ = try writer.append([Fixtures.draft("event.retracted.v1", "funding/fx", #"{"event":"\#(later[2].id.hex)","reason":"typed twice"}"#)],
                              now: Fixtures.time(86_400 * 1_002))
        _ = try writer.append([Fixtures.draft("stakeholder.updated.v1", "stakeholder/lead-a", #"{"name":"Lead A, as it was then"}"#, time: Fixtures.time(86_400 * 999))],
                              now: Fixtures.time(86_400 * 1_003))
        writer.close()
        let web = WebJournal(journal: journal, writerOptions: .init())
        let current = try web.current()
        let names = Names(state: current.state, fundingTitles: current.facts.fundingTitles)
        var all: [Event] = []
        var events = try journal.events()
        while let event = try events.next() { all.append(event) }
        // Every event of the sample and of this test, and every 2nd of the import.
        var compared = 0
        for (n, event) in all.enumerated() where n < 28 || n >= all.count - 8 || n % 2 == 0 {
            let found = try #require(try web.event(event.id.hex))
            let kept = SubjectPages.kinds.contains(event.subject.kind)
            let new = EventPages.event(found, around: kept ? try web.states(around: event, current: current.state) : nil, names: names)
            let old = EventPages.event(found, around: kept ? Self.fullFold(all, around: event) : nil, names: names)
            #expect(new == old, "event \(n), \(event.type) \(event.subject)")
            compared += 1
        }
        #expect(compared > 300)
    }

    // MARK: References: the full scans the index replaced

    static let queries = [
        "", "page=2", "page=4", "page=999", "type=finance.committed.v1", "type=finance.committed.v1&page=2", "type=no.such.v1",
        "subject=funding/f-2", "subject=stakeholder/org-0", "site=brussels", "site=astana", "from=2023-01-01", "to=2023-03-01",
        "from=2023-01-01&to=2023-06-30&type=finance.disbursed.v1", "q=Organisation", "q=organisation", "q=plant 2", "q=f-1",
        "q=Joint&type=action.proposed.v1&page=2", "q=%E2%80%A6",
    ]

    /// Every event's summary, by one pass over the journal (the old `summaries(where:)`).
    static func scan(_ journal: EventJournal) throws -> [WebJournal.Summary] {
        var out: [WebJournal.Summary] = []
        var events = try journal.events()
        while let event = try events.next() { out.append(WebJournal.summary(of: event)) }
        return out.sorted(by: WebJournal.newerFirst)
    }

    static func expectSameLog(_ web: WebJournal, _ journal: EventJournal, _ query: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let filter = EventPages.Filter(try #require(FormData(urlEncoded: Array(query.utf8))))
        let kept = try scan(journal).filter(filter.accepts)
        let pages = max(1, (kept.count + EventPages.pageSize - 1) / EventPages.pageSize)
        let page = min(filter.page, pages)
        let expected = kept.dropFirst((page - 1) * EventPages.pageSize).prefix(EventPages.pageSize).map(\.id)
        let log = try web.log(filter, pageSize: EventPages.pageSize)
        #expect(log.total == kept.count, "\(query)", sourceLocation: sourceLocation)
        #expect(log.page == page, "\(query)", sourceLocation: sourceLocation)
        #expect(log.events.map(\.id) == Array(expected), "\(query)", sourceLocation: sourceLocation)
        let byID = Dictionary(kept.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for shown in log.events {
            let old = byID[shown.id]
            #expect(old?.time == shown.time && old?.site == shown.site && old?.seq == shown.seq && old?.type == shown.type
                    && old?.subject == shown.subject && old?.actor == shown.actor && old?.label == shown.label, "\(query)", sourceLocation: sourceLocation)
        }
    }

    /// The old `states(around:)`: every event recorded before `event` folded, then `event`.
    static func fullFold(_ all: [Event], around event: Event) -> WebJournal.Around {
        let target = Stamp(event)
        var before = PartnershipState()
        for other in all where Stamp(other).isRecorded(before: target) && !sameBytes(other.id.hex, event.id.hex) {
            PartnershipProjection.apply(other, to: &before)
        }
        var after = before
        PartnershipProjection.apply(event, to: &after)
        return WebJournal.Around(before: before, after: after)
    }
}

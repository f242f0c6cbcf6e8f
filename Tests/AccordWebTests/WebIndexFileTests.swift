import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
@testable import AccordWeb
import Foundation
import Testing

extension EventIterator {
    /// Reads every event and returns where the batch after the last one starts.
    mutating func nextPositionAfterAll() throws -> SegmentPosition {
        while try next() != nil {}
        return nextPosition
    }
}

/// The log's index kept in `cache/web.index` (Journal/UI.md §8.1): a loaded index answers as a
/// fresh one, extends as one, and a damaged, stale, foreign or other-version file is ignored
/// and rebuilt.
@Suite("accord ui: the index file is loaded, extended, or ignored and rebuilt")
struct WebIndexFileTests {
    // MARK: Tests

    @Test func aLoadedIndexAnswersEveryQueryAsTheFreshlyBuiltOne() throws {
        let temp = TemporaryDirectory("ui-file-load")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"))
        let built = WebJournal(journal: journal, writerOptions: .init())
        #expect(try built.warmUp().contains("built from the journal."))
        #expect(FileManager.default.fileExists(atPath: LogIndexFile(journal: journal).path), "written after a build from scratch")
        let loaded = WebJournal(journal: journal, writerOptions: .init())
        let said = try loaded.warmUp()
        #expect(said.contains("\(try built.index().count) loaded from 'cache/web.index' in ") && said.hasSuffix(" ms, and 0 read after it."), "\(said)")
        try Self.expectSameIndex(loaded, as: journal)
        for query in WebIndexTests.queries + ["q=Caf%C3%A9", "q=Cafe%CC%81", "q=Sutegi"] { try WebIndexTests.expectSameLog(loaded, journal, query) }
        // The texts are bytes: the composed and decomposed names are two texts, each found only by itself.
        #expect(try loaded.log(EventPages.Filter(try #require(FormData(urlEncoded: Array("q=Caf%C3%A9".utf8)))), pageSize: 50).total == 1)
        let events = try Self.all(journal)
        for event in events.prefix(30) { #expect(try loaded.event(event.id.hex)?.event.id == event.id) }
        #expect(try loaded.history(of: "funding/f-2", limit: 200).events.map(\.id) == (try built.history(of: "funding/f-2", limit: 200).events.map(\.id)))
    }

    @Test func anIndexWrittenThenExtendedByAnotherWriterAndABackDatedSyncEqualsAFreshBuild() throws {
        let temp = TemporaryDirectory("ui-file-extend")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("brussels"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time(86_400 * 800))
        _ = try WebJournal(journal: journal, writerOptions: .init()).warmUp()
        // Another writer appends, and a sync brings another office's events recorded long before.
        let other = try EventJournal(opening: journal.path)
        _ = try other.openWriter().append(Fixtures.realisticDrafts(count: 12, startingAt: 30), now: Fixtures.time(86_400 * 900))
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        _ = try astana.openWriter().append([
            Fixtures.draft("stakeholder.updated.v1", "stakeholder/org-0", #"{"name":"Organisation zero, renamed in Astana"}"#),
            Fixtures.draft("funding.described.v1", "funding/f-0", #"{"title":[{"text":"Astana's title"}]}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/f-0", #"{"provider":"eib","receiver":"kz-miid","amount":"5","currency":"EUR","date":"2020-01-01"}"#),
        ], now: Fixtures.time(-86_400 * 30))
        try journal.trust(try astana.signingKey().publicKey, for: astana.site)
        try astana.trust(try journal.signingKey().publicKey, for: journal.site)
        _ = try DirectorySync.sync(journal, with: astana)
        let extended = WebJournal(journal: journal, writerOptions: .init())
        let said = try extended.warmUp()
        #expect(said.contains("30 loaded from 'cache/web.index' in ") && said.hasSuffix(" ms, and 15 read after it."), "\(said)")
        try Self.expectSameIndex(extended, as: journal)
        #expect(try extended.facts().fundingTitles["f-0"] == "Astana's title")
        for query in ["", "site=astana", "subject=funding/f-0", "q=Astana", "to=2022-11-06", "page=2"] { try WebIndexTests.expectSameLog(extended, journal, query) }
        // 15 rows after a file of 30 is not enough to write it again.
        #expect(try LogIndexFile(journal: journal).load().get()?.index.count == 30)
        #expect(!LogIndexFile.isDue(rows: 45, inFile: 30))
        #expect(LogIndexFile.isDue(rows: 1_050_000, inFile: 1_000_000) && !LogIndexFile.isDue(rows: 1_049_999, inFile: 1_000_000))
    }

    @Test func everyTruncationAndFlippedByteOfTheFileIsIgnoredAndRebuilt() throws {
        let temp = TemporaryDirectory("ui-file-damage")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for batch in 0..<3 { _ = try writer.append(Fixtures.realisticDrafts(count: 4, startingAt: batch * 4), now: Fixtures.time(Int64(batch) * 86_400)) }
        writer.close()
        _ = try WebJournal(journal: journal, writerOptions: .init()).warmUp()
        let file = LogIndexFile(journal: journal)
        let good = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(try file.load().get()?.index.count == 12)
        for length in 0..<good.count {
            try good.prefix(length).write(to: URL(fileURLWithPath: file.path))
            guard case .failure = file.load() else { Issue.record("the file cut at byte \(length) was used"); continue }
        }
        for at in 0..<good.count {
            var bad = good
            bad[at] ^= 0x20
            try bad.write(to: URL(fileURLWithPath: file.path))
            guard case .failure = file.load() else { Issue.record("the file with byte \(at) flipped was used"); continue }
        }
        // Through the pages: each is ignored, the index rebuilt with the same answers and written again.
        let cuts = [0, 9, good.count / 3, good.count / 2, good.count - 33, good.count - 1]
        for (n, length) in cuts.enumerated() {
            var bad = good.prefix(length)
            if n % 2 == 1, length > 0 { bad[bad.startIndex + length / 2] ^= 0x01; bad.append(good.suffix(good.count - length)) }
            try Data(bad).write(to: URL(fileURLWithPath: file.path))
            let web = WebJournal(journal: journal, writerOptions: .init())
            let said = try web.warmUp()
            #expect(said.contains("built from the journal: 'cache/web.index' was ignored"), "\(said)")
            try Self.expectSameIndex(web, as: journal)
            for query in ["", "page=2", "type=finance.committed.v1", "q=Organisation"] { try WebIndexTests.expectSameLog(web, journal, query) }
            #expect(try file.load().get()?.index.count == 12, "written again")
        }
    }

    @Test func aFileOfAnotherJournalFromBeforeARestoreOrOfAnotherVersionIsIgnoredAndRebuilt() throws {
        let temp = TemporaryDirectory("ui-file-stale")
        defer { temp.remove() }
        let path = temp.child("brussels")
        let journal = try Fixtures.makeJournal(at: path)
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 20), now: Fixtures.time())
        let backup = temp.child("backup")
        try FileManager.default.copyItem(atPath: path, toPath: backup)
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 10, startingAt: 20), now: Fixtures.time(86_400))
        _ = try WebJournal(journal: journal, writerOptions: .init()).warmUp()
        let written = try Data(contentsOf: URL(fileURLWithPath: LogIndexFile(journal: journal).path))

        // The same office's journal of another partnership; another office's; a journal of the
        // same office and partnership that holds other events.
        let foreign = try EventJournal.create(at: temp.child("other-partnership"), site: SiteID("brussels"), seed: Fixtures.seed("brussels"), partnership: "eu-kz-2030")
        let astana = try Fixtures.makeJournal(at: temp.child("astana"), site: "astana")
        let twin = try Fixtures.makeJournal(at: temp.child("twin"))
        for (other, reason) in [(foreign, "belongs to the journal of site"), (astana, "belongs to the journal of site"), (twin, "does not hold as recorded")] {
            _ = try other.openWriter().append(Fixtures.realisticDrafts(count: 30, startingAt: 1_000), now: Fixtures.time(86_400 * 3))
            try Self.expectIgnoredAndRebuilt(other, file: written, because: reason)
        }
        // The backup restored: shorter than the file; then with other events where the file's last batch was.
        let restored = try EventJournal(opening: backup)
        try Self.expectIgnoredAndRebuilt(restored, file: written, because: "does not hold as recorded")
        _ = try restored.openWriter().append(Fixtures.realisticDrafts(count: 10, startingAt: 500), now: Fixtures.time(86_400 * 2))
        _ = try restored.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 600), now: Fixtures.time(86_400 * 2))
        try Self.expectIgnoredAndRebuilt(restored, file: written, because: "does not hold as recorded")
        // Another layout version (checked before the checksum).
        var other = written
        other[8] = 2
        try Self.expectIgnoredAndRebuilt(journal, file: other, because: "layout version is 2")
    }

    @Test func anIndexThatGrewByEnoughRowsWhileTheServerRanIsWrittenAgainAndLoadsAsAFreshBuild() throws {
        let temp = TemporaryDirectory("ui-file-rewrite")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time())
        let web = WebJournal(journal: journal, writerOptions: .init())
        #expect(try web.warmUp().contains("built from the journal."))
        #expect(try LogIndexFile(journal: journal).load().get()?.index.count == 30)
        // Another process appends enough for the file to be due again; the next request extends
        // the index and writes it (inline here), from the index as extended.
        let more = LogIndexFile.refreshRows
        _ = try EventJournal(opening: journal.path).openWriter().append(Fixtures.realisticDrafts(count: more, startingAt: 30), now: Fixtures.time(86_400))
        #expect(try web.current().state.eventCount == 30 + more)
        #expect(try LogIndexFile(journal: journal).load().get()?.index.count == 30 + more)
        try Self.expectSameIndex(WebJournal(journal: journal, writerOptions: .init()), as: journal)
    }

    @Test func aFIFOInPlaceOfTheIndexFileIsIgnoredWithoutBlocking() throws {
        let temp = TemporaryDirectory("ui-file-fifo")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time())
        #expect(mkdir(journal.path + "/cache", 0o755) == 0 || errno == EEXIST)
        #expect(mkfifo(LogIndexFile(journal: journal).path, 0o644) == 0)
        // Opening a FIFO for reading would wait for a writer: the server would never be ready.
        let said = try WebJournal(journal: journal, writerOptions: .init()).warmUp()
        #expect(said.contains("was ignored (It is not a regular file.)"), "\(said)")
    }

    @Test func aWriteThatFailsAtAnyStepLeavesTheFormerFileAndNoTemporaryFile() throws {
        let temp = TemporaryDirectory("ui-file-failing")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time())
        _ = try WebJournal(journal: journal, writerOptions: .init()).warmUp()
        let former = try Data(contentsOf: URL(fileURLWithPath: LogIndexFile(journal: journal).path))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 20, startingAt: 30), now: Fixtures.time(86_400))
        let index = try WebJournal(journal: journal, writerOptions: .init(), persistence: .off).index()
        let facts = try WebJournal(journal: journal, writerOptions: .init(), persistence: .off).facts()
        var all = try journal.events()
        let end = try all.nextPositionAfterAll()
        let io = FaultInjectingIO()
        var file = LogIndexFile(journal: journal)
        file.io = io
        for fault in [FaultInjectingIO.Fault.failWrites(afterBytes: 0, errno: EIO), .failWrites(afterBytes: 100, errno: ENOSPC),
                      .failWrites(afterBytes: former.count, errno: EIO), .failSync(errno: EIO)] {
            io.set(fault)
            #expect(throws: SegmentError.self, "\(fault)") { try file.write(index, facts: facts, end: end) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: file.path)) == former, "\(fault): the former file is in place")
            let left = try FileManager.default.contentsOfDirectory(atPath: journal.path + "/cache").filter { $0.hasPrefix("web.index.tmp-") }
            #expect(left.isEmpty, "\(fault): \(left)")
        }
        io.set(.none)
        try file.write(index, facts: facts, end: end)
        #expect(try file.load().get()?.index.count == 50)
    }

    @Test func accordUIWarmsUpAsItStartsAndWritesTheIndexFileForTheNextStart() throws {
        let temp = TemporaryDirectory("ui-file-warm")
        defer { temp.remove() }
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        _ = try journal.openWriter().append(Fixtures.realisticDrafts(count: 30), now: Fixtures.time())
        let first = try UIServer(journal: journal.path, scratch: temp)
        let ready = Self.waitForLine(startingWith: "Ready in ", in: first.output)
        let written = Self.waitUntil { (try? LogIndexFile(journal: journal).load().get()) != nil }
        first.stop()
        #expect(ready?.hasSuffix("30 events indexed; built from the journal.") == true, "\(ready ?? "no ready line")")
        #expect(written, "written in the background after the warm-up")
        let second = try UIServer(journal: journal.path, scratch: temp)
        defer { second.stop() }
        let again = Self.waitForLine(startingWith: "Ready in ", in: second.output)
        #expect(again?.contains("30 events indexed; 30 loaded from 'cache/web.index' in ") == true && again?.hasSuffix(" ms, and 0 read after it.") == true,
                "\(again ?? "no ready line")")
    }

    // MARK: Helpers

    /// A journal of several batches, a funding's title in Kazakh and a name composed and decomposed.
    static func journal(at path: String) throws -> EventJournal {
        let journal = try Fixtures.makeJournal(at: path)
        let writer = try journal.openWriter()
        for batch in 0..<6 {
            _ = try writer.append(Fixtures.realisticDrafts(count: 40, startingAt: batch * 40), now: Fixtures.time(Int64(batch) * 86_400 * 40))
        }
        _ = try writer.append([
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/cafe-a", #"{"name":"Café A","kind":"industrial","country":"KZ"}"#),
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/cafe-b", "{\"name\":\"Cafe\u{301} B\",\"kind\":\"industrial\",\"country\":\"KZ\"}"),
            Fixtures.draft("funding.described.v1", "funding/f-2", #"{"title":[{"text":"Сутегі несиесі, Sutegi","lang":"kk"}]}"#),
        ], now: Fixtures.time(86_400 * 300))
        writer.close()
        return journal
    }

    static func all(_ journal: EventJournal) throws -> [Event] {
        var out: [Event] = []
        var events = try journal.events()
        while let event = try events.next() { out.append(event) }
        return out
    }

    /// The index and facts of `web` are those of a build from the journal alone, column by column.
    static func expectSameIndex(_ web: WebJournal, as journal: EventJournal, accessPoints: AccessPointOptions = AccessPointOptions(),
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fresh = WebJournal(journal: journal, writerOptions: .init(), persistence: .off, accessPoints: accessPoints)
        let (a, b) = (try web.index(), try fresh.index())
        #expect(a.texts.pool == b.texts.pool && a.texts.starts == b.texts.starts, "texts", sourceLocation: sourceLocation)
        let (x, y) = (a.columns, b.columns)
        #expect(x.ids == y.ids && x.batchOf == y.batchOf && x.inBatch == y.inBatch && x.seqs == y.seqs, "rows", sourceLocation: sourceLocation)
        #expect(x.times == y.times && x.timeLengths == y.timeLengths && x.clockMilliseconds == y.clockMilliseconds
                && x.clockCounters == y.clockCounters, "times", sourceLocation: sourceLocation)
        #expect(x.sites == y.sites && x.types == y.types && x.subjects == y.subjects && x.actors == y.actors && x.labels == y.labels,
                "texts of rows", sourceLocation: sourceLocation)
        #expect(x.batchSegments == y.batchSegments && x.batchOffsets == y.batchOffsets && x.order == y.order, "batches, order", sourceLocation: sourceLocation)
        #expect(x.recordStarts == y.recordStarts && x.batchFramings == y.batchFramings, "record starts, framings", sourceLocation: sourceLocation)
        #expect(x.batchPoints.keys.sorted() == y.batchPoints.keys.sorted(), "batches with access points", sourceLocation: sourceLocation)
        for (batch, points) in x.batchPoints {
            let other = y.batchPoints[batch] ?? []
            #expect(points.map { [$0.compressedOffset, $0.bits, $0.uncompressedOffset] } == other.map { [$0.compressedOffset, $0.bits, $0.uncompressedOffset] }
                    && points.map(\.window) == other.map(\.window), "access points of batch \(batch)", sourceLocation: sourceLocation)
        }
        let (f, g) = (try web.facts(), try fresh.facts())
        #expect(Self.bytes(f.lastTimes) == Self.bytes(g.lastTimes) && Self.bytes(f.fundingTitles) == Self.bytes(g.fundingTitles), "facts", sourceLocation: sourceLocation)
        for row in 0..<min(a.count, b.count) { #expect(a.row(ofHex: LogIndex.hex(x.ids[(row * 32)..<(row * 32 + 32)])) == row) }
    }

    /// A map as sorted pairs of bytes.
    static func bytes(_ map: [String: String]) -> [[UInt8]] {
        map.map { Array($0.key.utf8) + [0] + Array($0.value.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Puts `file` in place of `journal`'s index file: it must be refused for `reason`, and
    /// `accord ui`'s pages rebuild the index (the same as a fresh build) and write it again.
    static func expectIgnoredAndRebuilt(_ journal: EventJournal, file: Data, because reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let index = LogIndexFile(journal: journal)
        try FileManager.default.createDirectory(atPath: journal.path + "/cache", withIntermediateDirectories: true)
        try file.write(to: URL(fileURLWithPath: index.path))
        guard case .failure(let rejection) = index.load() else {
            Issue.record("the file was used", sourceLocation: sourceLocation)
            return
        }
        #expect(rejection.reason.contains(reason), "\(rejection.reason)", sourceLocation: sourceLocation)
        let web = WebJournal(journal: journal, writerOptions: .init())
        let said = try web.warmUp()
        #expect(said.contains("built from the journal: 'cache/web.index' was ignored"), "\(said)", sourceLocation: sourceLocation)
        try expectSameIndex(web, as: journal, sourceLocation: sourceLocation)
        try WebIndexTests.expectSameLog(web, journal, "", sourceLocation: sourceLocation)
        #expect(try index.load().get()?.index.count == (try web.index().count), "written again", sourceLocation: sourceLocation)
    }

    /// The first line of `file` that starts with `prefix`, waiting for it (a deadline only for
    /// a server that never gets there).
    static func waitForLine(startingWith prefix: String, in file: String) -> String? {
        var line: String?
        _ = waitUntil {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            line = text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
            return line != nil
        }
        return line
    }

    /// Polls `condition` every 50 ms for up to 60 s.
    static func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<1_200 {
            if condition() { return true }
            usleep(50_000)
        }
        return false
    }
}

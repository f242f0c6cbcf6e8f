import AccordJournal
import AccordModel
import AccordTesting
import Foundation
import Testing

@Suite("The heads cache is a cache, never the truth")
struct HeadsCacheTests {
    func heads(_ writer: EventWriter) -> [String: String] {
        Dictionary(uniqueKeysWithValues: writer.heads.map { ($0.key.rawValue, "\($0.value.seq):\($0.value.id)") })
    }

    @Test func aWriterOpenedFromTheCacheKnowsWhatAFullReplayKnows() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        for round in 0..<5 { try journal.openWriter().append(Fixtures.realisticDrafts(count: 7, startingAt: round * 7)) }
        #expect(HeadsCache.load(journal) != nil)
        let cached = try journal.openWriter()
        let fromCache = (heads(cached), cached.eventCount)
        cached.close()
        let replayed = try journal.openWriter { _ in }  // an observer forces a full replay
        #expect(fromCache.0 == heads(replayed))
        #expect(fromCache.1 == 35 && replayed.eventCount == 35)
        replayed.close()
        let next = try journal.openWriter().append([Fixtures.realisticDraft(99)])
        #expect(next[0].seq.rawValue == 36)
        #expect(try journal.verify().isClean)
    }

    @Test func aCacheAheadOfACutTailOrFromAnotherJournalIsIgnored() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 3))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 3))
        // The last batch is cut off (as recovery would after bit rot): the cache now points past the end.
        let segment = journal.path + "/segments/00000001.gz"
        let ends = try batchEnds(of: journal.path)
        try FileDamage.truncate(segment, to: Int(ends[0]))
        #expect(HeadsCache.load(journal) == nil)
        let writer = try journal.openWriter()
        #expect(writer.head?.seq.rawValue == 3)
        writer.close()
        // Another journal's cache copied in does not match either.
        let other = try Fixtures.makeJournal(at: temp.child("other"))
        try other.openWriter().append(Fixtures.realisticDrafts(count: 9, startingAt: 50))
        try FileManager.default.removeItem(atPath: journal.path + "/cache/heads.json")
        try FileManager.default.copyItem(atPath: other.path + "/cache/heads.json", toPath: journal.path + "/cache/heads.json")
        #expect(HeadsCache.load(journal) == nil)
        #expect(try journal.openWriter().head?.seq.rawValue == 3)
        // A garbled cache is ignored.
        try FileDamage.write(journal.path + "/cache/heads.json", Array("{garbage".utf8))
        #expect(try journal.openWriter().head?.seq.rawValue == 3)
    }

    @Test func checkpointsPointAtOrBeforeEveryLaterEventOfTheirFeed() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for round in 0..<12 { try writer.append(Fixtures.realisticDrafts(count: 1000, startingAt: round * 1000)) }
        let cache = try HeadsCache.current(journal)
        #expect(cache.feeds["brussels"]?.checkpoints.count == 3)  // at 1, 5001, 10001
        for need in [0, 4_999, 5_000, 7_777, 11_999] as [UInt64] {
            var events = try journal.events(from: cache.start(for: "brussels", after: need))
            let first = try #require(try events.next())
            #expect(first.seq.rawValue <= need + 1)
        }
    }
}

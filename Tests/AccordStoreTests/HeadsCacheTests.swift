import AccordModel
import AccordSegments
import AccordStore
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

    @Test func aJournalThatLostAcknowledgedBatchesRefusesToAppendUntilTheLossIsAccepted() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 3))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 3))
        // The last acknowledged batch disappears (a truncated copy, a cut-off damaged batch).
        let segment = journal.path + "/segments/00000001.gz"
        let ends = try batchEnds(of: journal.path)
        try FileDamage.truncate(segment, to: Int(ends[0]))
        #expect(HeadsCache.load(journal) == nil)
        let refused = #expect(throws: AccordError.self) { try journal.openWriter() }
        #expect(refused?.message.contains("acknowledged batches are missing") == true)
        #expect(try journal.verify().problems.contains { $0.contains("acknowledged batches are missing") })
        // A deleted segment is noticed the same way.
        try FileDamage.copyDirectory(journal.path, to: temp.child("copy"))
        try FileManager.default.removeItem(atPath: temp.child("copy") + "/segments/00000001.gz")
        #expect(throws: AccordError.self) { try EventJournal(opening: temp.child("copy")).openWriter() }
        #expect(try !EventJournal(opening: temp.child("copy")).verify().isClean)
        // Accepting the loss: delete the cache; the writer then continues from what is there.
        try FileManager.default.removeItem(atPath: journal.path + "/cache/heads.json")
        let writer = try journal.openWriter()
        #expect(writer.head?.seq.rawValue == 3)
        writer.close()
        // A garbled cache is ignored.
        try FileDamage.write(journal.path + "/cache/heads.json", Array("{garbage".utf8))
        #expect(try journal.openWriter().head?.seq.rawValue == 3)
    }

    @Test func aWriterWhosePrivateKeyDoesNotMatchThePublishedKeyRefusesToAppend() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let other = try EventJournal.create(at: temp.child("other"), site: SiteID("brussels"))
        try FileManager.default.removeItem(atPath: journal.path + "/keys/brussels.key")
        try FileManager.default.copyItem(atPath: other.path + "/keys/brussels.key", toPath: journal.path + "/keys/brussels.key")
        let error = #expect(throws: AccordError.self) { try journal.openWriter() }
        #expect(error?.message.contains("does not match the public key") == true)
    }

    @Test func eventsTimedMoreThanADayAheadAreRefused() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let future = Timestamp(seconds: Timestamp.now().seconds + 3 * 86_400, nanoseconds: 0)
        let error = #expect(throws: AccordError.self) { try journal.openWriter().append([Fixtures.realisticDraft(0)], now: future) }
        #expect(error?.field == "time")
    }

    @Test func theCacheFileReadsBackAsTheCacheThatWroteIt() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for round in 0..<7 { try writer.append(Fixtures.realisticDrafts(count: 1000, startingAt: round * 1000)) }
        let written = writer.cache
        let bytes = try FileDamage.bytes(journal.path + "/cache/heads.json")
        // The JSON object on the first line, its SHA-256 on the second (Format.md §1).
        let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
        #expect(try JSONDecoder().decode(HeadsCache.self, from: Data(lines[0])) == written)
        #expect(String(decoding: lines[1], as: UTF8.self) == "v3 sha256:" + Digest.sha256Hex(Array(lines[0])))
        #expect(HeadsCache.load(journal) == written)
        #expect(written.feeds[try SiteID("brussels")]?.checkpoints.count == 2)
    }

    @Test func aCacheRewrittenInPlaceNeverKeepsStaleBytesAndATornWriteIsIgnored() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let path = journal.path + "/cache/heads.json"
        let writer = try journal.openWriter()
        for round in 0..<3 { try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: round * 10)) }
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64
        let longer = try FileDamage.bytes(path)
        try writer.append(Fixtures.realisticDrafts(count: 1, startingAt: 99))
        let after = try FileDamage.bytes(path)
        // Rewritten in place (same file), padded to at least the earlier length.
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64 == inode)
        #expect(after.count >= longer.count)
        #expect(HeadsCache.load(journal) == writer.cache)
        writer.close()

        // A save torn at every point against the one before it: either the old cache, the new
        // one, or none (replay) — never a mixture.
        let old = longer, new = after
        var ignored = 0
        for cut in stride(from: 0, through: new.count, by: 7) {
            var torn = new[..<cut] + old.dropFirst(cut)
            if torn.count < new.count { torn += new[torn.count...] }
            try FileDamage.write(path, Array(torn))
            let loaded = HeadsCache.loadUnchecked(journal)
            #expect(loaded == nil || loaded == HeadsCache.decode(file: old) || loaded == writer.cache, "cut at \(cut)")
            if loaded == nil { ignored += 1 }
            // Whatever the file holds, a writer opens on the journal's truth.
            let reopened = try journal.openWriter()
            #expect(heads(reopened) == heads(writer))
            reopened.close()
        }
        #expect(ignored > 0)
    }

    @Test func aCacheFileOfAnotherFormIsIgnoredAndTheWriterOpensOnTheJournal() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append(Fixtures.realisticDrafts(count: 20))
        let expected = heads(writer)
        writer.close()
        // A newer program's form: the same JSON line under another tag.
        let path = journal.path + "/cache/heads.json"
        let lines = try FileDamage.bytes(path).split(separator: 0x0a)
        let json = Array(lines[0])
        try FileDamage.write(path, json + Array("\nv4 sha256:\(Digest.sha256Hex(json))\n".utf8))
        #expect(HeadsCache.loadUnchecked(journal) == nil)
        let reopened = try journal.openWriter()
        #expect(heads(reopened) == expected)
        reopened.close()
    }

    @Test func aCacheFileOfTheEarlierFormIsStillRead() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append(Fixtures.realisticDrafts(count: 20))
        let cache = writer.cache
        writer.close()
        // One JSON object and nothing else, as versions before the checksum wrote it.
        let bytes = try FileDamage.bytes(journal.path + "/cache/heads.json")
        let json = Array(bytes.split(separator: 0x0a)[0])
        try FileDamage.write(journal.path + "/cache/heads.json", json)
        // Form 1 does not say where the key events lie (Format.md §1): unknown.
        var unknown = cache
        unknown.keyBatches = nil
        #expect(HeadsCache.load(journal) == unknown)
        // A writer replaces it by a file of the current form on its first save.
        let reopened = try journal.openWriter()
        try reopened.append(Fixtures.realisticDrafts(count: 1, startingAt: 20))
        #expect(try FileDamage.bytes(journal.path + "/cache/heads.json").contains(0x0a))
        #expect(HeadsCache.load(journal) == reopened.cache)
    }

    @Test func checkpointsPointAtOrBeforeEveryLaterEventOfTheirFeed() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        for round in 0..<12 { try writer.append(Fixtures.realisticDrafts(count: 1000, startingAt: round * 1000)) }
        let cache = try HeadsCache.current(journal)
        #expect(cache.feeds[try SiteID("brussels")]?.checkpoints.count == 3)  // at 1, 5001, 10001
        for need in [0, 4_999, 5_000, 7_777, 11_999] as [UInt64] {
            var events = try journal.events(from: cache.start(for: try SiteID("brussels"), after: SequenceNumber(need)))
            let first = try #require(try events.next())
            #expect(first.seq.rawValue <= need + 1)
        }
    }
}

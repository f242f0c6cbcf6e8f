import AccordModel
import AccordSegments
@testable import AccordStore
import AccordTesting
import Testing

@Suite("The heads cache file, rewritten in place")
struct HeadsCacheFileTests {
    @Test func aShorterCacheIsPaddedSoThatNoBytesOfTheLongerOneRemain() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let file = HeadsCacheFile(journal: journal)
        var long = HeadsCache.empty()
        for site in ["almaty", "astana", "brussels", "windhoek"] {
            long.feeds[try SiteID(site)] = HeadsCache.Feed(seq: SequenceNumber(123_456), id: try EventID(hex: String(repeating: "a", count: 64)), checkpoints: [])
        }
        var short = HeadsCache.empty()
        short.feeds[try SiteID("brussels")] = HeadsCache.Feed(seq: SequenceNumber(1), id: try EventID(hex: String(repeating: "b", count: 64)), checkpoints: [])
        file.save(long)
        let first = try FileDamage.bytes(journal.path + "/cache/heads.json")
        file.save(short)
        let second = try FileDamage.bytes(journal.path + "/cache/heads.json")
        #expect(second.count == first.count)
        #expect(HeadsCache.decode(file: second) == short)
        #expect(second.suffix(second.count - HeadsCacheFile.fileBytes(short).count).allSatisfy { $0 == 0x20 })
        file.closeFile()
    }

    /// Format.md §1, `cache/heads.json`: the exact bytes of a written cache, so that no change
    /// of the value's Swift types can change the file by one byte.
    @Test func aWrittenCacheHasExactlyTheBytesOfItsForm() throws {
        var cache = HeadsCache.empty()
        cache.end = SegmentPosition(segment: 2, offset: 4096)
        cache.lastBatch = SegmentPosition(segment: 2, offset: 1024)
        cache.lastID = try EventID(hex: String(repeating: "a", count: 64))
        cache.events = 12
        cache.clockMilliseconds = 1_795_945_723_097
        cache.clockCounter = 3
        cache.feeds[try SiteID("brussels")] = HeadsCache.Feed(seq: SequenceNumber(7), id: try EventID(hex: String(repeating: "c", count: 64)), checkpoints: [])
        cache.feeds[try SiteID("astana")] = HeadsCache.Feed(
            seq: SequenceNumber(5), id: try EventID(hex: String(repeating: "b", count: 64)),
            checkpoints: [HeadsCache.Checkpoint(seq: SequenceNumber(1), batch: SegmentPosition(segment: 1, offset: 0))])
        let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64), c = String(repeating: "c", count: 64)
        let json = #"{"end":{"segment":2,"offset":4096},"lastBatch":{"segment":2,"offset":1024},"lastID":""# + a
            + #"","events":12,"clockMilliseconds":1795945723097,"clockCounter":3,"feeds":{"astana":{"seq":5,"id":""# + b
            + #"","checkpoints":[{"seq":1,"batch":{"segment":1,"offset":0}}]},"brussels":{"seq":7,"id":""# + c
            + #"","checkpoints":[]}}}"#
        // Form 2, as the program before form 3 wrote it, is still read; where its key events
        // lie is unknown (nil) then.
        let formTwo = json + "\nv2 sha256:7ae85de06ae696bdda4929cdf428c01c2d50b88bfd29d33a13a41dde20099506\n"
        var unknown = cache
        unknown.keyBatches = nil
        #expect(HeadsCache.decode(file: Array(formTwo.utf8)) == unknown)
        #expect(HeadsCache.decode(file: Array((formTwo + "  \n ").utf8)) == unknown)
        // Form 3 adds `keyBatches` and says `v3`.
        cache.keyBatches = [SegmentPosition(segment: 1, offset: 0), SegmentPosition(segment: 2, offset: 1024)]
        let formThree = String(json.dropLast()) + #","keyBatches":[{"segment":1,"offset":0},{"segment":2,"offset":1024}]}"#
        let expected = formThree + "\nv3 sha256:993335ba1aa7d659b764effa03e61fe50fa6f42aedb730c393346b7e1f601070\n"
        #expect(HeadsCacheFile.fileBytes(cache) == Array(expected.utf8))
        #expect(HeadsCacheFile.fileBytes(cache, minimum: expected.utf8.count + 3) == Array((expected + "   ").utf8))
        #expect(HeadsCache.decode(file: Array(expected.utf8)) == cache)
        // The object of form 3 under a form-2 line (a program that knew form 2 only rewrote
        // it): read, but the key batches it names are not trusted to be complete.
        let relabelled = HeadsCache.decode(file: Array((formThree + "\nv2 sha256:" + expected.split(separator: ":").last!.dropLast()).utf8) + [0x0a])
        #expect(relabelled != nil && relabelled?.keyBatches == nil)
    }
}

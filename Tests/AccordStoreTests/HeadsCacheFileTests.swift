import AccordModel
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
            long.feeds[site] = HeadsCache.Feed(seq: 123_456, id: String(repeating: "a", count: 64), checkpoints: [])
        }
        var short = HeadsCache.empty()
        short.feeds["brussels"] = HeadsCache.Feed(seq: 1, id: String(repeating: "b", count: 64), checkpoints: [])
        file.save(long)
        let first = try FileDamage.bytes(journal.path + "/cache/heads.json")
        file.save(short)
        let second = try FileDamage.bytes(journal.path + "/cache/heads.json")
        #expect(second.count == first.count)
        #expect(HeadsCache.decode(file: second) == short)
        #expect(second.suffix(second.count - HeadsCacheFile.fileBytes(short).count).allSatisfy { $0 == 0x20 })
        file.closeFile()
    }
}

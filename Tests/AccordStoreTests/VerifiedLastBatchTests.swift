import AccordModel
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Glibc
import Testing

/// The heads cache's check of the last batch, remembered for the rest of the process while
/// the segment file is unchanged (issue 16): remembered when written, forgotten by any change.
@Suite("A last batch found where the heads cache says is remembered only while its file is unchanged")
struct VerifiedLastBatchTests {
    static func remembered(_ journal: EventJournal) throws -> VerifiedLastBatch {
        let cache = try #require(HeadsCache.loadUnchecked(journal))
        return VerifiedLastBatch(journal, lastBatch: try #require(cache.lastBatch), end: cache.end, lastID: try #require(cache.lastID))
    }

    @Test func aBatchTheWriterJustWroteIsBelievedWithoutReadingItBack() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append(Fixtures.realisticDrafts(count: 40))
        #expect(try Self.remembered(journal).isKnown)
        #expect(HeadsCache.load(journal) == writer.cache)
        writer.close()
    }

    @Test func aByteChangedInPlaceWithItsModificationTimePutBackIsNoticed() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 5))
        try journal.openWriter().append(Fixtures.realisticDrafts(count: 40, startingAt: 5))
        #expect(HeadsCache.load(journal) != nil)
        let segment = journal.path + "/segments/00000001.gz"
        var before = stat()
        stat(segment, &before)
        // One byte of the last batch's compressed data changed in place: same inode, same
        // size, and the modification time set back to what it was. Only the change time shows it.
        let ends = try batchEnds(of: journal.path)
        let offset = off_t(ends[0] + 40)
        let fd = open(segment, O_RDWR)
        #expect(fd >= 0)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, offset) == 1)
        byte ^= 0x5A
        #expect(pwrite(fd, &byte, 1, offset) == 1)
        var times = [before.st_atim, before.st_mtim]
        #expect(futimens(fd, &times) == 0)
        close(fd)
        var after = stat()
        stat(segment, &after)
        #expect(after.st_size == before.st_size && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_ino == before.st_ino)
        #expect(try !Self.remembered(journal).isKnown)
        #expect(HeadsCache.load(journal) == nil)
    }

    @Test func aCutOffLastBatchIsNoticedInTheProcessThatWroteIt() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append(Fixtures.realisticDrafts(count: 3))
        try writer.append(Fixtures.realisticDrafts(count: 3, startingAt: 3))
        writer.close()
        #expect(try Self.remembered(journal).isKnown)
        try FileDamage.truncate(journal.path + "/segments/00000001.gz", to: Int(try batchEnds(of: journal.path)[0]))
        #expect(try !Self.remembered(journal).isKnown)
        #expect(HeadsCache.load(journal) == nil)
    }
}

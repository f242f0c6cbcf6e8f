import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// A long fold written to disk a run of batches at a time (`READMODEL_CHUNK_EVENTS`, Format.md
/// §9.4.5): the model loaded back after each run holds the history's extents, not its entries.
@Suite("The read model: a long fold written in chunks")
struct ReadModelChunkTests {
    /// A journal of `batches` batches of 10 realistic events each (fundings with their ledgers,
    /// research outputs, programme deliveries).
    static func journal(at path: String, batches: Int) throws -> EventJournal {
        let journal = try Fixtures.makeJournal(at: path)
        let writer = try journal.openWriter()
        defer { writer.close() }
        for n in 0..<batches {
            _ = try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: n * 10), now: Fixtures.time(Int64(n) * 86_400))
        }
        return journal
    }

    static func fold(_ journal: EventJournal) throws -> PartnershipState {
        try StateBuilder(journal: journal).build(useReadModel: false).state
    }

    @Test(arguments: [1, 25, 95])
    func aRebuildWrittenInChunksEqualsAOneGoFoldAndLoadsBackTheSame(chunk: Int) throws {
        let temp = TemporaryDirectory("readmodel-chunks")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        let store = ReadModelStore<PartnershipState>(journal: journal)
        let built = try store.current(chunkEvents: chunk)
        #expect(built.replayed == 300 && built.wrote != nil)
        #expect(built.model == full && built.model.historyCounts == full.historyCounts)
        #expect(sameBytes(try built.model.digest(), try full.digest()))
        // Loaded back: nothing to fold, the same state, the same views that read the history.
        let loaded = try store.current(chunkEvents: chunk)
        #expect(loaded.replayed == 0 && loaded.loadedEvents == 300)
        #expect(loaded.model == full)
        #expect(Views.research(loaded.model) == Views.research(full))
        #expect(Views.transactionsByStage(loaded.model) == Views.transactionsByStage(full))
        #expect(Views.summary(loaded.model, reference: try CalendarDate(parsing: "2026-12-07")) == Views.summary(full, reference: try CalendarDate(parsing: "2026-12-07")))
        // And folded on from there as from a read model written in one go.
        let writer = try journal.openWriter()
        _ = try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: 300), now: Fixtures.time(31 * 86_400))
        writer.close()
        #expect(try store.current(chunkEvents: chunk).model == (try Self.fold(journal)))
    }

    @Test func aRebuildThatMeetsADamagedBatchKeepsTheChunksBeforeItOnDisk() throws {
        let temp = TemporaryDirectory("readmodel-chunks-damage")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        var batches = try journal.directory.batches()
        var members: [Batch] = []
        while let batch = try batches.next() { members.append(batch) }
        // A byte inside batch 20 (of 30): not the last member, so not a torn tail.
        let damaged = members[20]
        try FileDamage.flip(journal.directory.path + "/" + SegmentDirectory.relativeSegmentPath(damaged.segment), at: Int(damaged.offset) + damaged.length / 2)
        let store = ReadModelStore<PartnershipState>(journal: journal)
        #expect(throws: (any Error).self) { try store.current(chunkEvents: 50) }
        // The chunks written before the damage: the first 200 events (batches 0–19), as folded.
        guard case .success(let kept?) = store.load() else {
            Issue.record("no read model was kept on disk")
            return
        }
        #expect(kept.coverage.end == damaged.position)
        var before = PartnershipState()
        var events = try journal.events()
        for _ in 0..<200 { before.fold(try #require(try events.next())) }
        #expect(kept.model == before)
    }

    /// Every history entry of a state: its fundings' ledgers, its outputs and deliveries.
    static func historyEntries(_ state: PartnershipState) -> Int {
        state.fundings.values.reduce(state.outputs.count + state.deliveries.count) { $0 + $1.ledger.count }
    }

    /// Records what a rebuild holds each time it reads a chunk back (called on the fold's thread).
    final class ReadBacks: @unchecked Sendable {
        private let lock = NSLock()
        private var held: [Int] = []
        var action: (@Sendable (Int) -> Void)?
        func record(_ entries: Int) {
            lock.lock()
            held.append(entries)
            let count = held.count
            lock.unlock()
            action?(count)
        }
        var entries: [Int] {
            lock.lock()
            defer { lock.unlock() }
            return held
        }
    }

    @Test(arguments: [25, 50, 100])
    func aRebuildHoldsAtMostOneChunkOfHistoryAndReleasesItBeforeReadingTheChunkBack(chunk: Int) throws {
        let temp = TemporaryDirectory("readmodel-chunks-held")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var store = ReadModelStore<PartnershipState>(journal: journal)
        let readBacks = ReadBacks()
        store.readingBack = { readBacks.record($0) }
        let built = try store.current(chunkEvents: chunk)
        #expect(built.model == full)
        // A chunk ends at the first batch end (batches of 10) at or past `chunk` events; the
        // last chunk is the last write.
        let ends = Array(stride(from: (chunk + 9) / 10 * 10, through: 300, by: (chunk + 9) / 10 * 10))
        #expect(built.writes.map(\.events) == ends + (ends.last == 300 ? [] : [300]))
        // At most one chunk's entries (one per event at most) in memory at a time, and every
        // entry written once.
        #expect(built.writes.allSatisfy { $0.historyEntries <= (chunk + 9) / 10 * 10 })
        #expect(built.writes.reduce(0) { $0 + $1.historyEntries } == Self.historyEntries(full))
        // When a chunk is read back, the fold no longer holds its entries (nor the state they
        // came with): the two are never in memory together.
        #expect(readBacks.entries.count == ends.count)
        #expect(readBacks.entries.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [5, 15, 40])
    func aRebuildWritesAChunkOnceItHasFoldedTheBoundOfHistoryEntriesWhateverTheEvents(bound: Int) throws {
        let temp = TemporaryDirectory("readmodel-chunks-entries")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var store = ReadModelStore<PartnershipState>(journal: journal)
        let readBacks = ReadBacks()
        store.readingBack = { readBacks.record($0) }
        // No bound by events: only the entries folded end a chunk (READMODEL_CHUNK_ENTRIES);
        // the rest after the last chunk is written too (refreshAfter: 1).
        let built = try store.current(refreshAfter: 1, chunkEvents: nil, chunkEntries: bound)
        #expect(built.model == full && built.model.historyCounts == full.historyCounts)
        #expect(sameBytes(try built.model.digest(), try full.digest()))
        // A chunk ends at the first batch end at or past `bound` entries: before that batch the
        // model held fewer, and a batch of 10 events adds at most 10.
        #expect(built.writes.count >= Self.historyEntries(full) / (bound + 9))
        #expect(built.writes.count > 1)
        #expect(built.writes.allSatisfy { $0.historyEntries < bound + 10 })
        #expect(built.writes.reduce(0) { $0 + $1.historyEntries } == Self.historyEntries(full))
        #expect(readBacks.entries.allSatisfy { $0 == 0 })
        // Loaded back, and folded on from, as any read model.
        let loaded = try store.current(chunkEvents: nil, chunkEntries: bound)
        #expect(loaded.replayed == 0 && loaded.model == full)
        let writer = try journal.openWriter()
        _ = try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: 300), now: Fixtures.time(31 * 86_400))
        writer.close()
        #expect(try store.current(chunkEvents: nil, chunkEntries: bound).model == (try Self.fold(journal)))
    }

    @Test func theCountOfEntriesFoldedStartsAtNothingForAModelReadBackAndCountsEveryEntry() throws {
        let temp = TemporaryDirectory("readmodel-chunks-counted")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 5)
        let full = try Self.fold(journal)
        #expect(full.historyEntriesFolded == Self.historyEntries(full) && full.historyEntriesFolded > 0)
        let store = ReadModelStore<PartnershipState>(journal: journal)
        _ = try store.current(refreshAfter: 1)
        guard case .success(let loaded?) = store.load() else {
            Issue.record("no read model was written")
            return
        }
        #expect(loaded.model.historyEntriesFolded == 0 && loaded.model == full)
    }

    @Test func packingTheHistoryKeepsEveryEntryEncodedAndChangesNothingOfTheState() throws {
        let temp = TemporaryDirectory("readmodel-pack")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var packed = full
        packed.packHistory()
        // No entry is held as a value any more, and none is lost.
        #expect(packed.outputs.unpackedCount == 0 && packed.deliveries.unpackedCount == 0)
        #expect(packed.fundings.values.allSatisfy { $0.ledger.unpackedCount == 0 })
        #expect(full.deliveries.unpackedCount > 0 && full.fundings.values.contains { $0.ledger.unpackedCount > 0 })
        #expect(packed.historyEntriesInMemory == full.historyEntriesInMemory)
        #expect(packed == full)
        #expect(sameBytes(try packed.digest(), try full.digest()))
        #expect(packed.outputs.count == full.outputs.count && packed.deliveries.count == full.deliveries.count)
        for (id, funding) in full.fundings {
            for (key, entry) in funding.ledger { #expect(packed.fundings[id]?.ledger[key] == entry) }
        }
        #expect(Views.research(packed) == Views.research(full))
        #expect(Views.transactionsByStage(packed) == Views.transactionsByStage(full))
        // Folded on from the packed state: an entry set later replaces a packed one with its key,
        // and the state stays the fold's.
        var events = try journal.events()
        var again = PartnershipState()
        var n = 0
        while let event = try events.next() {
            again.fold(event)
            n += 1
            if n % 7 == 0 { again.packHistory() }
        }
        #expect(again == full)
        #expect(sameBytes(try again.digest(), try full.digest()))
        let keys = Array(packed.deliveries.keys.prefix(2))
        try #require(keys.count == 2)
        let (key, other) = (keys[0], try #require(packed.deliveries[keys[1]]))
        #expect(packed.deliveries[key] != other)
        var replaced = packed.deliveries
        replaced[key] = other
        #expect(replaced[key] == other && replaced.count == packed.deliveries.count && replaced.entries[key] == other)
    }

    @Test(arguments: [1, 4, 30])
    func aRebuildThatPacksItsHistoryWritesAndLoadsBackTheSameState(pack: Int) throws {
        let temp = TemporaryDirectory("readmodel-chunks-packed")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var store = ReadModelStore<PartnershipState>(journal: journal)
        store.packEntries = pack
        let built = try store.current(refreshAfter: 1, chunkEvents: nil, chunkEntries: 40)
        #expect(built.model == full)
        #expect(sameBytes(try built.model.digest(), try full.digest()))
        #expect(built.writes.count > 1)
        #expect(built.writes.reduce(0) { $0 + $1.historyEntries } == Self.historyEntries(full))
        let loaded = try store.current(chunkEvents: nil, chunkEntries: 40)
        #expect(loaded.replayed == 0 && loaded.model == full)
        #expect(Views.research(loaded.model) == Views.research(full))
        #expect(Views.transactionsByStage(loaded.model) == Views.transactionsByStage(full))
        let writer = try journal.openWriter()
        _ = try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: 300), now: Fixtures.time(31 * 86_400))
        writer.close()
        #expect(try store.current(chunkEvents: nil, chunkEntries: 40).model == (try Self.fold(journal)))
    }

    @Test func aChunkRemovedBeforeItIsReadBackIsFoldedAgainFromTheStart() throws {
        let temp = TemporaryDirectory("readmodel-chunks-removed")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var store = ReadModelStore<PartnershipState>(journal: journal)
        let path = store.path
        let readBacks = ReadBacks()
        readBacks.action = { count in if count == 2 { unlink(path) } }
        store.readingBack = { readBacks.record($0) }
        let built = try store.current(refreshAfter: 1, chunkEvents: 50)
        // The second chunk vanished before it was read back: nothing of the fold was left, so it
        // started again, in memory, and wrote the whole state at the end.
        #expect(readBacks.entries.count == 2)
        #expect(built.model == full && built.replayed == 300 && built.wrote != nil)
        #expect(built.writes.map(\.events) == [50, 100, 300])
        store.readingBack = nil
        let loaded = try store.current(chunkEvents: 50)
        #expect(loaded.replayed == 0 && loaded.loadedEvents == 300 && loaded.model == full)
    }

    @Test(arguments: [false, true])
    func aChunkReplacedByAnotherWritersReadModelIsFoldedOnFromThatOne(ahead: Bool) throws {
        let temp = TemporaryDirectory("readmodel-chunks-replaced")
        defer { temp.remove() }
        // Another writer's read model, of the first 40 or 120 events, saved aside.
        let journal = try Self.journal(at: temp.child("j"), batches: ahead ? 12 : 4)
        let store0 = ReadModelStore<PartnershipState>(journal: journal)
        #expect(try store0.current(refreshAfter: 1).wrote != nil)
        let saved = temp.child("saved")
        try FileManager.default.createDirectory(atPath: saved, withIntermediateDirectories: true)
        for file in [store0.path, store0.historyPath] {
            try FileManager.default.copyItem(atPath: file, toPath: saved + "/" + (file as NSString).lastPathComponent)
        }
        let writer = try journal.openWriter()
        for n in (ahead ? 12 : 4)..<30 {
            _ = try writer.append(Fixtures.realisticDrafts(count: 10, startingAt: n * 10), now: Fixtures.time(Int64(n) * 86_400))
        }
        writer.close()
        unlink(store0.path)
        unlink(store0.historyPath)
        let full = try Self.fold(journal)
        // At the second read-back (after 100 events), the other writer's files are put in place.
        var store = ReadModelStore<PartnershipState>(journal: journal)
        let (history, summary) = (store.historyPath, store.path)
        let readBacks = ReadBacks()
        readBacks.action = { count in
            guard count == 2 else { return }
            rename(saved + "/partnership.history", history)
            rename(saved + "/partnership.readmodel", summary)
        }
        store.readingBack = { readBacks.record($0) }
        let built = try store.current(refreshAfter: 1, chunkEvents: 50)
        #expect(built.model == full && built.wrote != nil)
        #expect(built.writes.first?.events == 50 && built.writes.last?.events == 300)
        #expect(sameBytes(try built.model.digest(), try full.digest()))
        store.readingBack = nil
        let loaded = try store.current(chunkEvents: 50)
        #expect(loaded.replayed == 0 && loaded.loadedEvents == 300 && loaded.model == full)
        #expect(Views.transactionsByStage(loaded.model) == Views.transactionsByStage(full))
    }

    @Test(arguments: [0, 1, 100, 5_000, 20_000])
    func aChunkWriteCutOffAtAnyByteLeavesTheChunkBeforeItAndTheNextReadIsExact(bytes: Int) throws {
        let temp = TemporaryDirectory("readmodel-chunks-cut")
        defer { temp.remove() }
        let journal = try Self.journal(at: temp.child("j"), batches: 30)
        let full = try Self.fold(journal)
        var store = ReadModelStore<PartnershipState>(journal: journal)
        let io = FaultInjectingIO()
        store.io = io
        // From the second read-back on (100 events on disk), every write stops after `bytes`
        // bytes, as if the process were killed there: the third chunk and the last write fail.
        let readBacks = ReadBacks()
        readBacks.action = { count in if count == 2 { io.set(.failWrites(afterBytes: bytes, errno: EIO)) } }
        store.readingBack = { readBacks.record($0) }
        let built = try store.current(refreshAfter: 1, chunkEvents: 50)
        #expect(built.model == full && built.wrote == nil)
        #expect(built.writes.map(\.events) == [50, 100])
        // On disk: the second chunk, whole, whatever the cut left after it.
        io.set(.none)
        store.readingBack = nil
        guard case .success(let kept?) = store.load() else {
            Issue.record("the second chunk is not on disk")
            return
        }
        #expect(kept.vector.values.reduce(0) { $0 + $1.events } == 100)
        let next = try store.current(chunkEvents: 50)
        #expect(next.loadedEvents == 100 && next.replayed == 200 && next.model == full)
        #expect(sameBytes(try next.model.digest(), try full.digest()))
    }
}

/// The read model's writer holds at most one buffer of ``ReadModelEncoder/bufferBytes`` per file
/// it writes: a long value is handed on in pieces, never gathered whole (Format.md §9.4.5).
@Suite("The read model: the writer's buffer")
struct ReadModelEncoderBufferTests {
    /// Writes through the system calls and remembers the largest write.
    final class Recording: SegmentIO, @unchecked Sendable {
        private let lock = NSLock()
        private var largest = 0
        func write(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) -> Int {
            lock.lock()
            largest = max(largest, bytes.count)
            lock.unlock()
            return SystemSegmentIO().write(fd: fd, bytes: bytes, at: offset)
        }
        func sync(fd: Int32) -> Int32 { SystemSegmentIO().sync(fd: fd) }
        func truncate(fd: Int32, to length: Int64) -> Int32 { SystemSegmentIO().truncate(fd: fd, to: length) }
        var largestWrite: Int {
            lock.lock()
            defer { lock.unlock() }
            return largest
        }
    }

    @Test(arguments: [0, 1, ReadModelEncoder.bufferBytes - 3, ReadModelEncoder.bufferBytes])
    func aTextOfTheLargestSizeIsHandedOnInPiecesOfAtMostOneBuffer(before: Int) throws {
        let temp = TemporaryDirectory("readmodel-encoder-buffer")
        defer { temp.remove() }
        let path = temp.child("f")
        let io = Recording()
        let long = String(repeating: "ä", count: ReadModelFile.maxTextBytes / 2)
        let filler = [UInt8](repeating: 7, count: before)
        try ReadModelFile.writeAtomically(path, io: io) { out in
            try out.raw(filler)
            try out.text(long)
            try out.u32(0xA1B2_C3D4)
            try out.text("end")
        }
        #expect(io.largestWrite <= ReadModelEncoder.bufferBytes)
        // The bytes are those written, in order, the checksum last.
        let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        var expected = filler
        withUnsafeBytes(of: UInt32(long.utf8.count).littleEndian) { expected += $0 }
        expected += Array(long.utf8)
        withUnsafeBytes(of: UInt32(0xA1B2_C3D4).littleEndian) { expected += $0 }
        withUnsafeBytes(of: UInt32(3).littleEndian) { expected += $0 }
        expected += Array("end".utf8)
        #expect(bytes.count == expected.count + 32)
        #expect(Array(bytes.prefix(expected.count)) == expected)
        #expect(Digest.sha256Hex(expected) == bytes.suffix(32).map { String(format: "%02x", $0) }.joined())
    }
}

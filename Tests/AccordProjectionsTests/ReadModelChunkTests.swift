import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
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
}

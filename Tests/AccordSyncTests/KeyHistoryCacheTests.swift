import AccordModel
import AccordSegments
@testable import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Regression: every process that needed a site's key in force (each `accord sync`, each bundle
/// applied, each `accord keys show`) read the whole journal to find the key events — 3.3 s at
/// 300,000 events, where a sync of a small delta had taken 0.17 s at 1M. Now the heads cache
/// says which batches hold key events (Format.md §1, form 3, `keyBatches`), and the scan reads
/// those and the events after the cache.
@Suite("Key histories read from the batches the heads cache names")
struct KeyHistoryCacheTests {
    /// What a history says, to compare two.
    struct Summary: Equatable {
        var epochs: [KeyHistory.Epoch]
        var revocations: [KeyHistory.Revocation]
        var nextDigest: String?
        var keyEvents: [SequenceNumber: EventID]

        init(_ history: KeyHistory?) {
            epochs = history?.epochs ?? []
            revocations = history?.revocations ?? []
            nextDigest = history?.nextDigest
            keyEvents = history?.keyEvents ?? [:]
        }
    }

    /// The histories as a new process reads them (nothing kept in this one for `journal`).
    /// Only this journal's scan is dropped: the process's other scans belong to tests running
    /// at the same time (dropping them all made
    /// `theWritersAppendsAdvanceTheKeptKeyHistoriesWithoutReadingThemBack` fail when another
    /// test called this between its append and its check).
    static func fresh(_ journal: EventJournal) throws -> [SiteID: Summary] {
        KeyHistoryScan.cache.withLock { $0[journal.path] = nil }
        return try journal.keyHistories().mapValues(Summary.init)
    }

    /// Brussels rotates twice (and Astana once) between batches of ordinary events, in
    /// batches of 50, and Astana receives all of it.
    static func rotatedPartnership() throws -> Partnership {
        let partnership = try Partnership(["astana", "brussels"])
        for round in 0..<6 {
            try partnership.append("brussels", Fixtures.realisticDrafts(count: 50, startingAt: round * 50))
            try partnership.append("astana", Fixtures.realisticDrafts(count: 50, startingAt: 10_000 + round * 50))
            switch round {
            case 1: _ = try KeyRotation.incept(partnership["brussels"]); _ = try KeyRotation.incept(partnership["astana"])
            case 2: _ = try KeyRotation.rotate(partnership["brussels"])
            case 4: _ = try KeyRotation.rotate(partnership["brussels"]); _ = try KeyRotation.rotate(partnership["astana"])
            default: break
            }
        }
        try partnership.bundle(from: "brussels", to: "astana")
        try partnership.bundle(from: "astana", to: "brussels")
        return partnership
    }

    static func headsCachePath(_ journal: EventJournal) -> String { journal.path + "/cache/heads.json" }

    /// Every batch of the journal: where it starts, its length, whether it holds a key event.
    static func batches(_ journal: EventJournal) throws -> [(position: SegmentPosition, length: Int, keys: Bool)] {
        var found: [(SegmentPosition, Int, Bool)] = []
        var batches = try journal.directory.batches()
        while let batch = try batches.next() {
            let keys = try batch.records.contains { KeyHistory.isKeyEvent(try EventRecord.decode($0)) }
            found.append((batch.position, batch.length, keys))
        }
        return found
    }

    @Test func theHeadsCacheNamesExactlyTheBatchesThatHoldKeyEventsAndTheHistoriesEqualAFullScan() throws {
        let partnership = try Self.rotatedPartnership()
        for site in ["astana", "brussels"] {
            let journal = partnership[site]
            let cache = try #require(HeadsCache.load(journal))
            let expected = try Self.batches(journal).filter(\.keys).map(\.position)
            // Brussels's three key events and Astana's two, each a batch where it was appended;
            // a replicated run may carry several in one batch.
            #expect(expected.count >= 2 && expected.count <= 5, "\(site): \(expected)")
            #expect(cache.keyBatches == expected)
            let fromCache = try Self.fresh(journal)
            try FileManager.default.removeItem(atPath: Self.headsCachePath(journal))
            let fullScan = try Self.fresh(journal)
            #expect(fromCache == fullScan)
            #expect(fromCache[try SiteID("brussels")]?.epochs.count == 3)
            #expect(fromCache[try SiteID("astana")]?.epochs.count == 2)
        }
    }

    /// The proof that the scan skips the other batches, without a clock: a batch without key
    /// events, damaged in the middle, stops a full scan, but not one that the cache guides.
    @Test func aScanGuidedByTheCacheReadsNoBatchWithoutKeyEvents() throws {
        let partnership = try Self.rotatedPartnership()
        let journal = partnership["astana"]
        let expected = try Self.fresh(journal)
        let plain = try Self.batches(journal).filter { !$0.keys }
        let victim = plain[plain.count / 2]
        let segment = journal.path + "/segments/" + String(format: "%08d.gz", victim.position.segment)
        try FileDamage.flip(segment, at: Int(victim.position.offset) + victim.length / 2)
        #expect(try Self.fresh(journal) == expected)
        try FileManager.default.removeItem(atPath: Self.headsCachePath(journal))
        #expect(throws: (any Error).self) { try Self.fresh(journal) }
    }

    @Test func aCacheThatNamesABatchTheJournalDoesNotHoldThereFallsBackToAFullScan() throws {
        let partnership = try Self.rotatedPartnership()
        let journal = partnership["brussels"]
        let expected = try Self.fresh(journal)
        var cache = try #require(HeadsCache.load(journal))
        let first = try #require(cache.keyBatches?.first)
        cache.keyBatches![0] = SegmentPosition(segment: first.segment, offset: first.offset + 7)
        try FileBytes.writeAtomically(Self.headsCachePath(journal), bytes: HeadsCacheFile.fileBytes(cache))
        #expect(HeadsCache.load(journal)?.keyBatches?.first == SegmentPosition(segment: first.segment, offset: first.offset + 7))
        #expect(try Self.fresh(journal) == expected)
    }

    /// A cache of form 2 (written before `keyBatches`) says nothing of where key events lie: a
    /// scan reads the whole journal, and the next writer replays it once and saves form 3.
    @Test func aCacheOfTheFormerFormIsReplacedByOneThatNamesTheKeyBatches() throws {
        let partnership = try Self.rotatedPartnership()
        let journal = partnership["brussels"]
        let expected = try Self.fresh(journal)
        let current = try #require(HeadsCache.load(journal))
        var former = current
        former.keyBatches = nil
        let json = former.jsonBytes()
        try FileBytes.writeAtomically(Self.headsCachePath(journal), bytes: json + Array("\nv2 sha256:\(Digest.sha256Hex(json))\n".utf8))
        #expect(HeadsCache.load(journal) == former)
        #expect(try Self.fresh(journal) == expected)
        try journal.openWriter().close()
        #expect(HeadsCache.load(journal) == current)
        #expect(try FileDamage.bytes(Self.headsCachePath(journal)).split(separator: 0x0a)[1].starts(with: Array("v3 sha256:".utf8)))
    }

    /// Regression (issue 16): every `appendReplicated` called `keyHistories()`, which read the
    /// journal's previous batch back from disk (inflated and decoded it again): a tenth of the
    /// CPU of durable ingest. The writer now notes what it appended in the scan kept in the
    /// process, which must then equal a scan of a new process.
    @Test func theWritersAppendsAdvanceTheKeptKeyHistoriesWithoutReadingThemBack() throws {
        let partnership = try Partnership(["astana", "brussels"])
        _ = try partnership.append("brussels", Fixtures.realisticDrafts(count: 50))
        _ = try KeyRotation.incept(partnership["brussels"])
        _ = try partnership.append("brussels", Fixtures.realisticDrafts(count: 50, startingAt: 50))
        _ = try KeyRotation.rotate(partnership["brussels"])
        _ = try partnership.append("brussels", Fixtures.realisticDrafts(count: 50, startingAt: 100))
        var records: [[UInt8]] = []
        var events = try partnership["brussels"].events()
        while let event = try events.next() { records.append(event.record) }
        let astana = partnership["astana"]
        let writer = try astana.openWriter()
        defer { writer.close() }
        // In pieces that each end with a signed event: the batches as Brussels wrote them.
        var start = 0
        for (index, record) in records.enumerated() where try EventRecord.decode(record).signature != nil {
            try writer.appendReplicated(Array(records[start...index]))
            start = index + 1
            // Kept in the process, and already at the journal's end: nothing left to read back.
            #expect(KeyHistoryScan.cache.withLock { $0[astana.path]?.end } == writer.cache.end, "after \(index + 1) records")
            try writer.append(Fixtures.realisticDrafts(count: 3, startingAt: 900 + index))
            #expect(KeyHistoryScan.cache.withLock { $0[astana.path]?.end } == writer.cache.end, "after an own append")
        }
        #expect(start == records.count)
        let kept = try astana.keyHistories().mapValues(Summary.init)
        let brussels = try SiteID("brussels")
        #expect(kept[brussels]?.keyEvents.count == 2)
        #expect(kept == (try Self.fresh(astana)))
    }
}

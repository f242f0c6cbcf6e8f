import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// The pending events of SyncProtocol.md §3.3: bounded per feed, stored as runs so that a merge
/// costs what is new, and only ever events a signature covers.
@Suite("Pending events: bounded, incremental, covered")
struct PendingBoundsTests {
    /// Sizes of the files under `pending/`, by relative path.
    static func pendingFiles(_ journal: EventJournal) -> [String: Int] {
        let root = journal.path + "/pending"
        var sizes: [String: Int] = [:]
        for name in (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? [] {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                sizes[name] = (try? FileDamage.bytes(root + "/" + name).count) ?? 0
            }
        }
        return sizes
    }

    @Test("a flood of out-of-order events stays within the per-feed bounds, and no merge reads what is already pending")
    func aPendingFloodIsBoundedAndEachMergeCostsOnlyWhatIsNew() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let first = try partnership.append("astana", [Fixtures.realisticDraft(0)])
        var batches: [[Event]] = []
        for round in 0..<30 { batches.append(try partnership.append("astana", Fixtures.realisticDrafts(count: 20, startingAt: 1 + round * 20))) }
        let brussels = partnership["brussels"]
        let limits = PendingLimits(maxEventsPerFeed: 400, maxBytesPerFeed: 1 << 30, maxRunsPerFeed: 1000)
        var reads: [Int] = []
        var largestFile = 0
        var notKept = 0
        // Event 1 never comes: every batch waits. Each push is one merge.
        for batch in batches {
            let session = try SyncSession(journal: brussels)
            session.pendingLimits = limits
            let summary = try session.apply(batch.map(\.record))
            reads.append(session.pendingBytesRead)
            notKept += summary.notKept
            session.close()
            #expect(summary.appended == 0)
            largestFile = max(largestFile, Self.pendingFiles(brussels).values.max() ?? 0)
        }
        let batchBytes = batches.map { $0.reduce(0) { $0 + $1.record.count + 1 } }.max()!
        // Nothing pending was read back by any merge, and no file holds more than one merge brought.
        #expect(reads.allSatisfy { $0 == 0 }, "bytes read from pending/ per merge: \(reads)")
        #expect(largestFile <= batchBytes)
        // The bound: 400 events (20 batches) kept, the other 10 batches not kept.
        #expect(try SyncSession.pendingCount(of: brussels) == 400)
        #expect(notKept == 200)
        // The gap fills: what was kept is written, reading each run once; a sync brings the rest.
        let session = try SyncSession(journal: brussels)
        session.pendingLimits = limits
        let filled = try session.apply(first.map(\.record))
        #expect(filled.appended == 401)
        #expect(session.pendingBytesRead <= Self.pendingBytes(batches.prefix(20)))
        session.close()
        #expect(try SyncSession.pendingCount(of: brussels) == 0)
        _ = try DirectorySync.sync(brussels, with: partnership["astana"])
        #expect(try partnership.ids("brussels").count == 601)
        #expect(try brussels.verify().isClean)
    }

    static func pendingBytes(_ batches: ArraySlice<[Event]>) -> Int {
        batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.record.count + 1 } }
    }

    @Test("pending bytes per feed are bounded: what would pass the bound is not kept, and the summary says so")
    func pendingBytesAreBounded() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", [Fixtures.realisticDraft(0)])
        let late = try partnership.append("astana", Fixtures.realisticDrafts(count: 30, startingAt: 1))
        let later = try partnership.append("astana", Fixtures.realisticDrafts(count: 30, startingAt: 31))
        let session = try SyncSession(journal: partnership["brussels"])
        defer { session.close() }
        let oneBatch = late.reduce(0) { $0 + $1.record.count + 1 }
        session.pendingLimits = PendingLimits(maxEventsPerFeed: 1000, maxBytesPerFeed: oneBatch + 100, maxRunsPerFeed: 10)
        let kept = try session.apply(late.map(\.record))
        #expect(kept.pending == 30)
        #expect(kept.notKept == 0)
        let refused = try session.apply(later.map(\.record))
        #expect(refused.pending == 30)
        #expect(refused.notKept == 30)
        #expect(refused.description.contains("not kept 30"))
        #expect(Self.pendingFiles(partnership["brussels"]).values.reduce(0, +) <= oneBatch + 100)
    }

    @Test("overlapping deliveries of the same events join one run; repeated deliveries add nothing")
    func overlappingPendingRunsJoin() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let first = try partnership.append("astana", [Fixtures.realisticDraft(0)])
        var events: [Event] = []
        for n in 1...6 { events += try partnership.append("astana", [Fixtures.realisticDraft(n)]) }
        let session = try SyncSession(journal: partnership["brussels"])
        defer { session.close() }
        _ = try session.apply(events[0...2].map(\.record))  // 2…4
        _ = try session.apply(events[2...5].map(\.record))  // 4…7, overlapping at 4
        _ = try session.apply(events[2...5].map(\.record))  // again
        #expect(try session.pendingCount() == 6)
        #expect(Self.pendingFiles(partnership["brussels"]).count == 1)
        let filled = try session.apply(first.map(\.record))
        #expect(filled.appended == 7)
        #expect(filled.forks.isEmpty)
        #expect(try session.pendingCount() == 0)
    }
}

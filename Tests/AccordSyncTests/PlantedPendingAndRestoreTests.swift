import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("Planted pending events and restored journals")
struct PlantedPendingAndRestoreTests {
    /// An unsigned record of Astana's feed at `seq` 5, from a journal that was never Astana's
    /// history: the middle of a batch, which no signature of it covers on its own.
    static func plantedRecord(_ partnership: Partnership) throws -> [UInt8] {
        let stranger = try EventJournal.create(at: partnership.temp.child("stranger"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        let events = try stranger.openWriter().append(Fixtures.realisticDrafts(count: 6, startingAt: 500), now: Fixtures.time(3))
        #expect(events[4].signature == nil)
        return events[4].record
    }

    @Test("an event no signature covers is never kept pending, and a later legitimate sync reports no fork")
    func aPlantedPendingEventDoesNotMakeALegitimateSyncAFork() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let planted = try Self.plantedRecord(partnership)
        // Brussels holds nothing of Astana yet; the planted event at 5 follows a gap.
        let session = try SyncSession(journal: partnership["brussels"])
        _ = try? session.apply([planted])  // refused, or taken in and not kept: either way nothing waits
        session.close()
        #expect(try SyncSession.pendingCount(of: partnership["brussels"]) == 0)
        for n in 1...4 { try partnership.append("astana", [Fixtures.realisticDraft(n)]) }
        let result = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        #expect(result.pulled.forks.isEmpty, "\(result.pulled.forks)")
        #expect(result.pulled.appended == 4)
        #expect(try ForkQuarantine.entries(of: partnership["brussels"]).isEmpty)
    }

    @Test("an unchecked pending file of the first storage does not make a legitimate sync a fork either")
    func anOldPendingFileDoesNotMakeALegitimateSyncAFork() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let planted = try Self.plantedRecord(partnership)
        let folder = partnership["brussels"].path + "/pending"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileDamage.write(folder + "/astana.jsonl", planted + [0x0a])
        for n in 1...4 { try partnership.append("astana", [Fixtures.realisticDraft(n)]) }
        let result = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        #expect(result.pulled.forks.isEmpty, "\(result.pulled.forks)")
        #expect(result.pulled.appended == 4)
        #expect(try SyncSession.pendingCount(of: partnership["brussels"]) == 0)
        #expect(!FileManager.default.fileExists(atPath: folder + "/astana.jsonl"))
    }

    @Test("a pending branch that a valid signature covers and that conflicts with the feed is a fork, with its proof")
    func aCoveredConflictingPendingRunIsAFork() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let first = try partnership.append("astana", [Fixtures.realisticDraft(1)])
        let other = try EventJournal.create(at: partnership.temp.child("astana-other"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        let stray = try other.openWriter().append([Fixtures.realisticDraft(5)], now: Fixtures.time(1))
            + other.openWriter().append([Fixtures.realisticDraft(6)], now: Fixtures.time(2))
        let session = try SyncSession(journal: partnership["brussels"])
        defer { session.close() }
        #expect(try session.apply([stray[1].record]).pending == 1)
        let summary = try session.apply(first.map(\.record))
        #expect(summary.appended == 1)
        #expect(summary.forks.count == 1)
        let proof = try #require(summary.proofs.first)
        #expect(proof.seq == SequenceNumber(1))
        _ = try ForkProof.decode(proof.encoded(), keys: [astanaID: try partnership["astana"].signingKey().publicKey])
        #expect(try session.pendingCount() == 0)
    }

    @Test("restored after appending past its backup: the refusal says so, and 'restored' + sync ends in a fork that keeps the mark")
    func aRestoreThatAppendedPastItsBackupKeepsTheMarkAndSaysWhy() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 2))
        let backup = partnership.temp.child("astana-backup")
        try FileDamage.copyDirectory(partnership["astana"].path, to: backup)
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3, startingAt: 2))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // Astana restores the old backup, and appends before any exchange.
        let restored = try EventJournal(opening: backup)
        try restored.openWriter().append([Fixtures.realisticDraft(40)], now: Fixtures.time(9_000))
        let refusal = #expect(throws: AccordError.self) { try DirectorySync.sync(restored, with: partnership["brussels"]) }
        let message = refusal?.message ?? ""
        #expect(message.contains("appended past"), "\(message)")
        #expect(!message.contains("Run 'accord restored', then sync again"), "\(message)")
        // Marking it restored and syncing cannot repair that: a fork of the own feed, and the mark stays.
        try restored.setRestoreHeld(true)
        let result = try DirectorySync.sync(restored, with: partnership["brussels"])
        #expect(result.pulled.forks.count == 1)
        #expect(result.pulled.forks.first?.contains("appended past the backup") == true)
        #expect(restored.isRestoreHeld)
        #expect(throws: AccordError.self) { try restored.openWriter().append([Fixtures.realisticDraft(41)]) }
        // Brussels, which holds more of the feed and so detects nothing itself, holds the proof too.
        #expect(try ForkQuarantine.entries(of: partnership["brussels"]).compactMap(\.proof).map(\.site) == [astanaID])
        // A second sync keeps the mark as well.
        _ = try DirectorySync.sync(restored, with: partnership["brussels"])
        #expect(restored.isRestoreHeld)
    }
}

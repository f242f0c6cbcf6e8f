import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("Sync under failure and attack")
struct FailureTests {
    @Test func eventsArrivingBeforeTheirPredecessorWaitAsPendingAcrossARestart() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let events = try partnership.append("astana", [Fixtures.realisticDraft(1)])
            + partnership.append("astana", [Fixtures.realisticDraft(2)])
            + partnership.append("astana", [Fixtures.realisticDraft(3)])
        var session = try SyncSession(journal: partnership["brussels"])
        let early = try session.apply(events[1...2].map(\.record))
        #expect(early.appended == 0)
        #expect(early.pending == 2)
        session.close()
        #expect(try SyncSession.pendingCount(of: partnership["brussels"]) == 2)
        // A restart: a new session finds them on disk, and applies them when event 1 arrives.
        session = try SyncSession(journal: partnership["brussels"])
        let filled = try session.apply([events[0].record])
        #expect(filled.appended == 3)
        #expect(filled.pending == 0)
        session.close()
        #expect(try partnership.ids("brussels").count == 3)
        #expect(try partnership["brussels"].verify().isClean)
    }

    @Test func anInterruptedSyncTransfersTheRestExactlyOnce() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 30))
        try partnership.append("windhoek", Fixtures.realisticDrafts(count: 30, startingAt: 30))
        try partnership.append("windhoek", Fixtures.realisticDrafts(count: 30, startingAt: 60))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["windhoek"])
        // Brussels receives from Astana's copy of everything, and the disk fills after one feed.
        _ = try DirectorySync.sync(partnership["astana"], with: partnership["windhoek"])
        let io = FaultInjectingIO()
        var options = SegmentWriter.Options()
        options.io = io
        let session = try SyncSession(journal: partnership["brussels"], options: options)
        let records = try partnership["astana"].records(lacking: session.vector)
        #expect(records.count == 31)  // Astana's 30, and the overlap of Windhoek's last event
        io.set(.failWrites(afterBytes: 0, errno: ENOSPC))
        #expect(throws: SegmentError.self) { try session.apply(records) }
        session.close()
        #expect(try partnership.ids("brussels").count == 60)
        let again = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        #expect(again.pulled.appended == 30)
        let held = try partnership.ids("brussels")
        #expect(held.count == 90 && held.ids.count == 90)
    }

    @Test func aSyncProcessKilledPartWayThroughItsWritesIsCompletedByTheNextSync() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek", "lusaka"])
        for (index, site) in ["astana", "windhoek", "lusaka"].enumerated() {
            for round in 0..<3 { try partnership.append(site, Fixtures.realisticDrafts(count: 300, startingAt: index * 10_000 + round * 300)) }
        }
        for site in ["astana", "windhoek"] { _ = try DirectorySync.sync(partnership["lusaka"], with: partnership[site]) }
        // How many bytes the pull writes into Brussels, measured on a copy synced without a crash.
        let probe = partnership.temp.child("brussels-probe")
        try FileDamage.copyDirectory(partnership["brussels"].path, to: probe)
        let before = try segmentBytes(probe)
        _ = try DirectorySync.sync(EventJournal(opening: probe), with: partnership["lusaka"])
        let pulled = try segmentBytes(probe) - before
        #expect(pulled > 10_000, "the pull wrote \(pulled) bytes")
        // Killed (SIGKILL, by the process itself: CrashPointIO) before its first byte, after a
        // tenth and after half of what the pull writes, and one byte short of its first batch.
        for crashAt in [0, pulled / 10, pulled / 2, -1] {
            let copy = partnership.temp.child("brussels-\(crashAt)")
            try FileDamage.copyDirectory(partnership["brussels"].path, to: copy)
            let process = try AccordExecutable.start(["sync", "--with", partnership["lusaka"].path, "--journal", copy],
                                                     environment: [CrashPointIO.crashAfterBytesVariable: String(crashAt)])
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                    "the sync was to be killed after \(crashAt) of \(pulled) bytes; it exited \(process.terminationStatus)")
            let journal = try EventJournal(opening: copy)
            let partial = try eventCount(journal)
            #expect(partial < 2700, "killed after \(crashAt) of \(pulled) bytes, yet \(partial) events are there")
            _ = try DirectorySync.sync(journal, with: partnership["lusaka"])
            var events = try journal.events()
            var ids = Set<String>()
            var count = 0
            while let event = try events.next() {
                ids.insert(event.id.hex)
                count += 1
            }
            #expect(count == 2700 && ids.count == 2700, "after a kill at \(crashAt) of \(pulled) bytes: \(count) records, \(ids.count) distinct")
            #expect(try journal.verify().isClean)
        }
    }

    @Test func damagedForeignOrUntrustedBundlesAreRefusedAndChangeNothing() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 5))
        let path = partnership.temp.child("a.bundle")
        try Bundle.make(from: partnership["astana"]).write(to: path)
        let brussels = partnership["brussels"]
        let before = try FileDamage.snapshot(of: brussels.path)

        // One byte changed, anywhere: refused with the offset.
        let bytes = try FileDamage.bytes(path)
        for offset in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
            try FileDamage.write(path + ".damaged", bytes)
            try FileDamage.flip(path + ".damaged", at: offset)
            #expect(throws: (any Error).self, "a flip at \(offset) was not noticed") {
                let bundle = try Bundle.read(path + ".damaged")
                _ = try bundle.verify(against: brussels)
            }
        }
        // Another partnership.
        let other = try Partnership(["astana", "brussels"], partnership: "eu-na-2022")
        try other.append("astana", Fixtures.realisticDrafts(count: 2))
        try Bundle.make(from: other["astana"]).write(to: path + ".other")
        let foreign = #expect(throws: AccordError.self) { try Bundle.read(path + ".other").verify(against: brussels) }
        #expect(foreign?.message.contains("partnership 'eu-na-2022'") == true)
        // An untrusted site.
        let stranger = try EventJournal.create(at: partnership.temp.child("lusaka"), site: SiteID("lusaka"), partnership: "eu-kz-2022")
        try stranger.openWriter().append(Fixtures.realisticDrafts(count: 2))
        try Bundle.make(from: stranger).write(to: path + ".stranger")
        let untrusted = #expect(throws: AccordError.self) { try Bundle.read(path + ".stranger").verify(against: brussels) }
        #expect(untrusted?.code == .untrusted)
        #expect(throws: AccordError.self) {
            let session = try SyncSession(journal: brussels)
            defer { session.close() }
            try session.apply(try Bundle.read(path + ".stranger").records)
        }
        // Signed with the wrong key: an impostor writing as 'astana'.
        let impostor = try EventJournal.create(at: partnership.temp.child("impostor"), site: SiteID("astana"), seed: Fixtures.seed("not-astana"), partnership: "eu-kz-2022")
        try impostor.openWriter().append(Fixtures.realisticDrafts(count: 2))
        try Bundle.make(from: impostor).write(to: path + ".impostor")
        let forged = #expect(throws: AccordError.self) { try Bundle.read(path + ".impostor").verify(against: brussels) }
        #expect(forged?.message.contains("does not verify") == true)
        #expect(try FileDamage.snapshot(of: brussels.path) == before)
    }

    @Test func aForkIsReportedQuarantinedAndNeverMerged() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // Astana's journal is lost and recreated with the same key: it writes another event 1…
        let reborn = try EventJournal.create(at: partnership.temp.child("astana-reborn"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        try reborn.trust(try partnership["brussels"].signingKey().publicKey, for: SiteID("brussels"))
        try reborn.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 100), now: Fixtures.time(5))
        let before = try partnership.ids("brussels")
        let session = try SyncSession(journal: partnership["brussels"])
        let summary = try session.apply(try reborn.records(lacking: VersionVector()))
        session.close()
        #expect(summary.forks.count == 1)
        #expect(summary.forks[0].hasPrefix("fork in feed 'astana' at 1"))
        #expect(try partnership.ids("brussels").ids == before.ids)
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: partnership["brussels"].path + "/quarantine")
        let forkFile = try #require(quarantined.first { $0.hasPrefix("fork-astana-1-") })
        let lines = try FileDamage.bytes(partnership["brussels"].path + "/quarantine/" + forkFile).split(separator: 0x0a)
        #expect(lines.count == 7)  // the proof's header, then both versions 1…3, each up to its signed event
    }

    @Test func aJournalRestoredFromAnOldBackupMustPullItsOwnFeedBackBeforeAppending() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 2))
        let backup = partnership.temp.child("astana-backup")
        try FileDamage.copyDirectory(partnership["astana"].path, to: backup)
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3, startingAt: 2))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // The disk fails; Astana restores the old backup.
        let restored = try EventJournal(opening: backup)
        // Without the mark, a sync notices that a peer holds more of our own feed and stops.
        let noticed = #expect(throws: AccordError.self) { try DirectorySync.sync(restored, with: partnership["brussels"]) }
        #expect(noticed?.message.contains("restored from an older copy") == true)
        try restored.setRestoreHeld(true)
        let refused = #expect(throws: AccordError.self) { try restored.openWriter().append([Fixtures.realisticDraft(9)]) }
        #expect(refused?.message.contains("restored from a backup") == true)
        let result = try DirectorySync.sync(restored, with: partnership["brussels"])
        #expect(result.pulled.appended == 3)
        #expect(!restored.isRestoreHeld)
        let next = try restored.openWriter().append([Fixtures.realisticDraft(9)])
        #expect(next[0].seq.rawValue == 6)
    }
}

/// The bytes of all segment files of the journal at `path`.
private func segmentBytes(_ path: String) throws -> Int {
    let directory = path + "/segments"
    return try FileManager.default.contentsOfDirectory(atPath: directory).reduce(0) { sum, name in
        sum + ((try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0)
    }
}

/// The events `journal` holds.
private func eventCount(_ journal: EventJournal) throws -> Int {
    var events = try journal.events()
    var count = 0
    while try events.next() != nil { count += 1 }
    return count
}

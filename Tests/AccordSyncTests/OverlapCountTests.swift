import AccordModel
import AccordStore
import AccordSync
import AccordTesting
import Testing

/// The overlap — each feed's event that the receiver already holds as its head, sent back only to
/// anchor the chain — is counted neither as received nor as already known (SyncProtocol.md §2).
@Suite("Sync counts without the overlap")
struct OverlapCountTests {
    @Test func journalsInStepReceiveNothing() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3))
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 2, startingAt: 100))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        let again = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        for half in [again.pulled, again.pushed] {
            #expect(half.received == 0 && half.alreadyKnown == 0 && half.appended == 0, "\(half)")
            #expect(half.overlap == 2)
        }
    }

    @Test func aPullOfNewEventsCountsOnlyThem() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3))
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 4, startingAt: 10))
        let result = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        #expect(result.pulled.received == 4 && result.pulled.appended == 4 && result.pulled.alreadyKnown == 0, "\(result.pulled)")
    }

    @Test func aBundleAppliedTwiceIsAllAlreadyKnownTheSecondTime() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3))
        let bundle = try Bundle.make(from: partnership["astana"])
        for round in 0..<2 {
            let session = try SyncSession(journal: partnership["brussels"])
            let summary = try session.apply(bundle.records)
            session.close()
            #expect(summary.received == 3, "\(summary)")
            #expect(summary.appended == (round == 0 ? 3 : 0) && summary.alreadyKnown == (round == 0 ? 0 : 3), "\(summary)")
        }
    }
}

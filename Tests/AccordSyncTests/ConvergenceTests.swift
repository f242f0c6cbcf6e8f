import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("Offices converge")
struct ConvergenceTests {
    @Test(arguments: Array(1...12) as [UInt64])
    func threeSitesWithRandomAppendsAndRandomPairwiseSyncsConverge(seed: UInt64) throws {
        try Self.randomExchanges(seed: seed, rotating: false)
    }

    /// The property again while Brussels adopts pre-rotation and rotates its key twice at random
    /// steps (Trust.md "Keys over time"): every office learns the rotations by sync or by bundle
    /// files read as `accord bundle apply` reads them (a bundle Brussels signs with its new key
    /// reaching an office that does not hold the rotation yet), in whatever order the exchanges
    /// happen; every office verifies all of Brussels' history, each batch under the key in force
    /// at its place; and at the end an event signed by either old key after its rotation is
    /// refused at every office.
    @Test(arguments: Array(1...8) as [UInt64])
    func threeOfficesConvergeThroughTwoKeyRotationsInRandomOrders(seed: UInt64) throws {
        try Self.randomExchanges(seed: seed, rotating: true)
    }

    static func randomExchanges(seed: UInt64, rotating: Bool) throws {
        var random = SeededRandom(seed: seed)
        let sites = ["astana", "brussels", "windhoek"]
        let partnership = try Partnership(sites)
        var n = Int(seed) * 1000
        var rotations: Set<Int> = []
        var oldKeys: [SiteKey] = []
        if rotating {
            rotations = [Int.random(in: 2..<12, using: &random), Int.random(in: 12..<24, using: &random)]
            _ = try KeyRotation.incept(partnership["brussels"])
            partnership.appended["brussels", default: 0] += 1
        }
        for step in 0..<25 {
            if rotations.contains(step) {
                oldKeys.append(try partnership["brussels"].signingKey())
                _ = try KeyRotation.rotate(partnership["brussels"])
                partnership.appended["brussels", default: 0] += 1
            } else if Int.random(in: 0..<3, using: &random) > 0 {
                let site = sites.randomElement(using: &random)!
                let drafts = (0..<Int.random(in: 1...3, using: &random)).map { _ -> EventDraft in
                    n += 1
                    return Fixtures.realisticDraft(n)
                }
                try partnership.append(site, drafts, skew: Int64.random(in: -3600...3600, using: &random))
            } else {
                let pair = sites.shuffled(using: &random).prefix(2)
                if Bool.random(using: &random) {
                    _ = try DirectorySync.sync(partnership[pair.first!], with: partnership[pair.last!])
                } else {
                    try partnership.bundle(from: pair.first!, to: pair.last!)
                }
            }
        }
        // Finish with a round of syncs: everyone ends up with everything.
        for _ in 0..<2 {
            for a in sites { for b in sites where a < b { _ = try DirectorySync.sync(partnership[a], with: partnership[b]) } }
        }
        let total = partnership.appended.values.reduce(0, +)
        let reference = try partnership.ids("astana")
        let digest = try partnership.digest("astana")
        let brusselsKey = try partnership["brussels"].signingKey().publicKey
        for site in sites {
            let held = try partnership.ids(site)
            #expect(held.count == total, "\(site) holds \(held.count) records of \(total): lost or duplicated")
            #expect(held.ids == reference.ids)
            #expect(try partnership.digest(site) == digest)
            let report = try partnership[site].verify()
            #expect(report.isClean, "\(report.problems)")
            #expect(try SyncSession.pendingCount(of: partnership[site]) == 0)
            if rotating {
                let history = try #require(report.keyHistories[try SiteID("brussels")])
                #expect(history.epochs.count == 3)
                #expect(history.current == brusselsKey)
                #expect(report.feeds[try SiteID("brussels")]?.signedThrough == report.feeds[try SiteID("brussels")]?.lastSeq)
            }
        }
        guard rotating else { return }
        // Whoever kept an old key signs the next event of Brussels' feed: refused everywhere.
        let head = try #require(try partnership["brussels"].versionVector().entries[try SiteID("brussels")])
        #expect(oldKeys.count == 2)
        for (index, oldKey) in oldKeys.enumerated() {
            let forged = try KeyForger(site: "brussels").plain(seq: head.seq.rawValue + 1, prev: head.id, signer: oldKey, n: 900 + index)
            for site in sites {
                let session = try SyncSession(journal: partnership[site])
                defer { session.close() }
                let error = #expect(throws: AccordError.self) { try session.apply([forged.record]) }
                #expect(error?.message.contains("replaced") == true, "\(error?.message ?? "")")
                #expect(try partnership.ids(site).count == total)
            }
        }
    }

    @Test func aClockTwoHoursFastDoesNotWinOverALaterChangeThatSawIt() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("brussels", [Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib", #"{"name":"EIB","kind":"financial","country":"EU"}"#)])
        _ = try DirectorySync.sync(partnership["astana"], with: partnership["brussels"])
        // Astana's clock is two hours fast.
        try partnership.append("astana", [Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB (Astana's spelling)"}"#)], skew: 7200)
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // Brussels, having received it, changes the same field: its clock is behind, but it has seen Astana's change.
        let later = try partnership.append("brussels", [Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"European Investment Bank"}"#)])
        #expect(later[0].hlc > HybridTimestamp(milliseconds: Fixtures.time(7200).milliseconds, counter: 0))
        _ = try DirectorySync.sync(partnership["astana"], with: partnership["brussels"])
        for site in ["astana", "brussels"] {
            let state = try StateBuilder(journal: partnership[site]).build(useReadModel: false).state
            #expect(state.stakeholders["eib"]?.name?.value == "European Investment Bank")
            var scanner = ConflictScanner()
            var events = try partnership[site].events()
            while let event = try events.next() { scanner.add(event) }
            #expect(scanner.conflicts().isEmpty)
        }
    }

    @Test func concurrentChangesAreListedAsConflictsUntilALaterEventResolvesThem() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("brussels", [
            Fixtures.draft("action.proposed.v1", "action/roadmap", #"{"title":"Roadmap","pillar":"value-chain-integration"}"#),
            Fixtures.draft("finance.committed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz","amount":"100.00","currency":"EUR","date":"2024-01-01"}"#),
        ])
        _ = try DirectorySync.sync(partnership["astana"], with: partnership["brussels"])
        try partnership.append("astana", [
            Fixtures.draft("action.agreed.v1", "action/roadmap", "{}"),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz","amount":"60.00","currency":"EUR","date":"2024-02-01"}"#),
        ])
        try partnership.append("brussels", [
            Fixtures.draft("action.cancelled.v1", "action/roadmap", #"{"reason":"superseded"}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz","amount":"70.00","currency":"EUR","date":"2024-02-02"}"#),
        ])
        _ = try DirectorySync.sync(partnership["astana"], with: partnership["brussels"])
        func conflicts(_ site: String) throws -> [ConflictScanner.Conflict] {
            var scanner = ConflictScanner()
            var events = try partnership[site].events()
            while let event = try events.next() { scanner.add(event) }
            return scanner.conflicts()
        }
        let listed = try conflicts("astana")
        #expect(listed.map(\.field).sorted() == ["money", "status"])
        #expect(try conflicts("brussels").map(\.description) == listed.map(\.description))
        let money = try #require(listed.first { $0.field == "money" })
        #expect(money.note.contains("130.00 EUR"))
        // The projection still picks one winner, the same everywhere.
        #expect(try partnership.digest("astana") == partnership.digest("brussels"))
        // Astana, having seen both, sets the status again and records a correction: resolved.
        try partnership.append("astana", [
            Fixtures.draft("action.cancelled.v1", "action/roadmap", #"{"reason":"agreed to cancel"}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz","amount":"-30.00","currency":"EUR","date":"2024-03-01"}"#),
        ])
        #expect(try conflicts("astana").isEmpty)
    }
}

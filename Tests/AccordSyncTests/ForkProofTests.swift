import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// A trusted site that forks its feed: a copy of its journal (same key) appends other events.
struct ForkedSite {
    let partnership: Partnership
    /// The copy of Astana's journal that wrote the other branch.
    let twin: EventJournal

    /// Astana writes 2 events, is copied, then the original writes 3 more and the twin 4 others.
    init(_ sites: [String] = ["astana", "brussels", "windhoek"]) throws {
        partnership = try Partnership(sites)
        try partnership.append("astana", [Fixtures.realisticDraft(1)])
        try partnership.append("astana", [Fixtures.realisticDraft(2)])
        let copy = partnership.temp.child("astana-twin")
        try FileDamage.copyDirectory(partnership["astana"].path, to: copy)
        twin = try EventJournal(opening: copy)
        try partnership.append("astana", Fixtures.realisticDrafts(count: 3, startingAt: 10))
        let writer = try twin.openWriter()
        try writer.append(Fixtures.realisticDrafts(count: 2, startingAt: 20), now: Fixtures.time(9_000))
        try writer.append(Fixtures.realisticDrafts(count: 2, startingAt: 30), now: Fixtures.time(9_100))
        writer.close()
    }
}

@Suite("Forks as proofs")
struct ForkProofTests {
    @Test("a fork shown to two offices: after they sync with each other both hold the same proof, which checks with only the site's key")
    func bothSidesOfAnExchangeHoldTheProof() throws {
        let forked = try ForkedSite()
        let partnership = forked.partnership
        // Brussels sees Astana's branch (5 events), Windhoek the twin's (6 events, longer).
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        _ = try DirectorySync.sync(partnership["windhoek"], with: forked.twin)
        let result = try DirectorySync.sync(partnership["brussels"], with: partnership["windhoek"])
        // Only the pull sees it (Brussels holds less of the feed, so its push sends nothing of it).
        #expect(result.pulled.forks.count == 1)
        #expect(result.pushed.forks.isEmpty)
        let proof = try #require(result.pulled.proofs.first)
        #expect(proof.site == astanaID)
        for site in ["brussels", "windhoek"] {
            let held = try ForkQuarantine.entries(of: partnership[site]).compactMap(\.proof)
            #expect(held.map(\.id) == [proof.id], "\(site) holds \(held.map(\.id))")
        }
        // A third party with nothing but Astana's public key checks it.
        let key = try partnership["astana"].signingKey().publicKey
        let checked = try ForkProof.decode(proof.encoded(), keys: [astanaID: key])
        #expect(checked == proof)
        #expect(checked.branches.allSatisfy { branch in (try? EventRecord.decode(branch.records.last!).signature) != nil })
        #expect(checked.branches[0].idAtFork != checked.branches[1].idAtFork)
        // Nothing of either branch was merged into the other journal.
        #expect(try partnership["brussels"].verify().isClean)
        #expect(try partnership["windhoek"].verify().isClean)
    }

    @Test("a quarantined fork keeps both branches each with the signed event that covers it")
    func quarantineKeepsBothSignedBranches() throws {
        let forked = try ForkedSite(["astana", "brussels"])
        _ = try DirectorySync.sync(forked.partnership["brussels"], with: forked.partnership["astana"])
        let session = try SyncSession(journal: forked.partnership["brussels"])
        let summary = try session.apply(try forked.twin.records(lacking: VersionVector()))
        session.close()
        #expect(summary.forks.count == 1)
        let proof = try #require(summary.proofs.first)
        #expect(proof.seq == SequenceNumber(3))
        let lengths = proof.branches.map(\.records.count).sorted()
        #expect(lengths == [2, 3])  // the twin's first batch (3…4) and Astana's batch 3…5
        for branch in proof.branches {
            let last = try EventRecord.decode(branch.records.last!)
            #expect(last.signature != nil)
            #expect(branch.first == proof.seq)
        }
        let file = forked.partnership["brussels"].path + "/quarantine/" + proof.fileName
        #expect(try FileDamage.bytes(file) == proof.encoded())
    }

    @Test("a tampered, truncated, re-versioned or foreign proof is refused with a reason")
    func aTamperedProofIsRefused() throws {
        let forked = try ForkedSite(["astana", "brussels"])
        _ = try DirectorySync.sync(forked.partnership["brussels"], with: forked.partnership["astana"])
        let session = try SyncSession(journal: forked.partnership["brussels"])
        let proof = try #require(try session.apply(try forked.twin.records(lacking: VersionVector())).proofs.first)
        session.close()
        let keys = [astanaID: try forked.partnership["astana"].signingKey().publicKey]
        let bytes = proof.encoded()
        _ = try ForkProof.decode(bytes, keys: keys)
        func refusal(_ changed: [UInt8], keys given: [SiteID: SitePublicKey]? = nil) -> AccordError? {
            let use = given ?? keys
            return #expect(throws: AccordError.self) { try ForkProof.decode(changed, keys: use) }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        // A changed letter in an event's data: its id no longer matches.
        let tampered = text.replacingOccurrences(of: "\"data\":{", with: "\"data\":{\"x\":1,", options: [], range: text.range(of: "\"data\":{"))
        #expect(refusal(Array(tampered.utf8))?.code == .damaged)
        // Another signature.
        var lines = bytes.split(separator: 0x0a).map(Array.init)
        let signedLine = lines.lastIndex { String(decoding: $0, as: UTF8.self).contains("\"sig\":\"") }!
        let signed = String(decoding: lines[signedLine], as: UTF8.self)
        let sigStart = signed.range(of: "\"sig\":\"")!.upperBound
        let flipped = signed.replacingCharacters(in: sigStart..<signed.index(after: sigStart), with: signed[sigStart] == "A" ? "B" : "A")
        lines[signedLine] = Array(flipped.utf8)
        #expect(refusal(lines.flatMap { $0 + [0x0a] }) != nil)
        // One branch's signed event removed: nothing covers it.
        var unsigned = bytes.split(separator: 0x0a).map(Array.init)
        unsigned.removeLast()
        let header = String(decoding: unsigned[0], as: UTF8.self)
        let cut = proof.branches[1]
        unsigned[0] = Array(header.replacingOccurrences(of: "\"first\":\(cut.first),\"last\":\(cut.last),\"records\":\(cut.records.count)", with: "\"first\":\(cut.first),\"last\":\(cut.last.rawValue - 1),\"records\":\(cut.records.count - 1)").utf8)
        #expect(refusal(unsigned.flatMap { $0 + [0x0a] })?.code == .damaged)
        // Cut short, another version, no key for the site, the other office's key.
        #expect(refusal(Array(bytes.dropLast(10)))?.code == .badInput)
        #expect(refusal(Array(text.replacingOccurrences(of: "\"version\":1", with: "\"version\":2").utf8))?.message.contains("version 2") == true)
        #expect(refusal(bytes, keys: [:])?.code == .untrusted)
        #expect(refusal(bytes, keys: [astanaID: try forked.partnership["brussels"].signingKey().publicKey])?.code == .untrusted)
        // The same branch twice is no fork.
        #expect(throws: AccordError.self) {
            try ForkProof(site: astanaID, seq: proof.seq, branches: [proof.branches[0].records, proof.branches[0].records], key: keys[astanaID]!)
        }
    }
}

/// The forking site of these tests.
let astanaID = try! SiteID("astana")

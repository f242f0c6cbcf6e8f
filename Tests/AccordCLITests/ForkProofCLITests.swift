import AccordTesting
import Foundation
import Testing

@Suite("accord forks: proofs across offices")
struct ForkProofCLITests {
    /// `accord init` for `site` in `temp`; returns the journal path and its public key.
    static func office(_ temp: TemporaryDirectory, _ site: String) throws -> (path: String, key: String) {
        let path = temp.child(site)
        let result = try accord(["init", "--site", site, "--partnership", "eu-kz-2022"], journal: path)
        #expect(result.status == 0, "\(result.stderr)")
        let key = result.output.split(separator: "\n").last.map { String($0.split(separator: " ").last ?? "") } ?? ""
        return (path, key)
    }

    static func register(_ journal: String, _ n: Int) throws {
        let result = try accord(["append", "stakeholder.registered.v1", "--subject", "stakeholder/org-\(n)",
                                 "--data", #"{"name":"Organisation \#(n)","kind":"government","country":"KZ"}"#], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("a trusted site shows two offices different branches: after they sync both hold the proof, a fresh journal with only the site's key verifies it, and a tampered copy is refused")
    func aForkProofTravelsAndVerifiesOffline() throws {
        let temp = TemporaryDirectory("forks-cli")
        let astana = try Self.office(temp, "astana")
        let brussels = try Self.office(temp, "brussels")
        let windhoek = try Self.office(temp, "windhoek")
        for (journal, peers) in [(astana, [brussels, windhoek]), (brussels, [astana, windhoek]), (windhoek, [astana, brussels])] {
            for peer in peers {
                let site = URL(fileURLWithPath: peer.path).lastPathComponent
                #expect(try accord(["peer", "add", site, "--key", peer.key], journal: journal.path).status == 0)
            }
        }
        try Self.register(astana.path, 1)
        try Self.register(astana.path, 2)
        // A copy of Astana's journal, with its key, writes another history from 3 on.
        let twin = temp.child("astana-twin")
        #expect(try shell("cp -a '\(astana.path)' '\(twin)'").status == 0)
        try Self.register(astana.path, 3)
        try Self.register(twin, 30)
        try Self.register(twin, 31)
        #expect(try accord(["sync", "--with", astana.path], journal: brussels.path).status == 0)
        #expect(try accord(["sync", "--with", twin], journal: windhoek.path).status == 0)
        // Brussels and Windhoek meet: a fork, found by Brussels's pull, told to Windhoek.
        let met = try accord(["sync", "--with", windhoek.path], journal: brussels.path)
        #expect(met.status == 3)
        #expect(met.stderr.contains("Fork in feed 'astana'"), "\(met.stderr)")
        let listed = try [brussels, windhoek].map { try accord(["forks"], journal: $0.path) }
        for list in listed {
            #expect(list.status == 0)
            #expect(list.output.hasPrefix("fork astana-3-"), "\(list.output)")
        }
        #expect(listed[0].output == listed[1].output.replacingOccurrences(of: windhoek.path, with: brussels.path))
        let proof = temp.child("fork.proof")
        let exported = try accord(["forks", "export", "--out", proof], journal: windhoek.path)
        #expect(exported.status == 0, "\(exported.stderr)")
        // A third party with a fresh journal that trusts nothing but Astana's key.
        let auditor = try Self.office(temp, "auditor")
        #expect(try accord(["peer", "add", "astana", "--key", astana.key], journal: auditor.path).status == 0)
        let verified = try accord(["forks", "verify", proof], journal: auditor.path)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.output.hasPrefix("Valid: fork astana-3-"), "\(verified.output)")
        // A changed byte in an event of a branch: refused, exit 3.
        let tampered = temp.child("tampered.proof")
        let text = String(decoding: try FileDamage.bytes(proof), as: UTF8.self)
        try FileDamage.write(tampered, Array(text.replacingOccurrences(of: "Organisation 30", with: "Organisation 80").utf8))
        let refused = try accord(["forks", "verify", tampered], journal: auditor.path)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("is not a valid fork proof"), "\(refused.stderr)")
        // A journal that does not trust Astana cannot check it, and says so.
        let stranger = try Self.office(temp, "stranger")
        let untrusted = try accord(["forks", "verify", proof], journal: stranger.path)
        #expect(untrusted.status == 3)
        #expect(untrusted.stderr.contains("does not trust"), "\(untrusted.stderr)")
        // Not a proof at all: exit 2.
        try FileDamage.write(temp.child("junk"), Array("{\"hello\":1}\n".utf8))
        #expect(try accord(["forks", "verify", temp.child("junk")], journal: auditor.path).status == 2)
    }
}

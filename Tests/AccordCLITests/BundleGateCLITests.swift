import AccordModel
import AccordSegments
import AccordTesting
import Foundation
import Testing

@Suite("accord bundle and peer add refuse what is not signed, not a bundle, or not a key")
struct BundleGateCLITests {
    /// Astana and Brussels, each trusting the other; Astana has two events.
    static func offices(_ temp: TemporaryDirectory) throws -> (astana: String, brussels: String) {
        let astana = try ForkProofCLITests.office(temp, "astana")
        let brussels = try ForkProofCLITests.office(temp, "brussels")
        #expect(try accord(["peer", "add", "brussels", "--key", brussels.key], journal: astana.path).status == 0)
        #expect(try accord(["peer", "add", "astana", "--key", astana.key], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(astana.path, 1)
        try ForkProofCLITests.register(brussels.path, 2)
        return (astana.path, brussels.path)
    }

    @Test("an unsigned (version 1) bundle header is refused, so it cannot empty a later 'bundle create --for'")
    func anUnsignedHeaderCannotEmptyALaterBundle() throws {
        let temp = TemporaryDirectory("bundle-header-cli")
        let (_, brussels) = try Self.offices(temp)
        // "Astana already holds Brussels' feed up to its head": a header nobody signed, no events.
        let log = try accord(["log", "--json"], journal: brussels)
        guard case .object(let head)? = try? JSONParser.parse(Array(log.output.split(separator: "\n").last!.utf8)), let headID = head["id"]?.stringValue else {
            Issue.record("no head in \(log.output)")
            return
        }
        let header = #"{"brings":{},"bundle":"accord","created":"2024-05-01T10:00:00Z","events":0,"partnership":"eu-kz-2022","requires":{"brussels":{"id":"\#(headID)","seq":1}},"source":"astana","version":1}"#
        let forged = temp.child("forged.bundle")
        try FileDamage.write(forged, try MemberFile.encode([[Array(header.utf8)]]))
        let applied = try accord(["bundle", "apply", forged], journal: brussels)
        #expect(applied.status == 2, "\(applied.stderr)")
        #expect(applied.stderr.contains("version 1"))
        let out = temp.child("for-astana.bundle")
        let created = try accord(["bundle", "create", "--out", out, "--for", "astana"], journal: brussels)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.output.contains("1 events"), "\(created.output)")
    }

    @Test("a missing, empty, text or byte-order-marked file is 'not a bundle' (exit 2) and says which file and why")
    func notABundleIsBadInputWithTheReason() throws {
        let temp = TemporaryDirectory("not-a-bundle-cli")
        let (_, brussels) = try Self.offices(temp)
        try FileDamage.write(temp.child("empty.bundle"), [])
        try FileDamage.write(temp.child("text.bundle"), Array("this is a note\n".utf8))
        try FileDamage.write(temp.child("bom.bundle"), [0xEF, 0xBB, 0xBF] + Array("{\"bundle\":\"accord\"}\n".utf8))
        for command in ["apply", "verify"] {
            for (file, reason) in [("missing.bundle", "There is no bundle file"), ("empty.bundle", "the file is empty"),
                                   ("text.bundle", "does not start with a gzip member"), ("bom.bundle", "byte-order mark")] {
                let result = try accord(["bundle", command, temp.child(file)], journal: brussels)
                #expect(result.status == 2, "\(command) \(file): \(result.stderr)")
                #expect(result.stderr.contains(file), "\(command) \(file): \(result.stderr)")
                #expect(result.stderr.contains(reason), "\(command) \(file): \(result.stderr)")
            }
        }
    }

    @Test("bundle verify reports a bundle that forks this journal's copy of a feed (exit 3), as apply does")
    func verifyReportsAFork() throws {
        let temp = TemporaryDirectory("bundle-fork-cli")
        let (astana, brussels) = try Self.offices(temp)
        let twin = temp.child("astana-twin")
        #expect(try shell("cp -a '\(astana)' '\(twin)'").status == 0)
        try ForkProofCLITests.register(astana, 3)
        try ForkProofCLITests.register(twin, 30)
        let real = temp.child("real.bundle"), other = temp.child("other.bundle")
        #expect(try accord(["bundle", "create", "--out", real], journal: astana).status == 0)
        #expect(try accord(["bundle", "create", "--out", other], journal: twin).status == 0)
        #expect(try accord(["bundle", "apply", real], journal: brussels).status == 0)
        let verified = try accord(["bundle", "verify", other], journal: brussels)
        #expect(verified.status == 3, "\(verified.output) \(verified.stderr)")
        #expect(verified.stderr.contains("fork in feed 'astana' at 2"), "\(verified.stderr)")
        #expect(try accord(["bundle", "apply", other], journal: brussels).status == 3)
    }

    @Test("peer add refuses the identity point and the other small-order keys (exit 2)")
    func peerAddRefusesAWeakKey() throws {
        let temp = TemporaryDirectory("weak-key-cli")
        let (_, brussels) = try Self.offices(temp)
        for raw in [[UInt8(1)] + [UInt8](repeating: 0, count: 31), [UInt8](repeating: 0, count: 32),
                    [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]] {
            let result = try accord(["peer", "add", "mallory", "--key", Base64.encode(raw)], journal: brussels)
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("not a usable Ed25519 public key"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: brussels + "/keys/mallory.pub"))
    }
}

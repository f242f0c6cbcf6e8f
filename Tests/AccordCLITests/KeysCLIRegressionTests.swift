import AccordModel
import AccordTesting
import Foundation
import Testing

/// What a new user found after key rotation landed (issue 17), through the `accord` binary.
@Suite("accord keys after rotation: bundles, revoke's usage errors, keys show, next key files (Journal/Trust.md)")
struct KeysCLIRegressionTests {
    /// Brussels and Astana trusting each other's anchors.
    static func offices(_ label: String) throws -> (temp: TemporaryDirectory, brussels: (path: String, key: String), astana: (path: String, key: String)) {
        let temp = TemporaryDirectory(label)
        let brussels = try ForkProofCLITests.office(temp, "brussels")
        let astana = try ForkProofCLITests.office(temp, "astana")
        #expect(try accord(["peer", "add", "brussels", "--key", brussels.key], journal: astana.path).status == 0)
        #expect(try accord(["peer", "add", "astana", "--key", astana.key], journal: brussels.path).status == 0)
        return (temp, brussels, astana)
    }

    @Test func aBundleCreatedAfterARotationIsAppliedByAPeerThatHasNotYetReceivedIt() throws {
        let (temp, brussels, astana) = try Self.offices("keys-bundle")
        #expect(try accord(["keys", "incept"], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(brussels.path, 1)
        #expect(try accord(["sync", "--with", brussels.path], journal: astana.path).status == 0)
        #expect(try accord(["keys", "rotate"], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(brussels.path, 2)
        let file = temp.child("to-astana.bundle")
        let created = try accord(["bundle", "create", "--out", file, "--for", "astana"], journal: brussels.path)
        #expect(created.status == 0, "\(created.stderr)")
        let checked = try accord(["bundle", "verify", file], journal: astana.path)
        #expect(checked.status == 0, "\(checked.stderr)")
        let applied = try accord(["bundle", "apply", file], journal: astana.path)
        #expect(applied.status == 0, "\(applied.stderr)")
        let verified = try accord(["verify"], journal: astana.path)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("key events at 1, 3"), "\(verified.output)")
    }

    @Test func revokeWithAFromSeqOutOfRangeIsAUsageErrorAndWritesNothing() throws {
        let (temp, brussels, _) = try Self.offices("keys-revoke-range")
        _ = temp
        #expect(try accord(["keys", "incept"], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(brussels.path, 1)
        let before = try FileDamage.snapshot(of: brussels.path)
        for bad in ["0", "99"] {
            let result = try accord(["keys", "revoke", "--from-seq", bad], journal: brussels.path)
            #expect(result.status == 2, "--from-seq \(bad): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--from-seq \(bad) is out of range"), "\(result.stderr)")
            #expect(result.stderr.contains("between 1 and 3"), "\(result.stderr)")
        }
        #expect(try FileDamage.snapshot(of: brussels.path) == before)
        #expect(try accord(["keys", "revoke", "--from-seq", "3"], journal: brussels.path).status == 0)
    }

    @Test func keysShowCountsRotationsAndRevocationsApart() throws {
        let (_, brussels, _) = try Self.offices("keys-show-counts")
        #expect(try accord(["keys", "incept"], journal: brussels.path).status == 0)
        #expect(try accord(["keys", "rotate"], journal: brussels.path).status == 0)
        #expect(try accord(["keys", "revoke", "--from-seq", "3"], journal: brussels.path).status == 0)
        let shown = try accord(["keys", "show"], journal: brussels.path)
        #expect(shown.output.contains("key events  1, 2, 3 (rotations 1, revocations 1)"), "\(shown.output)")
        // The keys that signed earlier checkpoints, for auditors (a checkpoint of size n is signed by the key in force at n + 1).
        #expect(shown.output.contains("earlier note key accord/eu-kz-2022/brussels+"), "\(shown.output)")
        #expect(shown.output.contains("(checkpoints of sizes 0…1)"), "\(shown.output)")
        #expect(shown.output.contains("(checkpoints of sizes 2…2)"), "\(shown.output)")
    }

    @Test func aNextKeyKeptOffTheMachineNeverEntersTheKeysFolder() throws {
        let (temp, brussels, _) = try Self.offices("keys-next-offline")
        let offline = temp.child("usb-stick-next.key")
        let keysFolder = brussels.path + "/keys"
        func nextDigest() throws -> String {
            let shown = try accord(["keys", "show"], journal: brussels.path).output
            let line = try #require(shown.split(separator: "\n").first { $0.hasPrefix("next key") })
            return String(line.split(separator: " ")[3])
        }
        func digestOfSeed(in path: String) throws -> String {
            let text = String(decoding: try FileDamage.bytes(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return KeyHistory.digest(of: try SiteKey(seed: try #require(Base64.decode(text))).publicKey)
        }
        #expect(try accord(["keys", "incept", "--next-key-file", offline], journal: brussels.path).status == 0)
        for step in [["keys", "rotate", "--next-key-file", offline], ["keys", "revoke", "--from-seq", "3", "--next-key-file", offline]] {
            let result = try accord(step, journal: brussels.path)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.contains("is in '\(offline)'"), "\(result.output)")
            // Only the digest is published; the new next key is back where it was brought from.
            #expect(try digestOfSeed(in: offline) == nextDigest())
            let kept = try FileManager.default.contentsOfDirectory(atPath: keysFolder)
            #expect(!kept.contains { $0.contains("next") }, "\(kept)")
        }
        #expect(try accord(["verify"], journal: brussels.path).status == 0)
    }
}

import AccordTesting
import Foundation
import Testing

@Suite("accord keys: incept, rotate, revoke (Journal/Trust.md)")
struct KeysCLITests {
    @Test func rotatingTwiceAndRevokingKeepsTheJournalVerifiableAtBothOffices() throws {
        let temp = TemporaryDirectory("keys-cli")
        let brussels = try ForkProofCLITests.office(temp, "brussels")
        let astana = try ForkProofCLITests.office(temp, "astana")
        #expect(try accord(["peer", "add", "brussels", "--key", brussels.key], journal: astana.path).status == 0)
        #expect(try accord(["peer", "add", "astana", "--key", astana.key], journal: brussels.path).status == 0)
        // Without an inception, no rotation.
        let early = try accord(["keys", "rotate"], journal: brussels.path)
        #expect(early.status == 2)
        #expect(early.stderr.contains("accord keys incept"), "\(early.stderr)")
        let next = temp.child("offline-next.key")
        #expect(try accord(["keys", "incept", "--next-key-file", next], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(brussels.path, 1)
        let rotated = try accord(["keys", "rotate", "--next-key-file", next], journal: brussels.path)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        try ForkProofCLITests.register(brussels.path, 2)
        // The next key stays where it was brought from (Trust.md "Key files"), never in keys/.
        #expect(try accord(["keys", "rotate"], journal: brussels.path).status == 2)
        #expect(try accord(["keys", "rotate", "--next-key-file", next], journal: brussels.path).status == 0)
        try ForkProofCLITests.register(brussels.path, 3)
        let revoked = try accord(["keys", "revoke", "--from-seq", "7", "--reason", "laptop stolen", "--next-key-file", next], journal: brussels.path)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        try ForkProofCLITests.register(brussels.path, 4)
        let synced = try accord(["sync", "--with", brussels.path], journal: astana.path)
        #expect(synced.status == 0, "\(synced.stderr)")
        for office in [brussels.path, astana.path] {
            let verified = try accord(["verify"], journal: office)
            #expect(verified.status == 0, "\(verified.output)\(verified.stderr)")
            #expect(verified.output.contains("key events at 1, 3, 5, 7, key revoked from 7 (at 7)"), "\(verified.output)")
        }
        let shown = try accord(["keys", "show"], journal: brussels.path)
        #expect(shown.output.contains("anchor key  \(brussels.key)"), "\(shown.output)")
    }
}

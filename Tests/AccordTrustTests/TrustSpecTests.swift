import AccordModel
import AccordTesting
import AccordTrust
import Foundation
import Testing

/// Journal/Trust.md's limits are the code's constants.
@Suite struct TrustSpecTests {
    static func limits() throws -> [String: Int] {
        let text = try String(contentsOfFile: Fixtures.repositoryRoot + "/Journal/Trust.md", encoding: .utf8)
        var limits: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `MAX_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            limits[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = Int(cells[1].replacingOccurrences(of: ",", with: ""))
        }
        return limits
    }

    @Test func limitsTableOfTrustMdMatchesTheCode() throws {
        let limits = try Self.limits()
        #expect(limits["MAX_NOTE_BYTES"] == SignedNote.maxBytes)
        #expect(limits["MAX_NOTE_SIGNATURES"] == SignedNote.maxSignatures)
        #expect(limits["MAX_PROOF_HASHES"] == TlogProof.maxHashes)
        #expect(limits["MAX_PROOF_BYTES"] == TlogProof.maxBytes)
        #expect(limits["MAX_KEY_NAME"] == SignedNote.maxKeyNameBytes)
        #expect(limits["MAX_SIZE_DIGITS"] == Checkpoint.maxSizeDigits)
    }

    @Test func noteOverTheLimitOrWithTooManySignaturesIsRefusedBeforeParsing() throws {
        let line = "— a AAAAAAAA\n"
        let many = "accord/x/y\n1\n" + Base64.encode([UInt8](repeating: 0, count: 32)) + "\n\n" + String(repeating: line, count: SignedNote.maxSignatures + 1)
        #expect(throws: AccordError.self) { try SignedNote(parsing: Array(many.utf8)) }
        let big = [UInt8](repeating: 0x61, count: SignedNote.maxBytes + 1)
        #expect(throws: AccordError.self) { try SignedNote(parsing: big) }
        let hashes = String(repeating: Base64.encode([UInt8](repeating: 1, count: 32)) + "\n", count: TlogProof.maxHashes + 1)
        let receipt = "c2sp.org/tlog-proof@v1\nindex 0\n" + hashes + "\naccord/x/y\n1\n" + Base64.encode([UInt8](repeating: 0, count: 32)) + "\n\n" + line
        #expect(throws: AccordError.self) { try TlogProof(parsing: Array(receipt.utf8)) }
    }
}

/// The worked example of Trust.md §8 verifies with the keys printed beside it.
@Suite struct TrustWorkedExampleTests {
    static func block(_ name: String, in text: String) throws -> String {
        let begin = try #require(text.range(of: "<!-- \(name):begin -->\n```\n"))
        let end = try #require(text.range(of: "```\n<!-- \(name):end -->", range: begin.upperBound..<text.endIndex))
        return String(text[begin.upperBound..<end.lowerBound])
    }

    @Test func workedExampleReceiptVerifiesWithItsKeysAndFailsWithAnotherEvent() throws {
        let text = try String(contentsOfFile: Fixtures.repositoryRoot + "/Journal/Trust.md", encoding: .utf8)
        let keys = try Self.block("example-keys", in: text).split(separator: "\n").map { try NoteVerifier(parsing: String($0)) }
        let receipt = try TlogProof(parsing: Array(try Self.block("example-receipt", in: text).utf8))
        let checked = try CheckpointAudit.check(receipt, verifiers: keys, minimumCosignatures: 1)
        #expect(checked.checkpoint.origin == "accord/eu-kz-2022/brussels" && checked.checkpoint.size == 3)
        #expect(FeedLogs.hex(receipt.extra ?? []) == "ad24ae79742ff43662ff464b96e61feeff219918b7908dd252adeebfcae43e44")
        #expect(FeedLogs.hex(MerkleTree.leafHash(of: receipt.extra ?? [])) == "3e03595a7dadfe6e318d18a101237cca97a97e70c414354c1d75c5af9aaa14fb")
        #expect(throws: AccordError.self) { try CheckpointAudit.check(receipt, leaf: [UInt8](repeating: 0, count: 32), verifiers: keys) }
    }
}

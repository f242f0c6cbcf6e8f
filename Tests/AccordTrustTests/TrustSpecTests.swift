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

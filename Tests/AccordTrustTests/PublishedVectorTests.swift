import AccordModel
import AccordTrust
import Testing

/// Published test vectors: RFC 6962 Merkle hashing as the Certificate Transparency and Trillian
/// reference implementations test it (their 8-leaf tree), and a C2SP signed note as Go's
/// `golang.org/x/mod/sumdb/note` tests it (the "PeterNeumann" key).
@Suite struct PublishedVectorTests {
    /// The eight leaves of the CT / Trillian reference tests.
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]

    /// The roots of the trees of the first 1…8 leaves.
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static var tree: MerkleTree { MerkleTree(leafHashes: leaves.map { MerkleTree.leafHash(of: $0) }) }

    @Test func emptyTreeRootIsTheHashOfNothing() {
        #expect(FeedLogs.hex(MerkleTree().root()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test(arguments: 1...8)
    func rootOfThePublishedTreeMatchesTheReference(size: Int) {
        #expect(FeedLogs.hex(Self.tree.root(size: size)) == Self.roots[size - 1])
    }

    /// (leaf index, tree size, audit path) from the reference tests.
    static let inclusion: [(Int, Int, [String])] = [
        (0, 1, []),
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]

    @Test func inclusionProofsMatchTheReferenceAndVerify() throws {
        let tree = Self.tree
        for (index, size, expected) in Self.inclusion {
            let proof = try tree.inclusionProof(index: index, size: size)
            #expect(proof.map(FeedLogs.hex) == expected, "leaf \(index) of \(size)")
            #expect(MerkleTree.verifyInclusion(leafHash: tree.leafHashes[index], index: index, size: size, proof: proof, root: tree.root(size: size)))
        }
    }

    /// (old size, new size, proof) from the reference tests.
    static let consistency: [(Int, Int, [String])] = [
        (1, 1, []),
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]

    @Test func consistencyProofsMatchTheReferenceAndVerify() throws {
        let tree = Self.tree
        for (old, new, expected) in Self.consistency {
            let proof = try tree.consistencyProof(oldSize: old, newSize: new)
            #expect(proof.map(FeedLogs.hex) == expected, "\(old) → \(new)")
            #expect(MerkleTree.verifyConsistency(oldSize: old, newSize: new, oldRoot: tree.root(size: old), newRoot: tree.root(size: new), proof: proof))
        }
    }

    /// Every proof of every tree up to 20 leaves verifies, and each one with any hash changed,
    /// or checked at another index or size, does not.
    @Test func everyProofUpToTwentyLeavesVerifiesAndEveryDamagedOneFails() throws {
        let tree = MerkleTree(leafHashes: (0..<20).map { MerkleTree.leafHash(of: [UInt8($0)]) })
        for size in 1...20 {
            let root = tree.root(size: size)
            for index in 0..<size {
                let proof = try tree.inclusionProof(index: index, size: size)
                #expect(MerkleTree.verifyInclusion(leafHash: tree.leafHashes[index], index: index, size: size, proof: proof, root: root))
                #expect(!MerkleTree.verifyInclusion(leafHash: tree.leafHashes[index], index: (index + 1) % size, size: size, proof: proof, root: root) || size == 1)
                for damaged in proof.indices {
                    var bad = proof
                    bad[damaged][damaged % 32] ^= 0x01
                    #expect(!MerkleTree.verifyInclusion(leafHash: tree.leafHashes[index], index: index, size: size, proof: bad, root: root))
                }
            }
            for old in 0...size {
                let proof = try tree.consistencyProof(oldSize: old, newSize: size)
                #expect(MerkleTree.verifyConsistency(oldSize: old, newSize: size, oldRoot: tree.root(size: old), newRoot: root, proof: proof))
                for damaged in proof.indices {
                    var bad = proof
                    bad[damaged][0] ^= 0x80
                    #expect(!MerkleTree.verifyConsistency(oldSize: old, newSize: size, oldRoot: tree.root(size: old), newRoot: root, proof: bad))
                }
            }
        }
    }

    // Go's golang.org/x/mod/sumdb/note tests (note_test.go).
    static let peterName = "PeterNeumann"
    static let peterSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let peterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let peterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterSigned = peterText + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func verifierKeyOfGoSumdbNoteTestsParsesWithItsKeyID() throws {
        let verifier = try NoteVerifier(parsing: Self.peterVerifier)
        #expect(verifier.nameText == Self.peterName)
        #expect(FeedLogs.hex(verifier.keyID) == "c74f20a3")
        #expect(verifier.text == Self.peterVerifier)
    }

    @Test func signingGoSumdbNoteTestTextGivesItsKnownSignedNote() throws {
        let encoded = String(Self.peterSigner.split(separator: "+", maxSplits: 4)[4])
        let seed = try #require(Base64.decode(encoded))
        #expect(seed.first == 0x01 && seed.count == 33)
        let signer = try NoteSigner(name: Self.peterName, key: try SiteKey(seed: Array(seed.dropFirst())))
        #expect(signer.verifier == (try NoteVerifier(parsing: Self.peterVerifier)))
        let text = Array(Self.peterText.utf8)
        let note = SignedNote(text: text, signatures: [try signer.sign(text)])
        #expect(String(decoding: note.bytes, as: UTF8.self) == Self.peterSigned)
    }

    @Test func knownSignedNoteVerifiesAndAnyChangedByteOfItsTextDoesNot() throws {
        let verifier = try NoteVerifier(parsing: Self.peterVerifier)
        let note = try SignedNote(parsing: Array(Self.peterSigned.utf8))
        #expect(note.text == Array(Self.peterText.utf8))
        #expect(note.signatures.count == 1 && verifier.verifies(note.signatures[0], of: note.text))
        for offset in note.text.indices {
            var text = note.text
            text[offset] ^= 0x01
            #expect(!verifier.verifies(note.signatures[0], of: text))
        }
    }

    /// A cosignature (c2sp.org/tlog-cosignature): key id of type 0x04, 8-byte big-endian time,
    /// Ed25519 over "cosignature/v1\ntime <t>\n" + the checkpoint. It verifies only as a
    /// cosignature, only at its time, and only over that checkpoint.
    @Test func cosignatureCarriesItsTimeAndVerifiesOnlyAsACosignature() throws {
        let signer = try NoteSigner(name: "accord/eu-kz-2022/astana/witness", key: try SiteKey(seed: [UInt8](repeating: 7, count: 32)))
        let checkpoint = Checkpoint(origin: "accord/eu-kz-2022/brussels", size: 8, root: Self.tree.root())
        let line = try signer.cosign(checkpoint.text, time: 1_733_500_000)
        #expect(line.blob.count == 76)
        #expect(Array(line.blob[4..<12]) == [0, 0, 0, 0, 0x67, 0x53, 0x1c, 0x60])
        #expect(NoteVerifier.time(ofCosignature: line) == 1_733_500_000)
        #expect(signer.cosignatureVerifier.verifies(line, of: checkpoint.text))
        #expect(!signer.verifier.verifies(line, of: checkpoint.text), "a 0x04 line is not a 0x01 signature")
        var later = line
        later.blob[11] ^= 0x01
        #expect(!signer.cosignatureVerifier.verifies(later, of: checkpoint.text), "the time is signed")
        let other = Checkpoint(origin: checkpoint.origin, size: 7, root: Self.tree.root(size: 7))
        #expect(!signer.cosignatureVerifier.verifies(line, of: other.text))
        #expect(signer.cosignatureVerifier.keyID != signer.verifier.keyID)
        #expect(try NoteVerifier(parsing: signer.cosignatureVerifier.text) == signer.cosignatureVerifier)
    }

    @Test func checkpointTextIsThreeLinesAndExtensionLinesAreRefused() throws {
        let checkpoint = Checkpoint(origin: "accord/eu-kz-2022/brussels", size: 8, root: Self.tree.root())
        #expect(String(decoding: checkpoint.text, as: UTF8.self) == "accord/eu-kz-2022/brussels\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        for bad in ["accord/x/y\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "accord/x/y\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nextension\n",
                    "accord/x/y\n8\nXcna\n", "accord/x/y\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "accord/x/y\n8\n"] {
            #expect(throws: AccordError.self) { try Checkpoint(text: Array(bad.utf8)) }
        }
        #expect(Checkpoint.feed(ofOrigin: "accord/eu-kz-2022/brussels")?.site.rawValue == "brussels")
        #expect(Checkpoint.feed(ofOrigin: "accord/eu-kz-2022/brussels/state") == nil)
        #expect(Checkpoint.feed(ofOrigin: "accord/EU/brussels") == nil)
    }
}

import AccordModel

/// What an auditor checks with no journal (Trust.md §6): a signed checkpoint, its cosignatures,
/// and optionally an inclusion proof (tlog-proof) or a consistency proof.
public enum CheckpointAudit {
    /// A checked checkpoint.
    public struct Checked: Sendable {
        /// The checkpoint.
        public var checkpoint: Checkpoint
        /// The note.
        public var note: SignedNote
        /// The names of the log keys whose signature verified.
        public var signedBy: [String]
        /// The witnesses whose cosignature verified, with the time each carries.
        public var cosignedBy: [(name: String, time: UInt64)]
    }

    /// Checks `note`'s signatures against `verifiers`.
    ///
    /// The note must parse as a checkpoint and carry a valid signature of a type-0x01 key named
    /// by its origin (the log's key); every type-0x04 key among `verifiers` that has a line on
    /// the note must verify, and at least `minimumCosignatures` of them must be there. Lines of
    /// keys not among `verifiers` are ignored (c2sp.org/signed-note).
    /// - Throws: ``AccordError`` `.badInput` for a malformed note; `.untrusted` when the log's
    ///   signature or a listed witness's cosignature does not verify, or cosignatures are missing.
    public static func check(_ note: SignedNote, verifiers: [NoteVerifier], minimumCosignatures: Int = 0) throws -> Checked {
        let checkpoint = try Checkpoint(text: note.text)
        let origin = Array(checkpoint.origin.utf8)
        var signedBy: [String] = []
        var cosignedBy: [(String, UInt64)] = []
        let logKeys = verifiers.filter { $0.type == NoteVerifier.ed25519 && $0.name == origin }
        guard !logKeys.isEmpty else {
            throw AccordError(.untrusted, "No key named '\(checkpoint.origin.prefix(120))' (the checkpoint's origin) was given; pass the log's verifier key with --key (Trust.md §6).", field: "key")
        }
        for signature in note.signatures {
            for verifier in verifiers where verifier.name == signature.name && verifier.keyID == signature.keyID {
                guard verifier.verifies(signature, of: note.text) else {
                    throw AccordError(.untrusted, "The signature line of '\(verifier.nameText)' (key id \(hex(verifier.keyID))) does not verify: the checkpoint was changed after it was signed, or the line is forged.")
                }
                if verifier.type == NoteVerifier.ed25519 {
                    signedBy.append(verifier.nameText)
                } else if let time = NoteVerifier.time(ofCosignature: signature) {
                    cosignedBy.append((verifier.nameText, time))
                }
            }
        }
        guard signedBy.contains(where: { Array($0.utf8) == origin }) else {
            throw AccordError(.untrusted, "The checkpoint of '\(checkpoint.origin.prefix(120))' carries no valid signature of the log's key \(logKeys.map { hex($0.keyID) }.joined(separator: " or ")) (Trust.md §6).")
        }
        guard cosignedBy.count >= minimumCosignatures else {
            throw AccordError(.untrusted, "The checkpoint carries \(cosignedBy.count) valid cosignature\(cosignedBy.count == 1 ? "" : "s") of the witness keys given; \(minimumCosignatures) are required (Trust.md §6).")
        }
        return Checked(checkpoint: checkpoint, note: note, signedBy: signedBy, cosignedBy: cosignedBy)
    }

    /// Checks a tlog-proof receipt: its checkpoint as ``check(_:verifiers:minimumCosignatures:)``,
    /// then that its hashes prove the leaf `extra` (or `leaf`, when given) at its index.
    /// - Parameter leaf: the leaf bytes the auditor holds (an event id's 32 bytes); when nil, the
    ///   receipt's `extra`.
    /// - Throws: as ``check(_:verifiers:minimumCosignatures:)``; ``AccordError`` `.untrusted`
    ///   when the inclusion proof fails, `.badInput` when there is no leaf to prove.
    public static func check(_ proof: TlogProof, leaf: [UInt8]? = nil, verifiers: [NoteVerifier], minimumCosignatures: Int = 0) throws -> Checked {
        let checked = try check(proof.note, verifiers: verifiers, minimumCosignatures: minimumCosignatures)
        if let given = leaf, let extra = proof.extra, given != extra {
            throw AccordError(.untrusted, "The proof is for another event: its 'extra' is \(hex(extra)), not \(hex(given)).")
        }
        guard let leaf = leaf ?? proof.extra else {
            throw AccordError(.badInput, "The proof names no leaf ('extra' line) and none was given (Trust.md §4).")
        }
        let checkpoint = checked.checkpoint
        guard MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(of: leaf), index: proof.index, size: checkpoint.size, proof: proof.hashes, root: checkpoint.root) else {
            throw AccordError(.untrusted, "The inclusion proof of leaf \(proof.index) (event \(hex(leaf))) does not lead to the root of '\(checkpoint.origin.prefix(120))' at size \(checkpoint.size): that event is not in this log at that place (Trust.md §4).")
        }
        return checked
    }

    /// Checks that `new` extends `old` by `proof` (both already checked).
    /// - Throws: ``AccordError`` `.badInput` when the notes are of different logs or the proof
    ///   of other sizes; `.fork` when the proof fails: the newer history does not extend the older.
    public static func checkConsistency(old: Checkpoint, new: Checkpoint, proof: ConsistencyProof) throws {
        guard old.origin == new.origin else {
            throw AccordError(.badInput, "The checkpoints are of two logs, '\(old.origin.prefix(80))' and '\(new.origin.prefix(80))'.")
        }
        guard proof.oldSize == old.size, proof.newSize == new.size else {
            throw AccordError(.badInput, "The consistency proof is from size \(proof.oldSize) to \(proof.newSize), not from \(old.size) to \(new.size).")
        }
        guard MerkleTree.verifyConsistency(oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root, proof: proof.hashes) else {
            throw AccordError(.fork, "The checkpoint of '\(new.origin.prefix(80))' at size \(new.size) does not extend the one at size \(old.size): the consistency proof fails, so the log's history was rewritten (Trust.md §7). Keep both checkpoints: they prove it.")
        }
    }
}

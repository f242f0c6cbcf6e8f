import AccordModel
import AccordSegments
import AccordStore
import Crypto
import Glibc

/// The witness keys of a journal (Trust.md §3.1): the site's own witness key, separate from its
/// site key as c2sp.org/tlog-cosignature requires, in `keys/<site>.witness.key` (base64 of the
/// 32-byte seed, mode 0600), and the peers' witness verifier keys in `keys/<site>.witness.vkey`.
public struct WitnessKeys: Sendable {
    /// The journal.
    public let journal: EventJournal

    /// The witness keys of `journal`.
    public init(journal: EventJournal) { self.journal = journal }

    /// The witness key name of `site`: `accord/<partnership>/<site>/witness`.
    public static func name(partnership: String, site: SiteID) -> String {
        Checkpoint.origin(partnership: partnership, site: site) + "/witness"
    }

    private var folder: String { journal.path + "/" + EventJournal.keysFolder }

    /// The own witness signer, creating its key the first time (mode 0600).
    /// - Throws: ``AccordError`` `.io` when the key cannot be read or written.
    public func ownSigner() throws -> NoteSigner {
        let path = folder + "/\(journal.site).witness.key"
        let name = Self.name(partnership: journal.partnership, site: journal.site)
        if access(path, F_OK) == 0 {
            guard let bytes = try? FileBytes.read(path, limit: EventJournal.maxKeyFileBytes),
                  let seed = Base64.decode(String(decoding: trimmingASCIIWhitespace(bytes), as: UTF8.self)), seed.count == 32
            else {
                throw AccordError(.io, "The witness key '\(EventJournal.keysFolder)/\(journal.site).witness.key' is unreadable or not the base64 of a 32-byte seed.")
            }
            return try NoteSigner(name: name, key: try SiteKey(seed: seed))
        }
        let seed = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        try FileBytes.writeAtomically(path, bytes: Array((Base64.encode(seed) + "\n").utf8), mode: 0o600)
        return try NoteSigner(name: name, key: try SiteKey(seed: seed))
    }

    /// Trusts `verifier` as the witness key of `site` (writes `keys/<site>.witness.vkey`).
    /// - Throws: ``AccordError`` `.badInput` unless it is a type-0x04 key named
    ///   ``name(partnership:site:)``.
    public func trust(_ verifier: NoteVerifier, for site: SiteID) throws {
        let expected = Self.name(partnership: journal.partnership, site: site)
        guard verifier.type == NoteVerifier.cosignatureV1, verifier.nameText == expected else {
            throw AccordError(.badInput, "The witness key of site '\(site)' must be a cosignature key (type 0x04) named '\(expected)', as 'accord checkpoint witness-key' prints it there.", field: "key")
        }
        try FileBytes.writeAtomically(folder + "/\(site).witness.vkey", bytes: Array((verifier.text + "\n").utf8))
    }

    /// The trusted witness keys by site, the own one included when it exists.
    /// - Throws: ``AccordError`` `.badInput` naming a file that does not hold a verifier key.
    public func all() throws -> [SiteID: NoteVerifier] {
        var keys: [SiteID: NoteVerifier] = [:]
        guard let dir = opendir(folder) else { return keys }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasSuffix(".witness.vkey"), let site = try? SiteID(String(name.dropLast(13))) else { continue }
            let bytes = try FileBytes.read(folder + "/" + name, limit: EventJournal.maxKeyFileBytes)
            keys[site] = try NoteVerifier(parsing: String(decoding: bytes, as: UTF8.self))
        }
        if access(folder + "/\(journal.site).witness.key", F_OK) == 0 {
            keys[journal.site] = try ownSigner().cosignatureVerifier
        }
        return keys
    }
}

/// Witnessing (Trust.md §3): cosigning other offices' checkpoints after a consistency check.
public enum Witness {
    /// The folder of the witness's state: `checkpoints/witnessed/<site>` holds the last
    /// checkpoint text it cosigned for that feed; `checkpoints/forks/` the fork proofs.
    public static let stateFolder = "witnessed"
    /// The folder of fork proofs.
    public static let forksFolder = "forks"

    /// What one cosigning did.
    public struct Outcome: Sendable {
        /// The feed.
        public var site: SiteID
        /// One line.
        public var summary: String
        /// True when a fork was found (the proof is kept in `checkpoints/forks/`).
        public var fork: Bool
    }

    /// Cosigns the latest checkpoint of every other feed (or `offered`, a signed note given by
    /// the caller), each only after checking its signature under the feed's trusted key and a
    /// consistency proof, computed from this journal's copy of the feed, from the last size this
    /// witness cosigned; records each cosignature as a `checkpoint.cosigned.v1` event.
    ///
    /// A checkpoint whose size was already seen with another root is a fork: nothing is
    /// cosigned for that feed, and both notes are kept in `checkpoints/forks/` as its proof.
    /// - Parameter time: the cosignature time, seconds since 1970.
    /// - Throws: ``AccordError`` `.fork` (after keeping the proof) when a fork was found; `.untrusted`
    ///   when an offered note's signature does not verify; ``SegmentError`` for the journal.
    public static func cosign(_ journal: EventJournal, offered: SignedNote? = nil, time: UInt64, writerOptions: SegmentWriter.Options = .init()) throws -> [Outcome] {
        let reading = try FeedCheckpoints.read(journal)
        let store = CheckpointStore(journal: journal)
        let signer = try WitnessKeys(journal: journal).ownSigner()
        var candidates: [SiteID: SignedNote] = [:]
        var outcomes: [Outcome] = []
        for carried in reading.carried where carried.type == CheckpointStore.signedType && carried.carrier != journal.site {
            candidates[carried.carrier] = SignedNote(text: carried.checkpoint.text, signatures: [carried.signature])
        }
        var offeredSite: SiteID?
        if let offered {
            let checkpoint = try Checkpoint(text: offered.text)
            guard let feed = Checkpoint.feed(ofOrigin: checkpoint.origin), feed.partnership == journal.partnership, feed.site != journal.site else {
                throw AccordError(.badInput, "The offered checkpoint's origin '\(checkpoint.origin.prefix(120))' is not another office's feed of partnership '\(journal.partnership)'.")
            }
            candidates[feed.site] = offered
            offeredSite = feed.site
        }
        var drafts: [EventDraft] = []
        var forked = false
        for (site, note) in candidates.sorted(by: { $0.key < $1.key }) {
            let checkpoint = try Checkpoint(text: note.text)
            let verifier = try CheckpointStore.feedVerifier(for: site, size: checkpoint.size, in: journal)
            guard note.signatures.contains(where: { verifier.verifies($0, of: note.text) }) else {
                if site == offeredSite {
                    throw AccordError(.untrusted, "The checkpoint of feed '\(site)' at size \(checkpoint.size) carries no valid signature of the site's key in force at that size (its anchor, or the key its key events reveal, Trust.md §2.1); it was not cosigned.")
                }
                outcomes.append(Outcome(site: site, summary: "not cosigned: its latest checkpoint (size \(checkpoint.size)) carries no valid signature of the site's key in force at that size", fork: false))
                continue
            }
            let signed = SignedNote(text: note.text, signatures: note.signatures.filter { verifier.verifies($0, of: note.text) })
            // A second checkpoint for a size already seen: a fork, whatever this copy holds.
            if let seen = try store.note(site: site, size: checkpoint.size), seen.text != note.text {
                try keepForkProof(journal: journal, site: site, size: checkpoint.size, first: seen, second: signed)
                outcomes.append(Outcome(site: site, summary: "FORK (conflict, as a witness's 409): two different checkpoints signed for size \(checkpoint.size); proof kept in '\(CheckpointStore.folder)/\(forksFolder)/\(site)-\(checkpoint.size).proof'", fork: true))
                forked = true
                continue
            }
            let tree = reading.logs.trees[site] ?? MerkleTree()
            guard checkpoint.size <= tree.size else {
                outcomes.append(Outcome(site: site, summary: "not cosigned: the checkpoint covers \(checkpoint.size) events and this copy holds \(tree.size); sync first", fork: false))
                continue
            }
            let last = try lastCosigned(journal: journal, site: site)
            if let last, last.size > checkpoint.size {
                outcomes.append(Outcome(site: site, summary: "not cosigned: older (size \(checkpoint.size)) than the last cosigned (size \(last.size))", fork: false))
                continue
            }
            if let last, last.size == checkpoint.size, last.root == checkpoint.root {
                outcomes.append(Outcome(site: site, summary: "already cosigned at size \(checkpoint.size)", fork: false))
                continue
            }
            // The consistency proof from the last cosigned size, from this copy of the feed,
            // checked against the root this witness cosigned then and the root signed now.
            let old = last ?? Checkpoint(origin: checkpoint.origin, size: 0, root: MerkleTree.emptyRoot)
            let proof = try tree.consistencyProof(oldSize: old.size, newSize: checkpoint.size)
            guard tree.root(size: checkpoint.size) == checkpoint.root,
                  MerkleTree.verifyConsistency(oldSize: old.size, newSize: checkpoint.size, oldRoot: old.root, newRoot: checkpoint.root, proof: proof)
            else {
                let first = try store.note(site: site, size: old.size) ?? SignedNote(text: old.text, signatures: [])
                try keepForkProof(journal: journal, site: site, size: checkpoint.size, first: first, second: signed)
                outcomes.append(Outcome(site: site, summary: "FORK (conflict, as a witness's 409): the checkpoint at size \(checkpoint.size) is not consistent with the one cosigned at size \(old.size) or with this copy of the feed; proof kept in '\(CheckpointStore.folder)/\(forksFolder)/\(site)-\(checkpoint.size).proof'", fork: true))
                forked = true
                continue
            }
            let cosignature = try signer.cosign(note.text, time: time)
            try store.save(SignedNote(text: signed.text, signatures: signed.signatures + [cosignature]), site: site, size: checkpoint.size)
            try FileBytes.writeAtomically(stateFolderPath(journal) + "/\(site)", bytes: checkpoint.text, mode: 0o644)
            drafts.append(EventDraft(
                type: EventType(CheckpointStore.cosignedType), subject: try Subject("checkpoint/" + site.rawValue),
                data: JSONObject([
                    ("origin", .string(checkpoint.origin)), ("size", .number(String(checkpoint.size))),
                    ("root", .string(Base64.encode(checkpoint.root))), ("witness", .string(signer.verifier.nameText)),
                    ("cosignature", .string(Base64.encode(cosignature.blob))),
                ])))
            outcomes.append(Outcome(site: site, summary: "cosigned size \(checkpoint.size) (consistent with size \(old.size))", fork: false))
        }
        if !drafts.isEmpty {
            let writer = try journal.openWriter(options: writerOptions)
            defer { writer.close() }
            _ = try writer.append(drafts)
        }
        if forked {
            let lines = outcomes.filter(\.fork).map { "feed '\($0.site)': \($0.summary)" }
            throw AccordError(.fork, "Conflict: " + lines.joined(separator: "; ") + ". Show the proof to the other offices; do not cosign that feed again until it is resolved (Trust.md §7).")
        }
        return outcomes
    }

    private static func stateFolderPath(_ journal: EventJournal) throws -> String {
        let root = journal.path + "/" + CheckpointStore.folder
        for path in [root, root + "/" + stateFolder, root + "/" + forksFolder] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AccordError(.io, "Cannot create '\(path)': \(Errno(errno)).")
        }
        return root + "/" + stateFolder
    }

    /// The last checkpoint this witness cosigned for `site`, if any.
    static func lastCosigned(journal: EventJournal, site: SiteID) throws -> Checkpoint? {
        let path = try stateFolderPath(journal) + "/\(site)"
        guard access(path, F_OK) == 0 else { return nil }
        return try Checkpoint(text: try FileBytes.read(path, limit: SignedNote.maxBytes))
    }

    /// Keeps a fork proof: both signed notes, one after the other, separated by a line `--`.
    static func keepForkProof(journal: EventJournal, site: SiteID, size: Int, first: SignedNote, second: SignedNote) throws {
        _ = try stateFolderPath(journal)
        let path = journal.path + "/" + CheckpointStore.folder + "/" + forksFolder + "/\(site)-\(size).proof"
        try FileBytes.writeAtomically(path, bytes: first.bytes + Array("--\n".utf8) + second.bytes)
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// The checkpoints a journal keeps (Trust.md §5): `checkpoints/<site>/<size>.note`, one signed
/// note per feed and size, with every signature and cosignature known for it.
public struct CheckpointStore: Sendable {
    /// The folder, in the journal directory.
    public static let folder = "checkpoints"
    /// The event type that carries a feed's signed checkpoint to the other offices (Trust.md §5).
    public static let signedType = "checkpoint.signed.v1"
    /// The event type that carries a witness's cosignature (Trust.md §5).
    public static let cosignedType = "checkpoint.cosigned.v1"

    /// The journal.
    public let journal: EventJournal

    /// The store of `journal`.
    public init(journal: EventJournal) { self.journal = journal }

    /// The signer of the checkpoints of `journal`'s own feed: the site key in force, named by the
    /// feed's origin. A checkpoint covers every event of the feed when it is signed, so the key in
    /// force now is the key in force at its size + 1 (``feedVerifier(for:size:in:)``).
    /// - Throws: ``AccordError`` `.notFound` when this copy has no private key.
    public static func feedSigner(for journal: EventJournal) throws -> NoteSigner {
        try NoteSigner(name: Checkpoint.origin(partnership: journal.partnership, site: journal.site), key: journal.signingKey())
    }

    /// The verifier of `site`'s checkpoint at `size`: the key in force at `seq` = `size` + 1
    /// after the key events this journal holds of the feed (Trust.md §2.1, "Keys over time"), named
    /// by the feed's origin. The place `size` + 1 is the first a checkpoint of `size` events can
    /// be carried at; after a rotation at `k`, checkpoints of `k` events or more are signed by the
    /// new key, and those of fewer stay verifiable under the key that signed them. The anchor
    /// (`keys/<site>.pub`) is the key only until the feed's first rotation.
    /// - Parameters:
    ///   - site: the feed's site.
    ///   - size: the checkpoint's size (events covered).
    ///   - journal: the journal whose trusted anchors and key events are used.
    /// - Returns: the verifier of type 0x01 (Trust.md §2.2).
    /// - Throws: ``AccordError`` `.untrusted` when no key is trusted for the site; what
    ///   ``EventJournal/verify(progress:)`` throws (read when the journal is damaged).
    public static func feedVerifier(for site: SiteID, size: Int, in journal: EventJournal) throws -> NoteVerifier {
        // A damaged journal stops the incremental reading; `verify` reads past the damage, so that
        // `accord verify --checkpoint` can still name what differs (Trust.md §6).
        let histories: [SiteID: KeyHistory]
        do {
            histories = try journal.keyHistories()
        } catch {
            histories = try journal.verify().keyHistories
        }
        guard let history = histories[site] else {
            throw AccordError(.untrusted, "Site '\(site)' has no trusted key in '\(EventJournal.keysFolder)/'; its checkpoints cannot be checked. Add it with 'accord peer add'.")
        }
        let key = history.key(inForceAt: SequenceNumber(UInt64(max(0, size)) + 1))
        return NoteVerifier(name: Array(Checkpoint.origin(partnership: journal.partnership, site: site).utf8), type: NoteVerifier.ed25519, publicKey: key.rawBytes)
    }

    private func folder(of site: SiteID) -> String { journal.path + "/" + Self.folder + "/" + site.rawValue }

    /// The note stored for `site` at `size`, if any.
    public func note(site: SiteID, size: Int) throws -> SignedNote? {
        let path = folder(of: site) + "/\(size).note"
        guard access(path, F_OK) == 0 else { return nil }
        return try SignedNote(parsing: try FileBytes.read(path, limit: SignedNote.maxBytes + 1))
    }

    /// The sizes stored for `site`, in increasing order.
    public func sizes(site: SiteID) -> [Int] {
        guard let dir = opendir(folder(of: site)) else { return [] }
        defer { closedir(dir) }
        var sizes: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(".note"), let size = Int(name.dropLast(5)) { sizes.append(size) }
        }
        return sizes.sorted()
    }

    /// Stores `note` for `site` at `size`, adding its signatures to those already stored (a
    /// signature line already there is not repeated).
    ///
    /// The caller has checked the note's signature and that its text is the checkpoint of the
    /// feed at that size; a stored note with another text is a fork and is refused here.
    /// - Returns: the note as stored.
    /// - Throws: ``AccordError`` `.fork` when another text is stored for that size; `.io`.
    @discardableResult
    public func save(_ note: SignedNote, site: SiteID, size: Int) throws -> SignedNote {
        var merged = note
        if let existing = try self.note(site: site, size: size) {
            guard existing.text == note.text else {
                throw AccordError(.fork, "A different checkpoint of feed '\(site)' at size \(size) is already stored in '\(Self.folder)/\(site)/\(size).note': the feed has forked. Keep both notes; they prove it (Trust.md §7).")
            }
            merged = existing
            for signature in note.signatures where !merged.signatures.contains(signature) {
                merged.signatures.append(signature)
            }
            if merged == existing { return existing }
        }
        for path in [journal.path + "/" + Self.folder, folder(of: site)] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AccordError(.io, "Cannot create '\(path)': \(Errno(errno)).")
        }
        try FileBytes.writeAtomically(folder(of: site) + "/\(size).note", bytes: merged.bytes)
        return merged
    }
}

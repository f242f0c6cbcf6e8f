import AccordModel
import AccordSegments
import Glibc

/// A site's own key events (Trust.md "Key events", "Key files"): adopting pre-rotation, rotating
/// to the committed key, and revoking a compromised key.
///
/// Key files, in `keys/` (mode 0600): `<site>.key` holds the seed of the key in force (it signs
/// appends, requests, TLS certificates); `<site>.next.key` the seed of the committed next key,
/// made by the inception and by each rotation. The next key can be kept elsewhere (another
/// machine, a safe): pass its file with `nextKeyPath`; a rotation or revocation then writes the
/// new next key back to that file (never into `keys/`). `keys/<site>.pub` stays the anchor, the
/// key peers trusted first; peers follow the key events.
///
/// Each operation holds the journal's writer lock. It writes the new next key (to
/// `<next key file>.new`) before the key event, appends the key event (one durable batch), then
/// puts the key files in place; an interruption between the two is finished when a writer next
/// opens the journal (``EventWriter``) — for the default next key file; with a file elsewhere the
/// writer refuses to open and says how to finish by hand (Trust.md "Key files").
public enum KeyRotation {
    /// `keys/<site>.next.key`.
    public static func nextKeyPath(of journal: EventJournal) -> String { journal.path + "/" + EventJournal.keysFolder + "/\(journal.site).next.key" }
    private static func currentKeyPath(of journal: EventJournal) -> String { journal.path + "/" + EventJournal.keysFolder + "/\(journal.site).key" }
    private static func pendingNextPath(of journal: EventJournal) -> String { nextKeyPath(of: journal) + ".new" }

    /// What an operation did.
    public struct Outcome: Sendable {
        /// The key event written.
        public let event: Event
        /// The key in force after it.
        public let current: SitePublicKey
        /// The SHA-256 (hex) of the key committed to come next.
        public let nextDigest: String
        /// Where the next key's seed was written.
        public let nextKeyFile: String
    }

    /// Adopts pre-rotation: appends `key.inception.v1`, signed by the key in force, committing to
    /// a new next key written to `keys/<site>.next.key` (or `nextKeyPath`).
    /// - Throws: ``AccordError`` `.badInput` when the feed already adopted it; as ``EventWriter/appendKeyEvent(_:signedBy:then:)``.
    public static func incept(_ journal: EventJournal, nextKeyPath: String? = nil) throws -> Outcome {
        let writer = try journal.openWriter()
        defer { writer.close() }
        let history = try ownHistory(writer)
        guard !history.hasInception else {
            throw AccordError(.badInput, "The feed of '\(journal.site)' already adopted pre-rotation (its inception is at \(history.keyEvents.keys.min()!)); use 'accord keys rotate'.")
        }
        let current = try journal.signingKey()
        let next = SiteKey()
        let path = nextKeyPath ?? Self.nextKeyPath(of: journal)
        try writeSeed(next, to: path)
        let digest = KeyHistory.digest(of: next.publicKey)
        let draft = EventDraft(type: EventType(KeyHistory.inceptionType), subject: try Subject("key/\(journal.site)"), data: JSONObject([("next", .string(digest))]))
        let event = try writer.appendKeyEvent(draft, signedBy: current, then: current)
        return Outcome(event: event, current: current.publicKey, nextDigest: digest, nextKeyFile: path)
    }

    /// Rotates to the committed next key: appends `key.rotated.v1`, signed by the key in force,
    /// revealing the next key (read from `nextKeyPath`, by default `keys/<site>.next.key`) and
    /// committing to a new one; then the next key becomes `keys/<site>.key`, and the new next
    /// key replaces it in `nextKeyPath` (by default `keys/<site>.next.key`).
    /// - Throws: ``AccordError`` `.badInput` (no inception; the next key file does not hold the
    ///   committed key), `.notFound` (no next key file); as ``EventWriter/appendKeyEvent(_:signedBy:then:)``.
    public static func rotate(_ journal: EventJournal, nextKeyPath: String? = nil) throws -> Outcome {
        try change(journal, nextKeyPath: nextKeyPath, revokingFrom: nil, reason: nil)
    }

    /// Revokes the key in force after a compromise: appends `key.revoked.v1`, signed by the
    /// committed next key that it reveals, marking the key in force compromised from `fromSeq` on
    /// and committing to a new next key; the next key becomes `keys/<site>.key`. Events signed by
    /// the revoked key at or after `fromSeq` that this revocation does not cover are quarantined
    /// wherever they arrive (Trust.md "Revocation").
    /// - Parameter fromSeq: the first place of the feed the site does not vouch for, between the
    ///   first place signed by the revoked key and the revocation's own place.
    /// - Throws: as ``rotate(_:nextKeyPath:)``; `.badInput` (field `from-seq`) for a `fromSeq`
    ///   out of range, before anything is written.
    public static func revoke(_ journal: EventJournal, fromSeq: SequenceNumber, reason: String? = nil, nextKeyPath: String? = nil) throws -> Outcome {
        try change(journal, nextKeyPath: nextKeyPath, revokingFrom: fromSeq, reason: reason)
    }

    private static func change(_ journal: EventJournal, nextKeyPath: String?, revokingFrom fromSeq: SequenceNumber?, reason: String?) throws -> Outcome {
        let writer = try journal.openWriter()
        defer { writer.close() }
        let history = try ownHistory(writer)
        guard let committed = history.nextDigest else {
            throw AccordError(.badInput, "The feed of '\(journal.site)' has no inception event, so no next key was committed: it cannot rotate or revoke. Adopt pre-rotation first with 'accord keys incept' (Trust.md \"Adopting pre-rotation\").")
        }
        if let fromSeq {
            // The rule of Trust.md "Verification" (4), checked before anything is written: a
            // usage error, not damage.
            let since = history.epochs[history.epochs.count - 1].firstSeq
            let at = (writer.head?.seq ?? SequenceNumber(0)).next
            guard fromSeq >= since, fromSeq <= at else {
                throw AccordError(.badInput, "--from-seq \(fromSeq) is out of range: the key in force signs this feed from \(since) on and the revocation will be event \(at), so --from-seq must lie between \(since) and \(at) (Trust.md \"Revocation\"). Nothing was written.", field: "from-seq")
            }
        }
        let path = nextKeyPath ?? Self.nextKeyPath(of: journal)
        let next = try readSeed(path, what: "next key")
        guard KeyHistory.digest(of: next.publicKey) == committed else {
            throw AccordError(.badInput, "The key in '\(path)' is not the key the feed committed to come next (its SHA-256 is not \(committed.prefix(16))…); give the right file with --next-key-file.", field: "next-key-file")
        }
        // The new next key goes where the committed one was kept: `keys/<site>.next.key`, or the
        // file given (kept off this machine: it never enters `keys/`, Trust.md "Key files").
        let pending = path + ".new"
        let newNext = SiteKey()
        try writeSeed(newNext, to: pending)
        let digest = KeyHistory.digest(of: newNext.publicKey)
        var members: [(key: String, value: JSONValue)] = [("key", .string(next.publicKey.base64)), ("next", .string(digest))]
        if let fromSeq { members.append(("fromSeq", .number(String(fromSeq.rawValue)))) }
        if let reason { members.append(("reason", .string(reason))) }
        let type = fromSeq == nil ? KeyHistory.rotationType : KeyHistory.revocationType
        let draft = EventDraft(type: EventType(type), subject: try Subject("key/\(journal.site)"), data: JSONObject(members))
        let signer = try fromSeq == nil ? journal.signingKey() : next
        let event: Event
        do {
            event = try writer.appendKeyEvent(draft, signedBy: signer, then: next)
        } catch {
            unlink(pending)
            throw error
        }
        // The key event is durable: the revealed key is now in force, the new one comes next.
        try writeSeed(next, to: currentKeyPath(of: journal))
        guard rename(pending, path) == 0 else {
            throw AccordError(.io, "Cannot move '\(pending)' to '\(path)': \(Errno(errno)); the key event is written, so the new next key is in '\(pending)': move it to '\(path)' by hand.")
        }
        try FileBytes.syncDirectory(journal.path + "/" + EventJournal.keysFolder)
        if nextKeyPath != nil { try FileBytes.syncDirectory(Self.directory(of: path)) }
        return Outcome(event: event, current: next.publicKey, nextDigest: digest, nextKeyFile: path)
    }

    /// Whether `keys/<site>.next.key.new` exists: a rotation or revocation may have been
    /// interrupted after its key event.
    static func hasPendingNextKey(_ journal: EventJournal) -> Bool { access(pendingNextPath(of: journal), F_OK) == 0 }

    /// Finishes an interrupted rotation or revocation (called by ``EventWriter`` under the writer
    /// lock when `keys/<site>.key` is not the key in force): when the key in force is the one in
    /// `keys/<site>.next.key` and `keys/<site>.next.key.new` exists, the key event was written and
    /// the files not yet moved; that key becomes `keys/<site>.key` and `.next.key.new` the next key.
    /// - Returns: the key now in `keys/<site>.key`, or nil when there was nothing to finish.
    /// - Throws: ``AccordError`` `.io`, ``SegmentError`` for a failed write.
    static func finishInterrupted(_ journal: EventJournal, inForce: SitePublicKey) throws -> SiteKey? {
        guard hasPendingNextKey(journal), let next = try? readSeed(nextKeyPath(of: journal), what: "next key"), next.publicKey == inForce else { return nil }
        try writeSeed(next, to: currentKeyPath(of: journal))
        guard rename(pendingNextPath(of: journal), nextKeyPath(of: journal)) == 0 else {
            throw AccordError(.io, "Cannot move '\(pendingNextPath(of: journal))' to '\(nextKeyPath(of: journal))': \(Errno(errno)).")
        }
        try FileBytes.syncDirectory(journal.path + "/" + EventJournal.keysFolder)
        return next
    }

    /// The directory of a file path ("." for a bare name).
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func ownHistory(_ writer: EventWriter) throws -> KeyHistory {
        guard let history = try writer.keyHistories()[writer.journal.site] else {
            throw AccordError(.notFound, "This journal has no '\(EventJournal.keysFolder)/\(writer.journal.site).pub'; its own keys are unknown.")
        }
        return history
    }

    private static func writeSeed(_ key: SiteKey, to path: String) throws {
        try FileBytes.writeAtomically(path, bytes: Array((Base64.encode(key.seed) + "\n").utf8), mode: 0o600)
    }

    private static func readSeed(_ path: String, what: String) throws -> SiteKey {
        guard let bytes = try? FileBytes.read(path, limit: EventJournal.maxKeyFileBytes),
              let seed = Base64.decode(String(decoding: bytes, as: UTF8.self).trimmingWhitespace), seed.count == 32 else {
            throw AccordError(.notFound, "The \(what) is missing or unreadable at '\(path)' (the base64 of a 32-byte seed).", field: "next-key-file")
        }
        return try SiteKey(seed: seed)
    }
}

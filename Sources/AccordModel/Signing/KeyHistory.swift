/// A site's keys over time, as its own feed's key events say (Journal/Trust.md "Keys over
/// time"; Decision 0015): which key signs the batch ending at each sequence number, which key is
/// committed to come next, and which keys were revoked from which sequence number on.
///
/// The history starts from the **anchor**: the key a journal trusts for the site
/// (`keys/<site>.pub`, Format.md §8), which signs the feed from `seq` 1. Key events, recorded in
/// `seq` order with ``record(_:)``, change it:
///
/// - `key.inception.v1` (signed by the key in force) commits to the SHA-256 of the next key;
/// - `key.rotated.v1` (signed by the key in force) reveals the committed key, which must hash to
///   the commitment, and commits to the one after; batches after it are signed by the new key;
/// - `key.revoked.v1` (signed by the committed key it reveals) does the same, and marks the key
///   it replaces compromised from `fromSeq` on (Trust.md "Revocation").
///
/// A feed without an inception event keeps its anchor for ever: it cannot rotate.
///
/// ```swift
/// var history = KeyHistory(anchor: trustedKey)
/// try history.record(rotationEvent)
/// let verdict = history.check(signedEvent)   // .valid, .revoked(…) or .invalid(reason)
/// ```
///
/// - Complexity: ``check(_:)`` and ``key(inForceAt:)`` are O(number of key events).
public struct KeyHistory: Sendable {
    /// `key.inception.v1`: adopts pre-rotation (Trust.md "Key events").
    public static let inceptionType = "key.inception.v1"
    /// `key.rotated.v1`: reveals the committed key and commits to the next.
    public static let rotationType = "key.rotated.v1"
    /// `key.revoked.v1`: like a rotation, signed by the revealed key, and marks the replaced key
    /// compromised from `fromSeq` on.
    public static let revocationType = "key.revoked.v1"
    /// The subject kind of key events: `key/<site>`.
    public static let subjectKind = "key"
    /// The most key events one feed may hold (Trust.md "Limits"): a key event is rare (a
    /// rotation a year is the expected pace), and the history is kept in memory for every feed.
    public static let maxKeyEventsPerFeed = 1024

    /// A key and the first sequence number whose batch it signs (a key event's own batch is
    /// signed by the key before it, except a revocation's, Trust.md "Verification").
    public struct Epoch: Sendable, Equatable {
        /// The first sequence number signed by ``key`` (1 for the anchor).
        public let firstSeq: SequenceNumber
        /// The key.
        public let key: SitePublicKey
    }

    /// A key marked compromised by a `key.revoked.v1` event.
    public struct Revocation: Sendable, Equatable {
        /// The revoked key.
        public let key: SitePublicKey
        /// From this sequence number on, a signature by ``key`` is not the site's word, unless the
        /// revocation event's own signature covers the event (it is an ancestor of the revocation).
        public let fromSeq: SequenceNumber
        /// The sequence number of the revocation event.
        public let atSeq: SequenceNumber
        /// The id of the revocation event.
        public let eventID: EventID
    }

    /// What ``check(_:)`` finds of a signed event.
    public enum Verdict: Sendable, Equatable {
        /// The signature verifies under the key in force at the event's place.
        case valid
        /// The signature verifies only under a key revoked for the event's place: the event is
        /// not the site's word unless a valid signature after it covers it (Trust.md "Revocation").
        case revoked(Revocation)
        /// The signature verifies under no key of the site for that place.
        case invalid(String)
    }

    /// The keys in force, in order; the first is the anchor.
    public private(set) var epochs: [Epoch]
    /// The revocations recorded, in order.
    public private(set) var revocations: [Revocation] = []
    /// The SHA-256 (lower-case hex) of the committed next key; nil before inception.
    public private(set) var nextDigest: String?
    /// The key events recorded, by sequence number.
    public private(set) var keyEvents: [SequenceNumber: EventID] = [:]
    /// The sequence number of the last key event recorded (0 when none).
    public private(set) var lastKeyEventSeq = SequenceNumber(0)

    /// The history of a feed with no key event: `anchor` signs everything.
    public init(anchor: SitePublicKey) {
        epochs = [Epoch(firstSeq: SequenceNumber(1), key: anchor)]
    }

    /// The key the journal trusts for the site (`keys/<site>.pub`).
    public var anchor: SitePublicKey { epochs[0].key }
    /// The key in force after the last key event recorded: it signs the site's next batches and
    /// its sync requests and TLS certificates (SyncProtocol.md §4.3.1, §4.4).
    public var current: SitePublicKey { epochs[epochs.count - 1].key }
    /// Whether the feed adopted pre-rotation (it holds an inception event).
    public var hasInception: Bool { nextDigest != nil }

    /// The key that signs the batch ending at `seq`, for any event but a revocation (whose batch
    /// the key it reveals signs).
    public func key(inForceAt seq: SequenceNumber) -> SitePublicKey {
        epochs.last { $0.firstSeq <= seq }?.key ?? epochs[0].key
    }

    /// Whether `event` is a key event (its type starts with `key.`).
    ///
    /// Inlinable, so that asking it of an event in an array reads the type in place: a call
    /// across modules copied the whole `Event` (retaining each of its references) for every
    /// event of a push, twice (issue 16).
    @inlinable
    public static func isKeyEvent(_ event: Event) -> Bool { event.type.rawValue.utf8.starts(with: "key.".utf8) }

    /// The SHA-256 of a public key's 32 raw bytes, lower-case hex (Trust.md "The digest rule").
    public static func digest(of key: SitePublicKey) -> String { Digest.sha256Hex(key.raw) }

    /// Checks a signed event's signature against the key in force at its place (Trust.md
    /// "Verification"). Unsigned events are covered by a later signature and not checked here.
    /// - Parameter event: a signed event of this history's site, whose key events before it
    ///   have been recorded.
    /// - Returns: ``Verdict/valid``, ``Verdict/revoked(_:)`` or ``Verdict/invalid(_:)`` (the reason).
    public func check(_ event: Event) -> Verdict {
        guard let signature = event.signature else { return .invalid("event \(event.seq) of site '\(event.site)' carries no signature") }
        if event.type.rawValue == Self.revocationType, keyEvents[event.seq] == event.id, let revealed = Self.revealedKey(of: event) {
            return revealed.verifies(signature, forBatchEndingAt: event.id) ? .valid : .invalid("the signature on the revocation at \(event.seq) of site '\(event.site)' does not verify under the key it reveals")
        }
        let key = key(inForceAt: event.seq)
        // At the revocation's own place, another event signed by the revoked key is not the
        // revocation: revoked too.
        if let revocation = revocations.first(where: { $0.key == key && event.seq >= $0.fromSeq && event.seq <= $0.atSeq }) {
            return key.verifies(signature, forBatchEndingAt: event.id) ? .revoked(revocation) : .invalid(Self.notInForce(event, key: key))
        }
        if key.verifies(signature, forBatchEndingAt: event.id) { return .valid }
        if let revocation = revocations.first(where: { event.seq >= $0.fromSeq && $0.key.verifies(signature, forBatchEndingAt: event.id) }) {
            return .revoked(revocation)
        }
        if let old = epochs.dropLast().last(where: { $0.key != key && $0.key.verifies(signature, forBatchEndingAt: event.id) }) {
            let replaced = epochs.first { $0.firstSeq > old.firstSeq }?.firstSeq ?? event.seq
            return .invalid("event \(event.seq) of site '\(event.site)' is signed by a key that the site replaced (from \(replaced) on); the key in force there is \(key.base64.prefix(12))…")
        }
        return .invalid(Self.notInForce(event, key: key))
    }

    private static func notInForce(_ event: Event, key: SitePublicKey) -> String {
        "the signature on event \(event.seq) of site '\(event.site)' does not verify under the key in force there (\(key.base64.prefix(12))…)"
    }

    /// The public key a rotation or revocation reveals, or nil when `data.key` holds none.
    public static func revealedKey(of event: Event) -> SitePublicKey? {
        guard case .string(let text)? = event.data["key"], let key = try? SitePublicKey(base64: text), key.base64 == text else { return nil }
        return key
    }

    /// Records a key event of this history's site, in `seq` order, after checking it against the
    /// rules of Trust.md "Verification": it is signed (it ends its batch); an inception comes
    /// once, before any rotation; a rotation or revocation follows an inception and reveals a key
    /// whose SHA-256 is the committed digest; a rotation or inception is signed by the key in force
    /// at its place, a revocation by the key it reveals; a revocation's `fromSeq` lies within the
    /// replaced key's time in force, at or before the revocation itself. A key event already
    /// recorded (same place, same id) is accepted again and changes nothing.
    /// - Parameter event: a key event (``isKeyEvent(_:)``) whose payload was decoded.
    /// - Throws: ``AccordError`` `.untrusted` naming the rule broken (a key event at a place where
    ///   another one is recorded, one before the last recorded, a digest that does not match, a
    ///   bad signature, too many key events).
    public mutating func record(_ event: Event) throws {
        func refuse(_ why: String) -> AccordError {
            AccordError(.untrusted, "The key event at \(event.seq) of site '\(event.site)' (\(event.id.short)…) is refused: \(why) (Trust.md \"Verification\").", field: "data")
        }
        if let known = keyEvents[event.seq] {
            guard known == event.id else { throw refuse("another key event is recorded at that place (\(known.short)…)") }
            return
        }
        guard event.seq > lastKeyEventSeq else { throw refuse("it comes before the last key event recorded (\(lastKeyEventSeq)) and is not that feed's") }
        guard keyEvents.count < Self.maxKeyEventsPerFeed else { throw refuse("the feed already holds \(Self.maxKeyEventsPerFeed) key events, the most allowed") }
        guard let signature = event.signature else { throw refuse("a key event must end its batch and carry the signature") }
        let inForce = key(inForceAt: event.seq)
        guard case .string(let next)? = event.data["next"], next.utf8.count == 64,
              next.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { throw refuse("'data.next' is not a key digest (64 lower-case hex digits)") }
        switch event.type.rawValue {
        case Self.inceptionType:
            guard nextDigest == nil else { throw refuse("the feed already adopted pre-rotation; an inception comes once") }
            guard inForce.verifies(signature, forBatchEndingAt: event.id) else { throw refuse("it is not signed by the key in force at that place") }
        case Self.rotationType, Self.revocationType:
            guard let committed = nextDigest else { throw refuse("the feed has no inception event, so no key was committed to come next: it cannot rotate or revoke") }
            guard let revealed = Self.revealedKey(of: event) else { throw refuse("'data.key' is not a public key") }
            guard Self.digest(of: revealed) == committed else {
                throw refuse("the key it reveals is not the one committed to come next (its SHA-256 differs from the digest in the key event before): whoever signed it does not hold the site's next key")
            }
            if event.type.rawValue == Self.rotationType {
                guard inForce.verifies(signature, forBatchEndingAt: event.id) else { throw refuse("a rotation must be signed by the key in force at that place") }
            } else {
                guard revealed.verifies(signature, forBatchEndingAt: event.id) else { throw refuse("a revocation must be signed by the key it reveals") }
                guard case .number(let literal)? = event.data["fromSeq"], let from = UInt64(literal), from >= 1 else { throw refuse("'data.fromSeq' is not a sequence number") }
                let fromSeq = SequenceNumber(from)
                let since = epochs[epochs.count - 1].firstSeq
                guard fromSeq >= since, fromSeq <= event.seq else {
                    throw refuse("'data.fromSeq' (\(from)) must lie between \(since), where the revoked key came into force, and the revocation's own place \(event.seq)")
                }
                revocations.append(Revocation(key: inForce, fromSeq: fromSeq, atSeq: event.seq, eventID: event.id))
            }
            epochs.append(Epoch(firstSeq: event.seq.next, key: revealed))
        default:
            throw refuse("'\(event.type)' is not a key event type this program knows")
        }
        nextDigest = next
        keyEvents[event.seq] = event.id
        lastKeyEventSeq = event.seq
    }
}

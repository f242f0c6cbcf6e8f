import Synchronization

/// One event: the envelope of DESIGN.md and its `data`, together with the exact stored bytes.
///
/// The stored record is the truth (DESIGN): ``record`` holds it byte for byte, and every other
/// property is decoded from it. Sync copies records verbatim; nothing re-encodes them.
public struct Event: Sendable {
    /// SHA-256 of the canonical bytes (Format.md §7.3).
    public let id: EventID
    /// The site whose feed this event belongs to.
    public let site: SiteID
    /// Position in the site's feed: 1, 2, 3 …
    public let seq: SequenceNumber
    /// The id of the same site's previous event; nil for `seq` 1.
    public let prev: EventID?
    /// When the site recorded the event (UTC).
    public let time: Timestamp
    /// The hybrid logical clock reading of the event.
    public let hlc: HybridTimestamp
    /// What the writing site had of the other sites' feeds when it wrote this event: for each
    /// other site, the highest contiguous sequence number (its version vector, without its own
    /// entry, which `prev` gives). Two events of different sites are concurrent when neither's
    /// `seen` covers the other (Format.md §7.1).
    public let seen: [SiteID: SequenceNumber]
    /// Versioned type, e.g. `finance.committed.v1`.
    public let type: EventType
    /// What the event is about, e.g. `funding/eib-kz-h2-2024`.
    public let subject: Subject
    /// Who recorded it: an office or role, e.g. `eu-secretariat`.
    public let actor: String
    /// The payload, as checked against the catalogue when it was appended.
    ///
    /// A decoded event's payload is checked in full when the record is decoded, but its tree is
    /// built only when this is first read (then kept): replay, sync and the heads cache never
    /// read it (Decision 0021).
    public var data: JSONObject { payload.object }
    private let payload: EventPayload
    /// The Ed25519 signature carried by the last event of each appended batch (64 bytes); it
    /// covers this event and, through `prev`, every earlier event of the site (Format.md §7.4).
    public let signature: [UInt8]?
    /// The stored record: one line of the journal, without its newline.
    public let record: [UInt8]

    /// An event from its decoded parts; `record` must be the stored bytes they were decoded from
    /// (or, for the writer, the bytes it is about to store).
    package init(
        id: EventID, site: SiteID, seq: SequenceNumber, prev: EventID?, time: Timestamp, hlc: HybridTimestamp,
        seen: [SiteID: SequenceNumber], type: EventType, subject: Subject, actor: String, data: JSONObject,
        signature: [UInt8]?, record: [UInt8]
    ) {
        self.id = id
        self.site = site
        self.seq = seq
        self.prev = prev
        self.time = time
        self.hlc = hlc
        self.seen = seen
        self.type = type
        self.subject = subject
        self.actor = actor
        self.payload = .built(data)
        self.signature = signature
        self.record = record
    }

    /// An event decoded from `record`, whose `data` object (already checked to be canonical)
    /// starts with its `{` at byte `dataOffset` and is built on first use.
    init(
        id: EventID, site: SiteID, seq: SequenceNumber, prev: EventID?, time: Timestamp, hlc: HybridTimestamp,
        seen: [SiteID: SequenceNumber], type: EventType, subject: Subject, actor: String, dataOffset: Int,
        signature: [UInt8]?, record: [UInt8]
    ) {
        self.id = id
        self.site = site
        self.seq = seq
        self.prev = prev
        self.time = time
        self.hlc = hlc
        self.seen = seen
        self.type = type
        self.subject = subject
        self.actor = actor
        self.payload = .deferred(DeferredEventData(record: record, offset: dataOffset))
        self.signature = signature
        self.record = record
    }

    /// Whether `data` has been built (tests: decoding alone must not build it).
    package var isDataBuilt: Bool {
        switch payload {
        case .built: true
        case .deferred(let deferred): deferred.isBuilt
        }
    }

    /// Whether this event's writer had seen `other` when it wrote this one (its own feed's earlier
    /// events, or another site's events up to `seen`).
    public func hasSeen(_ other: Event) -> Bool {
        if other.site == site { return other.seq < seq }
        return (seen[other.site]?.rawValue ?? 0) >= other.seq.rawValue
    }

    /// Whether neither event's writer had seen the other: concurrent changes.
    public func isConcurrent(with other: Event) -> Bool {
        other.id != id && !hasSeen(other) && !other.hasSeen(self)
    }
}

/// Actor names: lower-case slugs, optionally joined by `/` or `.` (`eu-secretariat`,
/// `astana/kz-secretariat`), at most 128 bytes.
public enum ActorName {
    /// The longest actor name, in bytes (Format.md §7.1, `MAX_ACTOR`).
    public static let maxLength = 128

    /// True when `text` is an actor name: 1 to ``maxLength`` bytes of slugs joined by `/` or `.`.
    public static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= maxLength else { return false }
        // Parts separated by '/' or '.', each a slug (``Slug``): one pass over the bytes.
        var length = 0
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case 0x2F, 0x2E:
                guard length > 0, previous != 0x2D else { return false }
                length = 0
                previous = 0
                continue
            case 0x61...0x7A, 0x30...0x39: break
            case 0x2D: guard length > 0, previous != 0x2D else { return false }
            default: return false
            }
            length += 1
            previous = byte
            if length > Slug.maxLength { return false }
        }
        return length > 0 && previous != 0x2D
    }
}

/// An event's `data`: built (a writer's draft, the reference decoder), or deferred until read.
private enum EventPayload: Sendable {
    case built(JSONObject)
    case deferred(DeferredEventData)

    var object: JSONObject {
        switch self {
        case .built(let object): object
        case .deferred(let deferred): deferred.object
        }
    }
}

/// The `data` of a decoded record, built from the record's bytes on first use and kept. The
/// record was checked in full when it was decoded (the same checks as building it), so
/// building cannot fail; should it ever, the reference decoder builds it instead.
private final class DeferredEventData: Sendable {
    private let record: [UInt8]
    private let offset: Int
    private let built = Mutex<JSONObject?>(nil)

    init(record: [UInt8], offset: Int) {
        self.record = record
        self.offset = offset
    }

    var isBuilt: Bool { built.withLock { $0 != nil } }

    var object: JSONObject {
        built.withLock { cached in
            if let cached { return cached }
            let object = CanonicalRecordDecoder.data(of: record, at: offset)
                ?? (try? EventRecord.decodeByReencoding(record))?.data ?? JSONObject()
            cached = object
            return object
        }
    }
}

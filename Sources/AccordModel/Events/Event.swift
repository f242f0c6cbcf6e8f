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
    public let data: JSONObject
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
        self.data = data
        self.signature = signature
        self.record = record
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

import AccordModel
import AccordSegments
import AccordStore

/// What a journal holds (SyncProtocol.md §2): for each site, the highest contiguous sequence
/// number and that event's id.
///
/// Its `Codable` form (in `peers/<site>.json`) is `{"entries":{"<site>":{"id":"…","seq":N},…}}`;
/// its wire form is ``json()``.
public struct VersionVector: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What is held of one site's feed: its highest contiguous event.
    public struct Entry: Sendable, Equatable, Codable {
        /// The sequence number of that event.
        public var seq: SequenceNumber
        /// That event's id.
        public var id: EventID

        /// An entry for the event `id` at `seq`.
        public init(seq: SequenceNumber, id: EventID) {
            self.seq = seq
            self.id = id
        }

        private enum CodingKeys: String, CodingKey {
            case seq, id
        }

        /// Decodes `{"id":"…","seq":N}`.
        /// - Throws: `DecodingError` when the id is not 64 lower-case hex digits.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            seq = SequenceNumber(try container.decode(UInt64.self, forKey: .seq))
            let hex = try container.decode(String.self, forKey: .id)
            guard let id = try? EventID(hex: hex) else {
                throw DecodingError.dataCorruptedError(forKey: .id, in: container, debugDescription: "not an event id")
            }
            self.id = id
        }

        /// Encodes `{"id":"…","seq":N}`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(seq.rawValue, forKey: .seq)
            try container.encode(id.hex, forKey: .id)
        }
    }

    /// Entries by site.
    public var entries: [SiteID: Entry]

    /// A vector of `entries` (empty: nothing held).
    public init(entries: [SiteID: Entry] = [:]) { self.entries = entries }

    /// The vector of a writer's heads.
    public init(heads: [SiteID: (seq: SequenceNumber, id: EventID)]) {
        entries = heads.mapValues { Entry(seq: $0.seq, id: $0.id) }
    }

    /// The highest sequence number held for `site` (0 for none).
    public func seq(_ site: SiteID) -> SequenceNumber { entries[site]?.seq ?? SequenceNumber(0) }

    /// Whether this vector holds at least everything `other` holds.
    public func covers(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { seq($0.key) >= $0.value.seq }
    }

    /// "astana 3, brussels 21".
    public var description: String {
        entries.isEmpty ? "nothing" : entries.keys.sorted().map { "\($0) \(entries[$0]!.seq)" }.joined(separator: ", ")
    }

    /// Canonical JSON `{"site":{"id":"…","seq":N},…}` (SyncProtocol.md §2).
    public func json() -> JSONValue {
        .object(JSONObject(entries.keys.sorted().map { site in
            let entry = entries[site]!
            return (site.rawValue, .object(JSONObject([("id", .string(entry.id.hex)), ("seq", .number(String(entry.seq.rawValue)))])))
        }))
    }

    /// Parses ``json()``'s form.
    /// - Parameter field: the field's name, for the error message.
    /// - Throws: ``AccordError`` `.badInput` naming the field.
    public init(json value: JSONValue, field: String = "vector") throws {
        guard case .object(let object) = value else {
            throw AccordError(.badInput, "Field '\(field)' must be an object of sites.", field: field)
        }
        entries = [:]
        for member in object.members {
            let site = try SiteID(member.key)
            guard case .object(let entry) = member.value, case .number(let literal)? = entry["seq"],
                  CanonicalJSON.isCanonicalInteger(literal), let seq = UInt64(literal),
                  let hex = entry["id"]?.stringValue, let id = try? EventID(hex: hex)
            else {
                throw AccordError(.badInput, "Field '\(field).\(member.key.prefix(64))' must be {\"seq\": N, \"id\": \"64 hex digits\"}.", field: "\(field).\(member.key)")
            }
            entries[site] = Entry(seq: SequenceNumber(seq), id: id)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case entries
    }

    /// Decodes `{"entries":{"<site>":{"id":"…","seq":N},…}}`.
    /// - Throws: `DecodingError` when a site is not a slug or an id not an event id.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let bySite = try container.decode([String: Entry].self, forKey: .entries)
        entries = [:]
        for (name, entry) in bySite {
            guard let site = try? SiteID(name) else {
                throw DecodingError.dataCorruptedError(forKey: .entries, in: container, debugDescription: "'\(name.prefix(64))' is not a site name")
            }
            entries[site] = entry
        }
    }

    /// Encodes `{"entries":{"<site>":{"id":"…","seq":N},…}}`, keyed by site name as before.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Dictionary(uniqueKeysWithValues: entries.map { ($0.key.rawValue, $0.value) }), forKey: .entries)
    }
}

extension EventJournal {
    /// The journal's version vector, from the heads cache and the events after it.
    /// - Throws: ``SegmentError`` for a failed read; ``AccordError`` `.badInput` for a cache
    ///   entry whose site or id is not valid.
    /// - Complexity: O(events after the cache), O(journal) without one.
    public func versionVector() throws -> VersionVector {
        var vector = VersionVector()
        for (site, feed) in try HeadsCache.current(self).feeds {
            vector.entries[site] = .init(seq: feed.seq, id: feed.id)
        }
        return vector
    }

    /// Where to start reading to find what a journal with `vector` lacks (a checkpoint of the
    /// heads cache before it; the start without a cache).
    public func deltaStart(lacking vector: VersionVector) -> SegmentPosition {
        guard let cache = try? HeadsCache.current(self) else { return .start }
        return cache.start(lacking: vector.entries.mapValues(\.seq))
    }

    /// The records this journal holds that a journal with `vector` lacks, per site in sequence
    /// order (sites in name order), ready for ``SyncSession/apply(_:)`` — starting with the
    /// receiver's own last event of each feed, which lets it detect a fork.
    /// - Throws: ``SegmentError`` for a failed read.
    /// - Complexity: O(events after the nearest checkpoint before the delta); memory O(delta).
    public func records(lacking vector: VersionVector) throws -> [[UInt8]] {
        var bySite: [SiteID: [[UInt8]]] = [:]
        var events = try events(from: deltaStart(lacking: vector))
        while let event = try events.next() {
            // From the receiver's own last event on: that one overlaps, so that the receiver can
            // compare ids and find a fork (SyncProtocol.md §3.1).
            guard event.seq >= max(vector.seq(event.site), SequenceNumber(1)) else { continue }
            bySite[event.site, default: []].append(event.record)
        }
        return bySite.keys.sorted().flatMap { bySite[$0]! }
    }
}

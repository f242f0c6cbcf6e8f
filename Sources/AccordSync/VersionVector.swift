import AccordModel
import AccordSegments
import AccordStore

/// What a journal holds (SyncProtocol.md §2): for each site, the highest contiguous sequence
/// number and that event's id.
public struct VersionVector: Sendable, Equatable, Codable, CustomStringConvertible {
    public struct Entry: Sendable, Equatable, Codable {
        public var seq: UInt64
        public var id: String
        public init(seq: UInt64, id: String) {
            self.seq = seq
            self.id = id
        }
    }

    /// Entries by site name.
    public var entries: [String: Entry]

    public init(entries: [String: Entry] = [:]) { self.entries = entries }

    /// The vector of a writer's heads.
    public init(heads: [SiteID: (seq: SequenceNumber, id: EventID)]) {
        entries = [:]
        for (site, head) in heads { entries[site.rawValue] = Entry(seq: head.seq.rawValue, id: head.id.hex) }
    }

    /// The highest sequence number held for `site` (0 for none).
    public func seq(_ site: String) -> UInt64 { entries[site]?.seq ?? 0 }

    /// Whether this vector holds at least everything `other` holds.
    public func covers(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { seq($0.key) >= $0.value.seq }
    }

    /// "astana 3, brussels 21".
    public var description: String {
        entries.isEmpty ? "nothing" : entries.keys.sorted().map { "\($0) \(entries[$0]!.seq)" }.joined(separator: ", ")
    }

    /// Canonical JSON `{"site":{"id":"…","seq":N},…}`.
    public func json() -> JSONValue {
        .object(JSONObject(entries.keys.sorted().map { site in
            (site, .object(JSONObject([("id", .string(entries[site]!.id)), ("seq", .number(String(entries[site]!.seq)))])))
        }))
    }

    /// Parses ``json()``'s form.
    /// - Throws: ``AccordError`` `.badInput` naming the field.
    public init(json value: JSONValue, field: String = "vector") throws {
        guard case .object(let object) = value else {
            throw AccordError(.badInput, "Field '\(field)' must be an object of sites.", field: field)
        }
        entries = [:]
        for member in object.members {
            _ = try SiteID(member.key)
            guard case .object(let entry) = member.value, case .number(let literal)? = entry["seq"],
                  CanonicalJSON.isCanonicalInteger(literal), let seq = UInt64(literal),
                  let id = entry["id"]?.stringValue, (try? EventID(hex: id)) != nil
            else {
                throw AccordError(.badInput, "Field '\(field).\(member.key.prefix(64))' must be {\"seq\": N, \"id\": \"64 hex digits\"}.", field: "\(field).\(member.key)")
            }
            entries[member.key] = Entry(seq: seq, id: id)
        }
    }
}

extension EventJournal {
    /// The journal's version vector, from the heads cache and the events after it.
    /// - Complexity: O(events after the cache), O(journal) without one.
    public func versionVector() throws -> VersionVector {
        var vector = VersionVector()
        for (site, feed) in try HeadsCache.current(self).feeds {
            vector.entries[site.rawValue] = .init(seq: feed.seq.rawValue, id: feed.id.hex)
        }
        return vector
    }

    /// Where to start reading to find what a journal with `vector` lacks (a checkpoint of the
    /// heads cache before it; the start without a cache).
    public func deltaStart(lacking vector: VersionVector) -> SegmentPosition {
        guard let cache = try? HeadsCache.current(self) else { return .start }
        var lacking: [SiteID: SequenceNumber] = [:]
        for (site, entry) in vector.entries { if let site = try? SiteID(site) { lacking[site] = SequenceNumber(entry.seq) } }
        return cache.start(lacking: lacking)
    }

    /// The records this journal holds that a journal with `vector` lacks, per site in sequence
    /// order (sites in name order), ready for ``SyncSession/apply(_:)`` — starting with the
    /// receiver's own last event of each feed, which lets it detect a fork.
    /// - Complexity: O(events after the nearest checkpoint before the delta); memory O(delta).
    public func records(lacking vector: VersionVector) throws -> [[UInt8]] {
        var bySite: [String: [[UInt8]]] = [:]
        var events = try events(from: deltaStart(lacking: vector))
        while let event = try events.next() {
            // From the receiver's own last event on: that one overlaps, so that the receiver can
            // compare ids and find a fork (SyncProtocol.md §3.1).
            guard event.seq.rawValue >= max(vector.seq(event.site.rawValue), 1) else { continue }
            bySite[event.site.rawValue, default: []].append(event.record)
        }
        return bySite.keys.sorted().flatMap { bySite[$0]! }
    }
}

import AccordModel
import AccordSegments

/// The cache's JSON object (Format.md §1, `cache/heads.json`) through `Codable`, in the form
/// ``HeadsCache/jsonBytes()`` writes: identifiers as their texts (a site's name, an id's 64
/// hex digits), sequence numbers as numbers. A site name or id that is not valid fails the
/// decoding, and the cache is not used.
extension HeadsCache {
    private enum CodingKeys: String, CodingKey {
        case end, lastBatch, lastID, events, clockMilliseconds, clockCounter, feeds, keyBatches
    }

    /// Decodes the cache's JSON object.
    /// - Throws: `DecodingError` for a missing field or a wrong type; ``AccordError``
    ///   `.badInput` for a site name or id that is not valid.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        end = try container.decode(SegmentPosition.self, forKey: .end)
        lastBatch = try container.decodeIfPresent(SegmentPosition.self, forKey: .lastBatch)
        lastID = try container.decodeIfPresent(String.self, forKey: .lastID).map { try EventID(hex: $0) }
        events = try container.decode(Int.self, forKey: .events)
        clockMilliseconds = try container.decode(Int64.self, forKey: .clockMilliseconds)
        clockCounter = try container.decode(UInt32.self, forKey: .clockCounter)
        var feeds: [SiteID: Feed] = [:]
        for (site, feed) in try container.decode([String: Feed].self, forKey: .feeds) {
            feeds[try SiteID(site)] = feed
        }
        self.feeds = feeds
        keyBatches = try container.decodeIfPresent([SegmentPosition].self, forKey: .keyBatches)
    }

    /// Encodes the cache's JSON object (the file itself is written by ``jsonBytes()``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(end, forKey: .end)
        try container.encodeIfPresent(lastBatch, forKey: .lastBatch)
        try container.encodeIfPresent(lastID?.hex, forKey: .lastID)
        try container.encode(events, forKey: .events)
        try container.encode(clockMilliseconds, forKey: .clockMilliseconds)
        try container.encode(clockCounter, forKey: .clockCounter)
        try container.encode(Dictionary(uniqueKeysWithValues: feeds.map { ($0.key.rawValue, $0.value) }), forKey: .feeds)
        try container.encodeIfPresent(keyBatches, forKey: .keyBatches)
    }
}

extension HeadsCache.Feed: Codable {
    private enum CodingKeys: String, CodingKey {
        case seq, id, checkpoints
    }

    /// Decodes `{"seq":…,"id":…,"checkpoints":[…]}`.
    /// - Throws: `DecodingError`; ``AccordError`` `.badInput` for an id that is not valid.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = SequenceNumber(try container.decode(UInt64.self, forKey: .seq))
        id = try EventID(hex: try container.decode(String.self, forKey: .id))
        checkpoints = try container.decode([HeadsCache.Checkpoint].self, forKey: .checkpoints)
    }

    /// Encodes `{"seq":…,"id":…,"checkpoints":[…]}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq.rawValue, forKey: .seq)
        try container.encode(id.hex, forKey: .id)
        try container.encode(checkpoints, forKey: .checkpoints)
    }
}

extension HeadsCache.Checkpoint: Codable {
    private enum CodingKeys: String, CodingKey {
        case seq, batch
    }

    /// Decodes `{"seq":…,"batch":{"segment":…,"offset":…}}`.
    /// - Throws: `DecodingError`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = SequenceNumber(try container.decode(UInt64.self, forKey: .seq))
        batch = try container.decode(SegmentPosition.self, forKey: .batch)
    }

    /// Encodes `{"seq":…,"batch":{"segment":…,"offset":…}}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq.rawValue, forKey: .seq)
        try container.encode(batch, forKey: .batch)
    }
}

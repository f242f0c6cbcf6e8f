import AccordModel
import AccordSegments
import Foundation

/// The cache's file, `cache/heads.json` (Format.md §1): where it is, its bytes, reading it.
extension HeadsCache {
    static func path(_ journal: EventJournal) -> String { journal.path + "/" + folder + "/" + fileName }

    /// Reads the cache file without checking it against the journal (nil if absent or garbled).
    public static func loadUnchecked(_ journal: EventJournal) -> HeadsCache? {
        guard let bytes = try? FileBytes.read(path(journal), limit: 64 << 20) else { return nil }
        return decode(file: bytes)
    }

    /// Reads the cache and checks that the journal still ends where it says.
    /// - Returns: nil when there is no usable cache.
    public static func load(_ journal: EventJournal) -> HeadsCache? {
        guard let cache = loadUnchecked(journal) else { return nil }
        return cache.matches(journal) ? cache : nil
    }

    /// The form of the cache file this program writes (Format.md §1): 3, form 2 with
    /// `keyBatches`. Form 2 is read, with the key batches unknown; form 1 is one JSON object
    /// and nothing else.
    public static let fileVersion = 3

    /// The second line's start in form 3: `v3 sha256:`, then 64 hex digits.
    static let checksumPrefix = Array("v\(fileVersion) sha256:".utf8)
    /// The second line's start in form 2, still read.
    static let formerChecksumPrefix = Array("v2 sha256:".utf8)

    /// The cache in a file's bytes (Format.md §1, `cache/heads.json`). Forms 3 and 2: the JSON
    /// object on the first line, then `v3 sha256:` (or `v2 sha256:`) and the 64 hex digits of
    /// that line's SHA-256, then padding (spaces and newlines). Form 1, one JSON object and
    /// nothing else (written only by renaming a complete file into place), is read as it is.
    /// Only form 3 says where the key events lie (``keyBatches``); in a cache of form 1 or 2
    /// they are unknown (nil), whatever its JSON holds.
    /// - Returns: nil when the checksum does not match (a torn or concurrent write), the second
    ///   line names another form (a newer program's), or the JSON does not decode.
    public static func decode(file bytes: [UInt8]) -> HeadsCache? {
        guard let newline = bytes.firstIndex(of: 0x0a) else {
            var cache = try? JSONDecoder().decode(HeadsCache.self, from: Data(bytes))
            cache?.keyBatches = nil
            return cache
        }
        let json = Array(bytes[..<newline])
        let rest = bytes[(newline + 1)...]
        let current = rest.starts(with: checksumPrefix)
        guard current || rest.starts(with: formerChecksumPrefix) else { return nil }
        let checksum = (current ? checksumPrefix : formerChecksumPrefix) + Array(Digest.sha256Hex(json).utf8)
        guard rest.starts(with: checksum),
              rest.dropFirst(checksum.count).allSatisfy({ $0 == 0x20 || $0 == 0x0a })
        else { return nil }
        var cache = try? JSONDecoder().decode(HeadsCache.self, from: Data(json))
        if !current { cache?.keyBatches = nil }
        return cache
    }

    /// Whether the journal still has, at ``lastBatch``, a batch ending at ``end`` whose last
    /// event is ``lastID`` (or is empty, for an empty cache).
    ///
    /// A yes is remembered for the rest of the process (``VerifiedLastBatch``) with the state of
    /// the segment file: while the file is as it was, the batch is not read again. Checking
    /// meant inflating the whole last batch at every open of the journal — three or four times
    /// in one `accord sync`, and after every push in `accord serve`, 40 ms each for a batch of
    /// 30,000 events (issue 16). The batch read is offered to the journal's next reader of it
    /// (``BatchHandoff``).
    func matches(_ journal: EventJournal) -> Bool {
        guard let lastBatch, let lastID else { return end == .start }
        let remembered = VerifiedLastBatch(journal, lastBatch: lastBatch, end: end, lastID: lastID)
        if remembered.isKnown { return true }
        guard var batches = try? journal.directory.batches(from: lastBatch), let batch = try? batches.next(),
              batch.end == end, let record = batch.records.last, let event = try? EventRecord.decode(record),
              event.id == lastID else { return false }
        remembered.note()
        // A reader of this journal that reads from before the last batch (a push, a bundle)
        // takes it instead of inflating it again, while the file is unchanged.
        if let state = remembered.state { journal.directory.handoff.offer(batch, segment: lastBatch.segment, state: state) }
        return true
    }

    /// The cache as JSON, in the shape its `Codable` conformance reads: written by hand, since
    /// Foundation's `JSONEncoder` took as long as the rest of a single-event append together.
    func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + feeds.count * 160)
        // Not generic: a generic helper here ran through witness tables and type metadata on
        // every save (a tenth of an append's catalogue-free CPU).
        func number(_ value: Int64) {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            CanonicalJSON.appendDecimal(value.magnitude, to: &out)
        }
        func number(_ value: UInt64) { CanonicalJSON.appendDecimal(value, to: &out) }
        func number(_ value: Int) { number(Int64(value)) }
        func number(_ value: UInt32) { CanonicalJSON.appendDecimal(UInt64(value), to: &out) }
        func id(_ value: EventID) {
            out.append(UInt8(ascii: "\""))
            value.appendHex(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        func position(_ value: SegmentPosition) {
            CanonicalJSON.appendASCII("{\"segment\":", to: &out)
            number(value.segment)
            CanonicalJSON.appendASCII(",\"offset\":", to: &out)
            number(value.offset)
            out.append(UInt8(ascii: "}"))
        }
        CanonicalJSON.appendASCII("{\"end\":", to: &out)
        position(end)
        if let lastBatch {
            CanonicalJSON.appendASCII(",\"lastBatch\":", to: &out)
            position(lastBatch)
        }
        if let lastID {
            CanonicalJSON.appendASCII(",\"lastID\":", to: &out)
            id(lastID)
        }
        CanonicalJSON.appendASCII(",\"events\":", to: &out)
        number(events)
        CanonicalJSON.appendASCII(",\"clockMilliseconds\":", to: &out)
        number(clockMilliseconds)
        CanonicalJSON.appendASCII(",\"clockCounter\":", to: &out)
        number(clockCounter)
        CanonicalJSON.appendASCII(",\"feeds\":{", to: &out)
        // Site names are slugs (ASCII), so SiteID's byte order is the order of their texts.
        for (index, site) in feeds.keys.sorted().enumerated() {
            guard let feed = feeds[site] else { continue }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(site.rawValue, to: &out)
            CanonicalJSON.appendASCII(":{\"seq\":", to: &out)
            number(feed.seq.rawValue)
            CanonicalJSON.appendASCII(",\"id\":", to: &out)
            id(feed.id)
            CanonicalJSON.appendASCII(",\"checkpoints\":[", to: &out)
            for (position_, checkpoint) in feed.checkpoints.enumerated() {
                if position_ > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendASCII("{\"seq\":", to: &out)
                number(checkpoint.seq.rawValue)
                CanonicalJSON.appendASCII(",\"batch\":", to: &out)
                position(checkpoint.batch)
                out.append(UInt8(ascii: "}"))
            }
            CanonicalJSON.appendASCII("]}", to: &out)
        }
        CanonicalJSON.appendASCII("}", to: &out)
        if let keyBatches {
            CanonicalJSON.appendASCII(",\"keyBatches\":[", to: &out)
            for (index, batch) in keyBatches.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                position(batch)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

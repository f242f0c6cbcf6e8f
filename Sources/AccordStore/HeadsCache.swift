import AccordModel
import AccordSegments
import Foundation

/// A derived cache of what a journal holds (Format.md §1, `cache/heads.json`): each feed's last
/// event, the clock, the event count, and sparse checkpoints saying from which batch on each
/// feed's later events lie. It lets a writer open, and a sync find a delta, without replaying
/// the whole journal.
///
/// It is never the truth: it is used only if the journal still ends where the cache says and the
/// last batch there still ends with the recorded event id; otherwise (a cut tail, an edited
/// journal, a garbled file) the journal is replayed from the last point the cache still
/// matches, or from the start. Writing it is not synced to disk: a stale cache is only slower.
public struct HeadsCache: Codable, Sendable, Equatable {
    public static let folder = "cache"
    public static let fileName = "heads.json"
    /// A checkpoint is added for a feed every this many of its events.
    public static let checkpointEvery: UInt64 = 5_000

    /// One position in one feed.
    public struct Checkpoint: Codable, Sendable, Equatable {
        /// A sequence number of the feed …
        public var seq: UInt64
        /// … and the batch that holds it: every later event of the feed is at or after it.
        public var batch: SegmentPosition
    }

    public struct Feed: Codable, Sendable, Equatable {
        public var seq: UInt64
        public var id: String
        public var checkpoints: [Checkpoint]
    }

    /// The journal's end when the cache was written.
    public var end: SegmentPosition
    /// The last batch and its last event's id, to check that the journal is still the same.
    public var lastBatch: SegmentPosition?
    public var lastID: String?
    public var events: Int
    public var clockMilliseconds: Int64
    public var clockCounter: UInt32
    public var feeds: [String: Feed]

    static func empty() -> HeadsCache {
        HeadsCache(end: .start, lastBatch: nil, lastID: nil, events: 0, clockMilliseconds: 0, clockCounter: 0, feeds: [:])
    }

    /// Folds one batch's events into the cache.
    mutating func add(batch: SegmentPosition, end: SegmentPosition, events: [Event]) {
        var clock = HybridTimestamp(milliseconds: clockMilliseconds, counter: clockCounter)
        var index = 0
        // A run of one site's events (a batch is usually one run) updates its feed once.
        while index < events.count {
            let site = events[index].site
            var feed = feeds.removeValue(forKey: site.rawValue) ?? Feed(seq: 0, id: "", checkpoints: [])
            var last = events[index]
            while index < events.count, events[index].site == site {
                let event = events[index]
                if feed.checkpoints.last.map({ event.seq.rawValue >= $0.seq + Self.checkpointEvery }) ?? true {
                    feed.checkpoints.append(Checkpoint(seq: event.seq.rawValue, batch: batch))
                }
                if event.hlc > clock { clock = event.hlc }
                last = event
                index += 1
            }
            feed.seq = last.seq.rawValue
            feed.id = last.id.hex
            feeds[site.rawValue] = feed
        }
        clockMilliseconds = clock.milliseconds
        clockCounter = clock.counter
        self.events += events.count
        self.end = end
        if let last = events.last {
            lastBatch = batch
            lastID = last.id.hex
        }
    }

    /// Where to start reading to find every event of `site` after `seq`.
    public func start(for site: String, after seq: UInt64) -> SegmentPosition {
        feeds[site]?.checkpoints.last { $0.seq <= seq + 1 }?.batch ?? .start
    }

    /// Where to start reading to find everything a journal holding `vector` lacks, and the
    /// receiver's own last event of each feed.
    public func start(lacking vector: [String: UInt64]) -> SegmentPosition {
        var start: SegmentPosition?
        for (site, feed) in feeds where feed.seq >= vector[site] ?? 0 {
            // From the receiver's last event on (it overlaps, to detect a fork).
            let position = self.start(for: site, after: max(vector[site] ?? 0, 1) - 1)
            start = start.map { min($0, position) } ?? position
        }
        return start ?? end
    }

    /// The cache brought up to the journal's current end: loaded if it still matches, then the
    /// events after it folded in (usually none). Reads no lock.
    /// - Complexity: O(events after the cache), O(journal) without a cache.
    public static func current(_ journal: EventJournal) throws -> HeadsCache {
        var cache = load(journal) ?? .empty()
        var events = try journal.events(from: cache.end)
        var batch: [Event] = []
        while let event = try events.next() {
            batch.append(event)
            if events.isLastOfBatch, let start = events.batchPosition {
                cache.add(batch: start, end: events.nextPosition, events: batch)
                batch = []
            }
        }
        return cache
    }

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

    /// The form of the cache file this program writes (Format.md §1): 2. Form 1 is one JSON
    /// object and nothing else.
    public static let fileVersion = 2

    /// The second line's start in form 2: `v2 sha256:`, then 64 hex digits.
    static let checksumPrefix = Array("v\(fileVersion) sha256:".utf8)

    /// The cache in a file's bytes (Format.md §1, `cache/heads.json`). Form 2: the JSON object
    /// on the first line, then `v2 sha256:` and the 64 hex digits of that line's SHA-256, then
    /// padding (spaces and newlines). Form 1, one JSON object and nothing else (written only by
    /// renaming a complete file into place), is read as it is.
    /// - Returns: nil when the checksum does not match (a torn or concurrent write), the second
    ///   line names another form (a newer program's), or the JSON does not decode.
    public static func decode(file bytes: [UInt8]) -> HeadsCache? {
        guard let newline = bytes.firstIndex(of: 0x0a) else {
            return try? JSONDecoder().decode(HeadsCache.self, from: Data(bytes))
        }
        let json = Array(bytes[..<newline])
        let checksum = checksumPrefix + Array(Digest.sha256Hex(json).utf8)
        let rest = bytes[(newline + 1)...]
        guard rest.starts(with: checksum),
              rest.dropFirst(checksum.count).allSatisfy({ $0 == 0x20 || $0 == 0x0a })
        else { return nil }
        return try? JSONDecoder().decode(HeadsCache.self, from: Data(json))
    }

    /// Whether the journal still has, at ``lastBatch``, a batch ending at ``end`` whose last
    /// event is ``lastID`` (or is empty, for an empty cache).
    func matches(_ journal: EventJournal) -> Bool {
        guard let lastBatch, let lastID else { return end == .start }
        guard var batches = try? journal.directory.batches(from: lastBatch), let batch = try? batches.next(),
              batch.end == end, let record = batch.records.last, let event = try? EventRecord.decode(record) else { return false }
        return event.id.hex == lastID
    }

    /// The cache as JSON, in the shape its `Codable` conformance reads: written by hand, since
    /// Foundation's `JSONEncoder` took as long as the rest of a single-event append together.
    func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + feeds.count * 160)
        func number<N: BinaryInteger>(_ value: N) {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            CanonicalJSON.appendDecimal(UInt64(value.magnitude), to: &out)
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
            CanonicalJSON.appendString(lastID, to: &out)
        }
        CanonicalJSON.appendASCII(",\"events\":", to: &out)
        number(events)
        CanonicalJSON.appendASCII(",\"clockMilliseconds\":", to: &out)
        number(clockMilliseconds)
        CanonicalJSON.appendASCII(",\"clockCounter\":", to: &out)
        number(clockCounter)
        CanonicalJSON.appendASCII(",\"feeds\":{", to: &out)
        for (index, site) in feeds.keys.sorted().enumerated() {
            guard let feed = feeds[site] else { continue }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(site, to: &out)
            CanonicalJSON.appendASCII(":{\"seq\":", to: &out)
            number(feed.seq)
            CanonicalJSON.appendASCII(",\"id\":", to: &out)
            CanonicalJSON.appendString(feed.id, to: &out)
            CanonicalJSON.appendASCII(",\"checkpoints\":[", to: &out)
            for (position_, checkpoint) in feed.checkpoints.enumerated() {
                if position_ > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendASCII("{\"seq\":", to: &out)
                number(checkpoint.seq)
                CanonicalJSON.appendASCII(",\"batch\":", to: &out)
                position(checkpoint.batch)
                out.append(UInt8(ascii: "}"))
            }
            CanonicalJSON.appendASCII("]}", to: &out)
        }
        CanonicalJSON.appendASCII("}}", to: &out)
        return out
    }

}

/// The writer's `cache/heads.json`, kept open and rewritten in place after every append.
///
/// The first save writes a new file and renames it into place (so a file of the earlier form is
/// never partly overwritten); later saves are one `pwrite` at offset 0 of the JSON line and its
/// checksum line, padded with spaces to the longest content written so far, so the file never
/// shrinks and no stale bytes outlive a save. Nothing is synced: a stale or lost cache costs only
/// a replay. A reader that catches a save half done, or a crash that tore one, sees a checksum
/// that does not match, and replays.
final class HeadsCacheFile {
    private let journal: EventJournal
    private var fd: Int32 = -1
    /// The file's length: the longest content written to it.
    private var length = 0

    init(journal: EventJournal) {
        self.journal = journal
    }

    deinit { closeFile() }

    func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// The bytes of a file holding `cache`, padded to at least `minimum` bytes.
    static func fileBytes(_ cache: HeadsCache, minimum: Int = 0) -> [UInt8] {
        var out = cache.jsonBytes()
        let digest = Digest.sha256Hex(out)
        out.append(0x0a)
        out.append(contentsOf: HeadsCache.checksumPrefix)
        out.append(contentsOf: digest.utf8)
        out.append(0x0a)
        if out.count < minimum { out.append(contentsOf: repeatElement(0x20, count: minimum - out.count)) }
        return out
    }

    /// Writes `cache` (not synced). Failures are ignored: the cache is only a shortcut.
    func save(_ cache: HeadsCache) {
        if fd >= 0 {
            let bytes = Self.fileBytes(cache, minimum: length)
            if writeAll(fd, bytes, at: 0) {
                length = bytes.count
                return
            }
            closeFile()
        }
        let folder = journal.path + "/" + HeadsCache.folder
        mkdir(folder, 0o755)
        let bytes = Self.fileBytes(cache)
        let path = HeadsCache.path(journal)
        let temporary = path + ".tmp-\(getpid())"
        let created = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard created >= 0 else { return }
        guard writeAll(created, bytes, at: 0) else {
            close(created)
            unlink(temporary)
            return
        }
        // Unlink, then rename onto the free name: ext4 (auto_da_alloc) starts writing a file's
        // data back at once when it is renamed over an existing file, which made every append
        // pay a second disk write. In between there is briefly no cache: readers replay
        // instead (slower, never wrong), and a writer never looks then (it holds the lock).
        unlink(path)
        guard rename(temporary, path) == 0 else {
            close(created)
            unlink(temporary)
            return
        }
        fd = created
        length = bytes.count
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let wrote = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if wrote < 0, errno == EINTR { continue }
                if wrote <= 0 { return false }
                done += wrote
            }
            return true
        }
    }
}

import AccordModel
import AccordSegments

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
    /// The folder of the cache file, in the journal directory.
    public static let folder = "cache"
    /// The cache file's name in ``folder``.
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

    /// One feed's last event and checkpoints.
    public struct Feed: Codable, Sendable, Equatable {
        /// The sequence number of the feed's last event.
        public var seq: UInt64
        /// The id of the feed's last event, 64 lower-case hex digits.
        public var id: String
        /// Checkpoints in sequence order, one every ``HeadsCache/checkpointEvery`` events.
        public var checkpoints: [Checkpoint]
    }

    /// The journal's end when the cache was written.
    public var end: SegmentPosition
    /// The last batch and its last event's id, to check that the journal is still the same.
    public var lastBatch: SegmentPosition?
    /// The id of the last event of ``lastBatch``, 64 lower-case hex digits.
    public var lastID: String?
    /// Events in the journal, of all sites.
    public var events: Int
    /// The hybrid logical clock's highest time seen: its milliseconds …
    public var clockMilliseconds: Int64
    /// … and its counter.
    public var clockCounter: UInt32
    /// The feeds, by site name.
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
    /// - Throws: what ``EventIterator/next()`` throws for the events after the cache.
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
}

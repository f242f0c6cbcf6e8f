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
    public struct Checkpoint: Sendable, Equatable {
        /// A sequence number of the feed …
        public var seq: SequenceNumber
        /// … and the batch that holds it: every later event of the feed is at or after it.
        public var batch: SegmentPosition

        /// The checkpoint at `seq`, in the batch at `batch`.
        public init(seq: SequenceNumber, batch: SegmentPosition) {
            self.seq = seq
            self.batch = batch
        }
    }

    /// One feed's last event and checkpoints.
    public struct Feed: Sendable, Equatable {
        /// The sequence number of the feed's last event.
        public var seq: SequenceNumber
        /// The id of the feed's last event.
        public var id: EventID
        /// Checkpoints in sequence order, one every ``HeadsCache/checkpointEvery`` events.
        public var checkpoints: [Checkpoint]

        /// A feed whose last event is `seq`, `id`.
        public init(seq: SequenceNumber, id: EventID, checkpoints: [Checkpoint]) {
            self.seq = seq
            self.id = id
            self.checkpoints = checkpoints
        }
    }

    /// The journal's end when the cache was written.
    public var end: SegmentPosition
    /// The last batch and its last event's id, to check that the journal is still the same.
    public var lastBatch: SegmentPosition?
    /// The id of the last event of ``lastBatch``.
    public var lastID: EventID?
    /// Events in the journal, of all sites.
    public var events: Int
    /// The hybrid logical clock's highest time seen: its milliseconds …
    public var clockMilliseconds: Int64
    /// … and its counter.
    public var clockCounter: UInt32
    /// The feeds, by site.
    public var feeds: [SiteID: Feed]
    /// Where every batch before ``end`` that holds a key event (`key.*`, Trust.md "Key events")
    /// starts, in journal order, so that a site's key history is read from those batches and
    /// the events after ``end`` instead of from the whole journal
    /// (``EventJournal/keyHistories(trusted:)``). Nil when unknown: a cache of an earlier form
    /// (Format.md §1), which a writer therefore does not start from.
    public var keyBatches: [SegmentPosition]?

    static func empty() -> HeadsCache {
        HeadsCache(end: .start, lastBatch: nil, lastID: nil, events: 0, clockMilliseconds: 0, clockCounter: 0, feeds: [:], keyBatches: [])
    }

    /// Folds one batch's events into the cache (a slice: a replicated batch's new events are
    /// not copied out).
    mutating func add(batch: SegmentPosition, end: SegmentPosition, events: ArraySlice<Event>) {
        var clock = HybridTimestamp(milliseconds: clockMilliseconds, counter: clockCounter)
        var index = events.startIndex
        // A run of one site's events (a batch is usually one run) updates its feed once.
        // Fields are read in place: copying an `Event` retains every one of its references.
        while index < events.endIndex {
            let site = events[index].site
            var checkpoints = feeds.removeValue(forKey: site)?.checkpoints ?? []
            var last = index
            while index < events.endIndex, events[index].site == site {
                let seq = events[index].seq
                if checkpoints.last.map({ seq.rawValue >= $0.seq.rawValue + Self.checkpointEvery }) ?? true {
                    checkpoints.append(Checkpoint(seq: seq, batch: batch))
                }
                if events[index].hlc > clock { clock = events[index].hlc }
                last = index
                index += 1
            }
            feeds[site] = Feed(seq: events[last].seq, id: events[last].id, checkpoints: checkpoints)
        }
        clockMilliseconds = clock.milliseconds
        clockCounter = clock.counter
        if keyBatches != nil, keyBatches?.last != batch, events.contains(where: KeyHistory.isKeyEvent) {
            keyBatches!.append(batch)
        }
        self.events += events.count
        self.end = end
        if let last = events.last {
            lastBatch = batch
            lastID = last.id
        }
    }

    /// Where to start reading to find every event of `site` after `seq`.
    public func start(for site: SiteID, after seq: SequenceNumber) -> SegmentPosition {
        feeds[site]?.checkpoints.last { $0.seq.rawValue <= seq.rawValue + 1 }?.batch ?? .start
    }

    /// Where to start reading to find everything a journal holding `vector` lacks, and the
    /// receiver's own last event of each feed.
    public func start(lacking vector: [SiteID: SequenceNumber]) -> SegmentPosition {
        var start: SegmentPosition?
        for (site, feed) in feeds where feed.seq.rawValue >= vector[site]?.rawValue ?? 0 {
            // From the receiver's last event on (it overlaps, to detect a fork).
            let position = self.start(for: site, after: SequenceNumber(max(vector[site]?.rawValue ?? 0, 1) - 1))
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
                cache.add(batch: start, end: events.nextPosition, events: batch[...])
                batch = []
            }
        }
        return cache
    }
}

import AccordModel
import AccordSegments
import Foundation

extension EventJournal {
    /// Each trusted site's keys over time (Trust.md "Keys over time"): its anchor
    /// (`keys/<site>.pub`, Format.md §8) and the key events of its feed held in this journal,
    /// recorded in `seq` order.
    ///
    /// Key events are checked as they were when they were written (``KeyHistory/record(_:)``); one
    /// that does not pass (only a damaged journal holds one) ends that site's history there, and
    /// `verify` reports it.
    /// - Parameter trusted: the anchors, when the caller has read them (else ``trustedKeys()``).
    /// - Returns: a history for every trusted site.
    /// - Complexity: the first call in a process reads the batches of key events that the heads
    ///   cache names and the events after it (Format.md §1, form 3), or, without such a cache, the
    ///   whole journal (O(journal size)); later calls read only what was appended since (a journal read again from the start when that
    ///   fails, or when the trusted anchors changed); memory O(key events).
    /// - Throws: what ``trustedKeys()`` and reading the segments throw.
    public func keyHistories(trusted: [SiteID: SitePublicKey]? = nil) throws -> [SiteID: KeyHistory] {
        let anchors = try trusted ?? trustedKeys()
        // Within one process a journal only grows: what was read before is kept, and only what
        // follows it is read (a server checks every request under these keys).
        let fresh = KeyHistoryScan(anchors: anchors, end: .start, histories: anchors.mapValues { KeyHistory(anchor: $0) }, broken: [])
        var scan = KeyHistoryScan.cache.withLock { $0[path] }.flatMap { $0.anchors == anchors ? $0 : nil } ?? fresh
        do {
            try scan.read(self)
        } catch {
            // A damaged journal, or a heads cache that names a batch the journal does not hold
            // there: read everything, and let the journal's own error speak.
            scan = fresh
            try scan.read(self, guidedByHeadsCache: false)
        }
        let result = scan
        KeyHistoryScan.cache.withLock { cache in
            if cache.count >= KeyHistoryScan.maxCachedJournals { cache.removeAll() }
            cache[path] = result
        }
        return scan.histories
    }

    /// Tells this process's key-history scans that the writer (holding the lock) appended
    /// `events` as the batch at `position`, ending at `end`: a scan that had read exactly up to
    /// `position` records their key events and moves on to `end`, as if it had read the batch
    /// back, so that the next ``keyHistories(trusted:)`` does not inflate and decode it again
    /// (before this, every replicated append read the journal's previous batch back).
    func noteAppended(_ events: [Event], at position: SegmentPosition, end: SegmentPosition) {
        noteAppended(events[...], at: position, end: end)
    }

    /// ``noteAppended(_:at:end:)`` for a stretch of events.
    func noteAppended(_ events: ArraySlice<Event>, at position: SegmentPosition, end: SegmentPosition) {
        KeyHistoryScan.cache.withLock { cache in
            guard var scan = cache[path], scan.end == position else { return }
            cache[path] = nil  // not copied on write while it changes
            for index in events.indices where KeyHistory.isKeyEvent(events[index]) { scan.record(events[index]) }
            scan.end = end
            cache[path] = scan
        }
    }

    /// The key in force for each trusted site after the key events this journal holds
    /// (``KeyHistory/current``): the key that its sync requests, answers and TLS certificates
    /// must be signed or made with (SyncProtocol.md §4.3.1, §4.4; Trust.md "Transport").
    /// - Throws: as ``keyHistories(trusted:)``.
    public func currentKeys() throws -> [SiteID: SitePublicKey] {
        try keyHistories().mapValues(\.current)
    }

    /// What a peer's transport signature or TLS certificate is checked under (Trust.md
    /// "Transport"): each trusted site's key in force, and the SHA-256 of its committed next
    /// key where its feed adopted pre-rotation (a key whose digest it is, is the site's: it
    /// rotated, and the rotation has not arrived here yet).
    /// - Throws: as ``keyHistories(trusted:)``.
    public func transportKeys() throws -> (current: [SiteID: SitePublicKey], committed: [SiteID: String]) {
        let histories = try keyHistories()
        return (histories.mapValues(\.current), histories.compactMapValues(\.nextDigest))
    }
}

/// The key histories read from one journal, and where reading stopped (``EventJournal/keyHistories(trusted:)``).
struct KeyHistoryScan: Sendable {
    /// The anchors the histories start from; other anchors (a peer added or removed) mean a new scan.
    var anchors: [SiteID: SitePublicKey]
    /// Where the next read starts.
    var end: SegmentPosition
    var histories: [SiteID: KeyHistory]
    /// Sites whose history stopped at a key event that broke a rule (a damaged journal).
    var broken: Set<SiteID>

    /// The scans of this process, by journal path; at most ``maxCachedJournals``.
    static let cache = Cache()

    /// The lock and the scans behind it. An `NSLock` (a pthread mutex), not the Synchronization
    /// module's `Mutex`: ThreadSanitizer on this toolchain does not see that `Mutex` orders its
    /// holders (a two-thread program that only touches a dictionary inside `Mutex.withLock`
    /// is reported as racing; the same with `NSLock` is not), and every writer's append updates
    /// this cache from whichever thread appends.
    final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var scans: [String: KeyHistoryScan] = [:]

        func withLock<Result>(_ body: (inout [String: KeyHistoryScan]) -> Result) -> Result {
            lock.lock()
            defer { lock.unlock() }
            return body(&scans)
        }
    }
    static let maxCachedJournals = 64

    /// Reads the key events after ``end``. A scan from the start first reads only the batches
    /// that the heads cache says hold key events (``HeadsCache/keyBatches``), when the cache
    /// matches the journal and knows them, then the events after the cache's end: O(key
    /// events + events after the cache) instead of O(journal).
    mutating func read(_ journal: EventJournal, guidedByHeadsCache: Bool = true) throws {
        if end == .start, guidedByHeadsCache, let cache = HeadsCache.load(journal), let keyBatches = cache.keyBatches {
            for position in keyBatches {
                var batches = try journal.directory.batches(from: position)
                guard let batch = try batches.next(), batch.position == position, batch.end <= cache.end else {
                    throw AccordError(.damaged, "The heads cache names a batch of key events at \(position) that the journal does not hold there.")
                }
                for bytes in batch.records { record(try EventRecord.decode(bytes)) }
            }
            end = cache.end
        }
        var events = try journal.events(from: end)
        while let event = try events.next() { record(event) }
        end = events.nextPosition
    }

    mutating func record(_ event: Event) {
        guard KeyHistory.isKeyEvent(event), !broken.contains(event.site), histories[event.site] != nil else { return }
        do {
            try histories[event.site]!.record(event)
        } catch {
            broken.insert(event.site)
        }
    }
}

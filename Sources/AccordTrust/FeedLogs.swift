import AccordModel
import AccordSegments
import AccordStore

/// The Merkle trees of a journal's feeds (Trust.md §1): for each site, the leaf hashes of its
/// events in `seq` order, the leaf bytes of an event being the 32 raw bytes of its id.
public struct FeedLogs: Sendable {
    /// The tree of each feed.
    public var trees: [SiteID: MerkleTree] = [:]
    /// The last event id of each feed (the version vector's ids).
    public var lastIDs: [SiteID: EventID] = [:]

    /// An empty set of feeds.
    public init() {}

    /// The leaf bytes of an event: the 32 raw bytes of its id (Trust.md §1.1).
    public static func leafBytes(of id: EventID) -> [UInt8] {
        NoteVerifier.hexBytes(Array(id.hex.utf8)) ?? []
    }

    /// Lower-case hex of bytes (an event id's 64 digits from its 32 bytes).
    public static func hex(_ bytes: [UInt8]) -> String { AccordTrust.hex(bytes) }

    /// Adds an event read in journal order.
    /// - Throws: ``AccordError`` `.damaged` when the event is not the next of its feed.
    public mutating func add(_ event: Event) throws {
        let size = trees[event.site]?.size ?? 0
        guard Int(event.seq.rawValue) == size + 1 else {
            throw AccordError(.damaged, "Event \(event.seq) of site '\(event.site)' follows event \(size) of its feed; a feed's events must be stored in seq order with no gap. Run 'accord verify'.")
        }
        // Appended in place: taking the tree out of the dictionary and putting it back copied
        // every leaf hash on every event (quadratic: a 1M-event checkpoint did not finish).
        trees[event.site, default: MerkleTree()].append(leafHash: MerkleTree.leafHash(of: Self.leafBytes(of: event.id)))
        lastIDs[event.site] = event.id
    }

    /// Reads every feed of `journal`, refusing a damaged journal.
    /// - Parameter visit: called with every event, in journal order.
    /// - Throws: ``SegmentError`` or ``AccordError`` `.damaged` as the journal's event iterator,
    ///   or when a feed's events are not in seq order.
    /// - Complexity: one pass over the journal; memory 32 bytes (and an array's header) per event.
    public static func read(_ journal: EventJournal, visit: ((Event) throws -> Void)? = nil) throws -> FeedLogs {
        var logs = FeedLogs()
        var events = try journal.events()
        while let event = try events.next() {
            try logs.add(event)
            try visit?(event)
        }
        return logs
    }
}

/// A damage-tolerant read of one feed, for `accord verify --checkpoint` (Trust.md §6): what
/// can be read of each seq, and where the journal is damaged.
public struct FeedScan: Sendable {
    /// The event id at each seq (index seq - 1), nil where no valid event was read.
    public var ids: [EventID?] = []
    /// The `prev` each event claims (index seq - 1).
    public var prevs: [EventID?] = []
    /// Where each event was read (index seq - 1).
    public var places: [String?] = []
    /// Damaged batches and records of the whole journal, with their places, in order.
    public var damage: [String] = []

    /// Reads the events of `site` from `journal`, past damage, keeping those of seq 1…`limit`.
    /// - Throws: ``SegmentError`` `.io` when a segment cannot be read.
    /// - Complexity: one pass over the journal; memory O(`limit`).
    public static func scan(_ journal: EventJournal, site: SiteID, limit: Int) throws -> FeedScan {
        var scan = FeedScan()
        let integrity = try journal.directory.scan { batch in
            for (index, record) in batch.records.enumerated() {
                let place = "record \(index + 1) of the batch at byte \(batch.offset) of '\(SegmentDirectory.relativeSegmentPath(batch.segment))'"
                let event: Event
                do {
                    event = try EventRecord.decode(record)
                } catch let error as AccordError {
                    scan.damage.append("\(place): \(error.message)")
                    continue
                }
                guard event.site == site else { continue }
                let slot = Int(event.seq.rawValue) - 1
                guard slot >= 0, slot < limit else { continue }
                while scan.ids.count <= slot {
                    scan.ids.append(nil)
                    scan.prevs.append(nil)
                    scan.places.append(nil)
                }
                if scan.ids[slot] == nil {
                    scan.ids[slot] = event.id
                    scan.prevs[slot] = event.prev
                    scan.places[slot] = place
                }
            }
        }
        scan.damage += integrity.damages.map(\.description) + integrity.problems
        return scan
    }

    /// The id event `seq` should have, as its successor's `prev` says, when that is readable.
    public func idClaimedBySuccessor(ofSeq seq: Int) -> EventID? {
        seq < prevs.count ? prevs[seq] : nil
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// What one merge did (SyncProtocol.md §3).
public struct SyncSummary: Sendable, Equatable, CustomStringConvertible {
    /// Events received.
    public var received = 0
    /// Events written to the journal.
    public var appended = 0
    /// Events this journal already held (same site, sequence number and id).
    public var alreadyKnown = 0
    /// Events kept pending because an earlier event of their feed has not arrived.
    public var pending = 0
    /// Forks found: "fork in feed 'astana' at 41".
    public var forks: [String] = []

    /// Nothing merged yet.
    public init() {}

    /// Both merges: counts added, forks joined; `pending` is `b`'s (the later count).
    public static func + (a: SyncSummary, b: SyncSummary) -> SyncSummary {
        var sum = a
        sum.received += b.received
        sum.appended += b.appended
        sum.alreadyKnown += b.alreadyKnown
        sum.pending = b.pending
        sum.forks += b.forks
        return sum
    }

    /// "received 3, appended 2, already known 1, pending 0", and the forks if any.
    public var description: String {
        "received \(received), appended \(appended), already known \(alreadyKnown), pending \(pending)" + (forks.isEmpty ? "" : ", forks: " + forks.joined(separator: "; "))
    }
}

/// The receiving side of every transport: merges events of other sites into this journal
/// (SyncProtocol.md §3).
///
/// Holding a session holds the journal's writer lock. ``apply(_:)`` first checks everything it
/// received — each record's form and id, that its site is trusted, that every signature it
/// carries verifies under that site's trusted key, and that each site's records chain — and
/// refuses the whole input if anything fails, writing nothing. Then, feed by feed, it writes
/// what continues the feed here (``EventWriter/appendReplicated(_:)``: one durable batch per
/// signed stretch), keeps what follows a gap as pending (durably, in `pending/`), skips what is
/// already here, and quarantines forks.
public final class SyncSession {
    /// The journal merged into.
    public let journal: EventJournal
    /// Its writer, held for the session.
    public let writer: EventWriter
    private let pending: PendingStore

    /// Opens a session: takes the writer lock and reads the journal once.
    /// - Throws: ``SegmentError`` `.busy` when another process holds the lock, or a failed read.
    public init(journal: EventJournal, options: SegmentWriter.Options = SegmentWriter.Options()) throws {
        self.journal = journal
        writer = try journal.openWriter(options: options)
        pending = PendingStore(journal: journal)
    }

    /// Releases the writer lock.
    public func close() { writer.close() }

    /// What this journal holds.
    public var vector: VersionVector { VersionVector(heads: writer.heads) }

    /// Events held pending.
    public func pendingCount() throws -> Int { try pending.count() }

    /// Events held pending in `journal`, without taking its lock.
    public static func pendingCount(of journal: EventJournal) throws -> Int { try PendingStore(journal: journal).count() }

    /// Merges `records` (events of any sites, in any order).
    /// - Throws: ``AccordError`` `.untrusted` (an unknown site, a bad signature), `.damaged` (a
    ///   malformed record, or this site's own events beyond its head), `.badInput` (a site's
    ///   records do not chain), ``SyncError`` ``SyncError/Code/fork`` (the input holds two
    ///   different events at one place of a feed) — nothing was written;
    ///   ``SegmentError`` for a failed write (what was written before it is durable and counted
    ///   in the journal; the rest can be sent again).
    @discardableResult
    public func apply<Record: Collection<UInt8>>(_ records: [Record]) throws -> SyncSummary {
        var summary = SyncSummary()
        summary.received = records.count
        let keys = try journal.trustedKeys()
        var bySite: [SiteID: [SequenceNumber: Event]] = [:]
        for (index, record) in records.enumerated() {
            let event: Event
            do {
                event = try EventRecord.decode(record)
            } catch let error as AccordError {
                throw AccordError(.damaged, "Received record \(index + 1) is not a valid event: \(error.message) Nothing was written.", field: error.field)
            }
            guard let key = keys[event.site] else {
                throw AccordError(.untrusted, "Received events of site '\(event.site)', which this journal does not trust; add its key with 'accord peer add \(event.site) --key …'. Nothing was written.")
            }
            if let signature = event.signature, !key.verifies(signature, forBatchEndingAt: event.id) {
                throw AccordError(.untrusted, "The signature on event \(event.seq) of site '\(event.site)' does not verify under the key trusted for it. Nothing was written.")
            }
            if let other = bySite[event.site]?[event.seq], other.id != event.id {
                throw SyncError(.fork, "Fork in feed '\(event.site)' at \(event.seq): the input itself holds two different events there. Nothing was written.")
            }
            bySite[event.site, default: [:]][event.seq] = event
        }
        if let own = bySite[journal.site], !journal.isRestoreHeld {
            let headSeq = writer.head?.seq ?? SequenceNumber(0)
            if let beyond = own.keys.filter({ $0 > headSeq }).max() {
                throw AccordError(.damaged, "A peer holds events of this site '\(journal.site)' beyond this journal's own (up to \(beyond), here \(headSeq)): this journal was restored from an older copy. Run 'accord restored', then sync again to pull your own feed back before appending. Nothing was written.")
            }
        }
        for site in bySite.keys.sorted() {
            summary = summary + (try merge(site: site, incoming: Array(bySite[site]!.values)))
        }
        summary.pending = try pending.count()
        return summary
    }

    /// Ends the restored-from-backup hold after a complete pull from a peer.
    public func releaseRestoreHold() throws {
        if journal.isRestoreHeld { try journal.setRestoreHeld(false) }
    }

    /// One feed: incoming events plus those pending, against the head here.
    private func merge(site: SiteID, incoming: [Event]) throws -> SyncSummary {
        var summary = SyncSummary()
        var events: [SequenceNumber: Event] = [:]
        for event in try pending.events(of: site) { events[event.seq] = event }
        for event in incoming { events[event.seq] = event }
        let ordered = events.values.sorted { $0.seq < $1.seq }
        let head = writer.heads[site]
        let headSeq = head?.seq ?? SequenceNumber(0)
        let known = ordered.filter { $0.seq <= headSeq }
        var fresh = ordered.filter { $0.seq > headSeq }
        if !known.isEmpty {
            // Ids chain through `prev`: a contiguous run ending at the head with the head's id
            // matches everything before it; anything else is compared with what is stored.
            let contiguous = zip(known, known.dropFirst()).allSatisfy { $1.seq == $0.seq.next && $1.prev == $0.id }
            let matchesHead = contiguous && known.last!.seq == headSeq && known.last!.id == head?.id
            let stored = matchesHead ? [:] : try writer.storedIDs(of: site, in: known.first!.seq...known.last!.seq)
            if !matchesHead, let forked = known.first(where: { stored[$0.seq] != $0.id }) {
                summary.forks.append(try quarantineFork(site: site, seq: forked.seq, theirs: forked.record))
                try pending.replace(site: site, with: [])
                return summary
            }
            summary.alreadyKnown += known.filter { e in incoming.contains { $0.id == e.id } }.count
        }
        // The run that continues the feed here: consecutive sequence numbers, each linking to
        // the one before (an event that does not link to our head is a fork).
        var run: [Event] = []
        var expected = headSeq.next
        var lastID = head?.id
        var forked = false
        for event in fresh {
            guard event.seq == expected else { break }  // a gap: the rest waits as pending
            guard event.prev == lastID else {
                // It does not link to what precedes it here: another branch of the feed.
                summary.forks.append(try quarantineFork(site: site, seq: event.seq.rawValue > 1 ? SequenceNumber(event.seq.rawValue - 1) : event.seq, theirs: event.record))
                forked = true
                break
            }
            run.append(event)
            expected = event.seq.next
            lastID = event.id
        }
        // Written as durable batches that each end with a signed event and stay well under the
        // batch limit; an unsigned end of the run waits as pending for the rest of its batch.
        var chunk: [Event] = []
        var bytes = 0
        for event in run {
            // Before a chunk could pass the batch limit, write it up to its last signed event.
            if bytes + event.record.count + 1 > chunkBytes * 3, let lastSigned = chunk.lastIndex(where: { $0.signature != nil }) {
                summary.appended += try writer.appendReplicated(chunk[...lastSigned].map(\.record), allowOwnSite: site == journal.site)
                chunk.removeFirst(lastSigned + 1)
                bytes = chunk.reduce(0) { $0 + $1.record.count + 1 }
            }
            chunk.append(event)
            bytes += event.record.count + 1
            if event.signature != nil, bytes >= chunkBytes {
                summary.appended += try writer.appendReplicated(chunk.map(\.record), allowOwnSite: site == journal.site)
                chunk = []
                bytes = 0
            }
        }
        if let lastSigned = chunk.lastIndex(where: { $0.signature != nil }) {
            summary.appended += try writer.appendReplicated(chunk[...lastSigned].map(\.record), allowOwnSite: site == journal.site)
        }
        let newHead = writer.heads[site]?.seq ?? SequenceNumber(0)
        try pending.replace(site: site, with: forked ? [] : fresh.filter { $0.seq > newHead })
        return summary
    }

    /// Replicated events are written in batches of about this many bytes (Format.md §4 allows 64 MiB).
    public var chunkBytes = 16 << 20

    /// Keeps both versions of a forked event in quarantine and returns the report line.
    private func quarantineFork(site: SiteID, seq: SequenceNumber, theirs: [UInt8]) throws -> String {
        var ours: [UInt8] = []
        var events = try journal.events()
        while let event = try events.next() {
            if event.site == site, event.seq == seq {
                ours = event.record
                break
            }
        }
        let folder = journal.path + "/" + SegmentFormat.quarantineFolder
        if mkdir(folder, 0o755) != 0, errno != EEXIST { throw AccordError(.io, "Cannot create '\(folder)'.") }
        let name = "fork-\(site)-\(seq)-\(Timestamp.now().seconds).jsonl"
        try FileBytes.writeAtomically(folder + "/" + name, bytes: ours + [0x0a] + theirs + [0x0a])
        return "fork in feed '\(site)' at \(seq) (both versions kept in '\(SegmentFormat.quarantineFolder)/\(name)')"
    }
}

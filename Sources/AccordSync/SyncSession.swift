import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// What one merge did (SyncProtocol.md §3).
public struct SyncSummary: Sendable, Equatable, CustomStringConvertible {
    /// Events received, without the overlap: the last event this journal already held of each
    /// feed, which senders send back only so that the chain can be checked (SyncProtocol.md §2).
    public var received = 0
    /// Overlap events received (one per feed at most): already here, counted neither as
    /// ``received`` nor as ``alreadyKnown``.
    public var overlap = 0
    /// Events written to the journal.
    public var appended = 0
    /// Events this journal already held (same site, sequence number and id).
    public var alreadyKnown = 0
    /// Events kept pending because an earlier event of their feed has not arrived.
    public var pending = 0
    /// Events received that were not kept: beyond the pending bounds (``PendingLimits``), or not
    /// covered by a signature of their site. The next exchange sends them again.
    public var notKept = 0
    /// Forks found: "fork in feed 'astana' at 41 (…)".
    public var forks: [String] = []
    /// The proofs of the forks found (``ForkProof``), each also kept in `quarantine/`.
    public var proofs: [ForkProof] = []
    /// Events received that a revoked key signed (Trust.md "Revocation"): one line per stretch,
    /// with the reason and where it was kept ("events 12…14 of site 'astana' are signed by …").
    public var revoked: [String] = []

    /// Nothing merged yet.
    public init() {}

    /// Both merges: counts added, forks joined; `pending` is `b`'s (the later count).
    public static func + (a: SyncSummary, b: SyncSummary) -> SyncSummary {
        var sum = a
        sum.received += b.received
        sum.appended += b.appended
        sum.alreadyKnown += b.alreadyKnown
        sum.overlap += b.overlap
        sum.pending = b.pending
        sum.notKept += b.notKept
        sum.forks += b.forks
        sum.proofs += b.proofs
        sum.revoked += b.revoked
        return sum
    }

    /// "received 3, appended 2, already known 1, pending 0", and the forks if any.
    public var description: String {
        "received \(received), appended \(appended), already known \(alreadyKnown), pending \(pending)"
            + (notKept == 0 ? "" : ", not kept \(notKept) (beyond the pending bounds or not covered by a signature; they will be sent again)")
            + (forks.isEmpty ? "" : ", forks: " + forks.joined(separator: "; "))
            + (revoked.isEmpty ? "" : ", quarantined as signed by a revoked key: " + revoked.joined(separator: "; "))
    }
}

/// The receiving side of every transport: merges events of other sites into this journal
/// (SyncProtocol.md §3).
///
/// Holding a session holds the journal's writer lock. ``apply(_:events:)`` first checks everything it
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

    /// Merges `records` (events of any sites, in any order), once they passed ``SyncGate``:
    /// records no valid signature chain covers are only counted (``SyncSummary/notKept``), never
    /// written, kept pending or quarantined, and raise no alarm.
    /// - Throws: ``AccordError`` `.untrusted` (an unknown site, a bad signature), `.damaged` (a
    ///   malformed record, or this site's own signed events beyond its head), `.badInput` (an
    ///   `hlc` too far ahead), ``SyncError`` ``SyncError/Code/fork`` (the input holds two
    ///   different signed events at one place of a feed) — nothing was written;
    ///   ``SegmentError`` for a failed write (what was written before it is durable and counted
    ///   in the journal; the rest can be sent again).
    /// - Parameter events: the records decoded already (``SyncGate/decode(_:source:)``, in the
    ///   same order), when the caller checked them before; nil to decode them here.
    @discardableResult
    public func apply<Record: Collection<UInt8>>(_ records: [Record], events: [Event]? = nil) throws -> SyncSummary {
        var summary = SyncSummary()
        summary.received = records.count
        // The gate (SyncProtocol.md §3.1): only what a valid signature chain covers goes on.
        let admitted = try SyncGate.admit(events: events ?? SyncGate.decode(records), histories: try writer.keyHistories(), heads: writer.heads.mapValues(\.seq))
        let feeds = admitted.feeds
        summary.notKept += admitted.notCovered
        for stretch in admitted.revoked {
            // The site's own events before its revocation, sent again, are already here: the
            // revocation stored here covers them (Trust.md "Revocation").
            if stretch.last <= (writer.heads[stretch.site]?.seq ?? SequenceNumber(0)) {
                let stored = try writer.storedIDs(of: stretch.site, in: stretch.first...stretch.last)
                let ids = stretch.records.compactMap { try? EventRecord.decode($0) }.map { ($0.seq, $0.id) }
                if ids.count == stretch.records.count, ids.allSatisfy({ stored[$0.0] == $0.1 }) {
                    summary.alreadyKnown += ids.count
                    continue
                }
            }
            let kept = try RevokedQuarantine.keep(stretch, in: journal)
            let place = kept.map { " (kept in '\($0)')" } ?? " (not kept: the quarantine already holds \(RevokedQuarantine.maxFilesPerSite) such files for this site)"
            summary.revoked.append(stretch.reason + place)
        }
        if let own = feeds[journal.site], !journal.isRestoreHeld {
            let headSeq = writer.head?.seq ?? SequenceNumber(0)
            // In `seq` order: the last is the furthest.
            if let beyond = own.last?.seq, beyond > headSeq {
                throw ownFeedRefusal(own, beyond: beyond)
            }
        }
        for site in feeds.keys.sorted() {
            summary = summary + (try merge(site: site, incoming: feeds[site]!))
        }
        summary.pending = try pending.count()
        summary.received -= summary.overlap
        return summary
    }

    /// Ends the restored-from-backup hold after a complete pull from a peer — unless the own
    /// feed did not come back cleanly: a fork of this site's own feed found by this session, or a
    /// fork proof of it in `quarantine/`, means that the office appended past its backup, and
    /// the mark stays (SyncProtocol.md §6.2).
    /// - Returns: whether the mark was lifted.
    @discardableResult
    public func releaseRestoreHold() throws -> Bool {
        guard journal.isRestoreHeld, !ownFeedForked else { return false }
        if try ForkQuarantine.entries(of: journal).contains(where: { $0.proof?.site == journal.site }) { return false }
        try journal.setRestoreHeld(false)
        return true
    }

    /// Whether this session found a fork in this journal's own feed.
    private var ownFeedForked = false

    /// What is kept pending, at most (SyncProtocol.md §3.3); tests set smaller limits.
    public var pendingLimits = PendingLimits.standard

    /// Bytes this session read back from `pending/`: what a merge costs beyond what it received.
    package var pendingBytesRead: Int { pending.bytesRead }

    /// The refusal of §3.1 rule 5: a peer holds more of this site's own feed than this journal.
    /// When the input also holds a *different* event at this journal's head, the journal has
    /// appended past the backup it was restored from, and `accord restored` cannot help: say so.
    func ownFeedRefusal(_ own: [Event], beyond: SequenceNumber) -> AccordError {
        let head = writer.head
        let headSeq = head?.seq ?? SequenceNumber(0)
        if let head, let theirs = own.first(where: { $0.seq == head.seq }), theirs.id != head.id {
            return AccordError(.damaged, "A peer holds events of this site '\(journal.site)' beyond this journal's own (up to \(beyond), here \(headSeq)), and another event at \(headSeq) than this journal's: this journal was restored from an older copy and then appended past it, so its own events after the backup conflict with the ones its peers hold ('accord restored' and a sync would end in a fork). Keep the peers' version: set this journal aside, create a new journal for '\(journal.site)' with the same keys, trust the peers, run 'accord restored' there and sync to pull the feed back, then record again what the set-aside journal added after the backup (SyncProtocol.md §6.2). Nothing was written.")
        }
        return AccordError(.damaged, "A peer holds events of this site '\(journal.site)' beyond this journal's own (up to \(beyond), here \(headSeq)): this journal was restored from an older copy. Run 'accord restored', then sync again to pull your own feed back before appending. Nothing was written.")
    }

    /// One feed: the incoming events, then the pending runs the head reaches, against the head
    /// here (SyncProtocol.md §3.2, §3.3). A pending run is read only when the head reaches it or
    /// new events overlap it.
    ///
    /// Events are carried in place (sorted once, then sliced by index) rather than filtered,
    /// mapped and appended into new arrays: each copy of an `Event` retains all its references,
    /// and that copying was a third of the time of a large push (issue 16).
    private func merge(site: SiteID, incoming: consuming [Event]) throws -> SyncSummary {
        var summary = SyncSummary()
        let history = try writer.keyHistories()[site]
        let key = history?.current
        var sorted = consume incoming
        // Sorted only when it is not (the gate gives each feed in `seq` order): sorting an array
        // that the caller still holds copied every event first.
        if !sorted.indices.dropFirst().allSatisfy({ sorted[$0 - 1].seq < sorted[$0].seq }) {
            sorted.sort { $0.seq < $1.seq }
        }
        let oldHead = writer.heads[site]
        let oldHeadSeq = oldHead?.seq ?? SequenceNumber(0)
        let split = sorted.firstIndex { $0.seq > oldHeadSeq } ?? sorted.endIndex
        let known = sorted[..<split]
        let fresh = sorted[split...]
        if !known.isEmpty {
            // Ids chain through `prev`: a contiguous run ending at the head with the head's id
            // matches everything before it; anything else is compared with what is stored.
            let contiguous = known.indices.dropFirst().allSatisfy { known[$0].seq == known[$0 - 1].seq.next && known[$0].prev == known[$0 - 1].id }
            let matchesHead = contiguous && known.last!.seq == oldHeadSeq && known.last!.id == oldHead?.id
            if !matchesHead {
                let stored = try writer.storedIDs(of: site, in: known.first!.seq...known.last!.seq)
                if let forked = known.first(where: { stored[$0.seq] != $0.id }) {
                    // Another event where this journal holds one: a fork, when the site's signature
                    // covers it (else it is nobody's word, and is dropped).
                    guard let theirs = Self.branch(at: forked.seq, in: sorted) else {
                        summary.notKept += sorted.count
                        return summary
                    }
                    return try quarantineFork(site: site, seq: forked.seq, theirs: theirs, key: key)
                }
            }
            // The overlap: the feed's first incoming event is this journal's head, sent back by
            // the sender only to anchor the chain (SyncProtocol.md §2).
            let overlaps = known.first.map { $0.seq == oldHeadSeq && $0.id == oldHead?.id } == true ? 1 : 0
            summary.overlap += overlaps
            summary.alreadyKnown += known.count - overlaps
        }
        // Pending events of the first storage (one file per feed, kept unchecked): only those a
        // valid signature covers become runs; the rest are dropped.
        let legacy = try pending.takeLegacy(of: site, limits: pendingLimits)
        var stored = pending.runs(of: site)
        if !legacy.isEmpty, let key {
            var dropped = 0
            for run in Self.coveredRuns(of: legacy.sorted { $0.seq < $1.seq }[...], verifyingWith: key, notCovered: &dropped) {
                guard !stored.contains(where: { $0.first <= run.last!.seq && run[0].seq <= $0.last }) else { continue }
                guard Self.fits(run, beside: stored, limits: pendingLimits) else { continue }
                stored.append(try pending.add(run, of: site))
            }
            stored.sort { $0.first < $1.first }
        }
        // The covered part of each chained stretch of what is new; an uncovered end is not kept.
        var runs = Self.coveredRuns(of: fresh, verifyingWith: nil, notCovered: &summary.notKept)
        var wanted = Set(stored.map(\.last))
        for run in runs { wanted.insert(run[run.count - 1].seq) }
        var idsAt: [SequenceNumber: EventID] = [:]
        if let oldHead { idsAt[oldHead.seq] = oldHead.id }
        var head = oldHead
        // Write what continues the feed: an incoming run, else a pending run, that holds head + 1.
        while true {
            let next = (head?.seq ?? SequenceNumber(0)).next
            var candidate: [Event]
            var fromPending: PendingStore.Run?
            if let index = runs.firstIndex(where: { $0[0].seq <= next && next <= $0[$0.count - 1].seq }) {
                candidate = runs.remove(at: index)
            } else if let index = stored.firstIndex(where: { $0.first <= next && next <= $0.last }) {
                let run = stored.remove(at: index)
                guard let events = try pending.load(run, of: site, history: history, limits: pendingLimits) else { continue }
                candidate = events
                fromPending = run
            } else {
                break
            }
            let part = candidate.drop { $0.seq < next }
            if part.first!.prev != head?.id {
                // It does not link to the event before it here: another branch of the feed,
                // covered by the site's signature (every run ends with one): a fork at the head.
                let forkSeq = head?.seq ?? next
                guard let theirs = Self.branch(at: forkSeq, in: candidate) else {
                    if let fromPending { try pending.remove(fromPending, of: site) }
                    continue
                }
                return summary + (try quarantineFork(site: site, seq: forkSeq, theirs: theirs, key: key))
            }
            summary.appended += try writeRun(part, of: site)
            for index in part.indices where wanted.contains(part[index].seq) { idsAt[part[index].seq] = part[index].id }
            if let fromPending { try pending.remove(fromPending, of: site) }
            head = writer.heads[site]
        }
        let headSeq = head?.seq ?? SequenceNumber(0)
        // What now lies wholly at or below the head — pending runs, and incoming runs that a pending
        // run went ahead of — is either the same history (dropped) or another covered branch: a fork.
        func idHere(at seq: SequenceNumber) throws -> EventID? {
            if let id = idsAt[seq] { return id }
            return try writer.storedIDs(of: site, in: seq...seq)[seq]
        }
        for run in stored where run.last <= headSeq {
            if try idHere(at: run.last) == run.lastID {
                try pending.remove(run, of: site)
                continue
            }
            guard let events = try pending.load(run, of: site, history: history, limits: pendingLimits) else { continue }
            let ids = try writer.storedIDs(of: site, in: run.first...run.last)
            if let forked = events.first(where: { ids[$0.seq] != $0.id }), let theirs = Self.branch(at: forked.seq, in: events) {
                return summary + (try quarantineFork(site: site, seq: forked.seq, theirs: theirs, key: key))
            }
            try pending.remove(run, of: site)
        }
        stored.removeAll { $0.last <= headSeq }
        for run in runs where run[run.count - 1].seq <= headSeq {
            let last = run[run.count - 1]
            if try idHere(at: last.seq) == last.id {
                summary.alreadyKnown += run.count
                continue
            }
            let ids = try writer.storedIDs(of: site, in: run[0].seq...last.seq)
            if let forked = run.first(where: { ids[$0.seq] != $0.id }), let theirs = Self.branch(at: forked.seq, in: run) {
                return summary + (try quarantineFork(site: site, seq: forked.seq, theirs: theirs, key: key))
            }
        }
        runs.removeAll { $0[$0.count - 1].seq <= headSeq }
        // What follows a gap waits, within the bounds; a new run that overlaps a pending one is
        // joined with it when they agree, and is a fork when they do not (both are covered).
        for run in runs {
            let first = run[0].seq, last = run[run.count - 1].seq
            var union = run
            var replaced: [PendingStore.Run] = []
            for other in stored where other.first <= last && first <= other.last {
                guard let events = try pending.load(other, of: site, history: history, limits: pendingLimits) else {
                    stored.removeAll { $0 == other }
                    continue
                }
                if let differs = union.first(where: { $0.seq >= other.first && $0.seq <= other.last && events[Int($0.seq.rawValue - other.first.rawValue)].id != $0.id }),
                   let ours = Self.branch(at: differs.seq, in: events), let theirs = Self.branch(at: differs.seq, in: union) {
                    return summary + (try quarantineFork(site: site, seq: differs.seq, ours: ours, theirs: theirs, key: key))
                }
                union = events.filter { $0.seq < union[0].seq } + union + events.filter { $0.seq > union[union.count - 1].seq }
                replaced.append(other)
            }
            let others = stored.filter { !replaced.contains($0) }
            guard Self.fits(union, beside: others, limits: pendingLimits) else {
                summary.notKept += run.count
                continue
            }
            let added = try pending.add(union, of: site)
            // The same events again give the same file name: that file is the new run, keep it.
            for other in replaced where other.fileName != added.fileName { try pending.remove(other, of: site) }
            stored = others + [added]
        }
        return summary
    }

    /// Whether `run` may be kept beside the feed's other pending runs (``pendingLimits``).
    private static func fits(_ run: [Event], beside others: [PendingStore.Run], limits: PendingLimits) -> Bool {
        let events = others.reduce(run.count) { $0 + $1.count }
        let bytes = others.reduce(run.reduce(0) { $0 + $1.record.count + 1 }) { $0 + $1.bytes }
        return others.count + 1 <= limits.maxRunsPerFeed && events <= limits.maxEventsPerFeed && bytes <= limits.maxBytesPerFeed
    }

    /// Splits events of one feed (in `seq` order) into chained stretches, each cut after its last
    /// signed event (whose signature verifies under `key`, when one is given): the part a
    /// signature covers. What is cut off is counted in `notCovered`.
    private static func coveredRuns(of events: ArraySlice<Event>, verifyingWith key: SitePublicKey?, notCovered: inout Int) -> [[Event]] {
        var runs: [[Event]] = []
        // The stretch being gathered is `events[start..<end]`: indices, copied out once when kept.
        var start = events.startIndex
        func close(at end: Int) {
            let signed = (start..<end).last { index in
                guard let signature = events[index].signature else { return false }
                return key.map { $0.verifies(signature, forBatchEndingAt: events[index].id) } ?? true
            }
            let keptEnd = signed.map { $0 + 1 } ?? start
            notCovered += end - keptEnd
            if keptEnd > start { runs.append(Array(events[start..<keptEnd])) }
            start = end
        }
        for index in events.indices.dropFirst() {
            if !(events[index].seq == events[index - 1].seq.next && events[index].prev == events[index - 1].id) { close(at: index) }
        }
        close(at: events.endIndex)
        return runs
    }

    /// The records of a branch in `chain` (events of one feed, in `seq` order) from the fork point
    /// `seq` — or from the event after it — to the first signed event: nil when no signed event
    /// covers it there.
    private static func branch(at seq: SequenceNumber, in chain: [Event]) -> [[UInt8]]? {
        guard var index = chain.firstIndex(where: { $0.seq == seq }) ?? chain.firstIndex(where: { $0.seq == seq.next }) else { return nil }
        var records: [[UInt8]] = []
        while index < chain.count {
            let event = chain[index]
            if let previous = records.isEmpty ? nil : chain[index - 1], !(event.seq == previous.seq.next && event.prev == previous.id) { return nil }
            records.append(event.record)
            if event.signature != nil { return records }
            index += 1
        }
        return nil
    }

    /// This journal's records of `site` from `seq` to the first signed event (one replay; forks only).
    private func ourBranch(of site: SiteID, at seq: SequenceNumber) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        var events = try journal.events()
        while let event = try events.next() {
            guard event.site == site, event.seq >= seq else { continue }
            records.append(event.record)
            if event.signature != nil { break }
        }
        return records
    }

    /// Writes one chained run that continues the feed here and ends with a signed event, as
    /// durable batches that each end with a signed event and stay well under the batch limit.
    ///
    /// The events were decoded and checked by ``SyncGate``: the writer gets them as they are
    /// (``EventWriter/appendReplicated(decoded:allowOwnSite:)``), a slice of `run` per batch,
    /// and checks the chain, its continuation here and the last signature again, without
    /// decoding the records a second time (issue 16).
    private func writeRun(_ run: ArraySlice<Event>, of site: SiteID) throws -> Int {
        var appended = 0
        let own = site == journal.site
        // The chunk not yet written is `run[start..<index]`; `lastSigned` its last signed event.
        var start = run.startIndex
        var lastSigned: Int?
        var bytes = 0
        for index in run.indices {
            let size = run[index].record.count + 1
            // Before a chunk could pass the batch limit, write it up to its last signed event.
            if bytes + size > chunkBytes * 3, let signed = lastSigned {
                appended += try writer.appendReplicated(decoded: run[start...signed], allowOwnSite: own)
                start = signed + 1
                lastSigned = nil
                bytes = 0
                for rest in start..<index { bytes += run[rest].record.count + 1 }
            }
            bytes += size
            if run[index].signature != nil {
                lastSigned = index
                if bytes >= chunkBytes {
                    appended += try writer.appendReplicated(decoded: run[start...index], allowOwnSite: own)
                    start = index + 1
                    lastSigned = nil
                    bytes = 0
                }
            }
        }
        if let signed = lastSigned {
            appended += try writer.appendReplicated(decoded: run[start...signed], allowOwnSite: own)
        }
        return appended
    }

    /// Replicated events are written in batches of about this many bytes (Format.md §4 allows 64 MiB).
    public var chunkBytes = 16 << 20

    /// A fork in `site`'s feed at `seq`: keeps the proof — `ours` (by default this journal's
    /// records from `seq` to its next signed event) and `theirs`, each ending with a signed event
    /// — in `quarantine/`, drops the feed's pending events, and returns the report.
    private func quarantineFork(site: SiteID, seq: SequenceNumber, ours: [[UInt8]]? = nil, theirs: [[UInt8]], key: SitePublicKey?) throws -> SyncSummary {
        var summary = SyncSummary()
        try pending.removeAll(of: site)
        var note = ""
        if site == journal.site {
            ownFeedForked = true
            note = ": this is this site's own feed — this journal appended past the backup it was restored from, and its own events from \(seq) on conflict with the ones its peers hold; the restored mark stays. Keep the peers' version: set this journal aside, create a new one for '\(site)' with the same keys, run 'accord restored' there and pull the feed back, then record again what this journal added after the backup (SyncProtocol.md §6.2)"
        }
        do {
            guard let key else { throw AccordError(.untrusted, "no key is trusted for '\(site)'") }
            let proof = try ForkProof(site: site, seq: seq, branches: [try ours ?? ourBranch(of: site, at: seq), theirs], key: key)
            let path = try ForkQuarantine.keep(proof, in: journal)
            summary.proofs.append(proof)
            summary.forks.append("fork in feed '\(site)' at \(seq) (both versions, with the signed events that cover them, kept in '\(path)')" + note)
        } catch let error as AccordError {
            summary.forks.append("fork in feed '\(site)' at \(seq) (no proof could be made: \(error.message))" + note)
        }
        return summary
    }
}

import AccordModel
import AccordParallel
import AccordSegments
import Glibc

/// Appends events to the site's own feed; see ``EventJournal/openWriter(options:)``.
///
/// Each ``append(_:expecting:)`` is one batch: all its events are checked against the
/// catalogue, chained (`seq`, `prev`), stamped with the hybrid logical clock, and the last one
/// signed; then the batch is written with one write and one `fdatasync`. Either every event of
/// the batch is durable when the call returns, or none was written.
public final class EventWriter {
    /// The journal appended to.
    public let journal: EventJournal
    private let writer: SegmentWriter
    /// The key that signs this site's appends: the key in force for its feed (Trust.md).
    private var key: SiteKey
    private var clock: HybridClock
    /// The site's last event: its sequence number and id; nil for an empty feed.
    public var head: (seq: SequenceNumber, id: EventID)? { heads[journal.site] }
    /// Every feed's last event in this journal: the version vector's entries.
    public private(set) var heads: [SiteID: (seq: SequenceNumber, id: EventID)] = [:]
    /// The actor recorded when a draft names none. Defaults to the site's name.
    public var defaultActor: String
    /// Events in the journal, of all sites.
    public private(set) var eventCount = 0

    /// Releases the writer lock; later appends fail.
    public func close() {
        cacheFile.closeFile()
        writer.close()
    }

    /// `cache/heads.json`, rewritten in place after each append.
    private let cacheFile: HeadsCacheFile
    /// The journal directory, held open so that the `RESTORED` check before each append looks
    /// up one name rather than a whole path (a quarter of the CPU time of an append otherwise
    /// went to its lookup and the signature).
    private let directoryFD: Int32

    /// ``EventJournal/isRestoreHeld``, through the held directory.
    private var isRestoreHeld: Bool {
        directoryFD >= 0 ? faccessat(directoryFD, EventJournal.restoredFileName, F_OK, 0) == 0 : journal.isRestoreHeld
    }

    deinit {
        if directoryFD >= 0 { Glibc.close(directoryFD) }
    }

    /// What tail recovery did when the writer opened (Format.md §6).
    public var recovery: RecoveryReport? { writer.recovery }

    init(journal: EventJournal, options: SegmentWriter.Options, observe: ((Event) -> Void)?) throws {
        self.journal = journal
        cacheFile = HeadsCacheFile(journal: journal)
        directoryFD = open(journal.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        key = try journal.signingKey()
        var options = options
        if options.recoveryHint == nil {
            options.recoveryHint = { HeadsCache.load(journal)?.end }
        }
        writer = try SegmentWriter(directory: journal.directory, options: options)
        // The private key must be the one this journal publishes for its site, or, after a
        // rotation, the key in force for its feed (Trust.md "Key files"); a rotation interrupted
        // after its key event is finished here, under the writer lock.
        if let published = try journal.trustedKeys()[journal.site], published != key.publicKey || KeyRotation.hasPendingNextKey(journal) {
            let inForce = try journal.keyHistories()[journal.site]?.current
            if let inForce, inForce != key.publicKey, let finished = try KeyRotation.finishInterrupted(journal, inForce: inForce) {
                key = finished
            } else if inForce != key.publicKey {
                writer.close()
                throw AccordError(.damaged, "The private key in '\(EventJournal.keysFolder)/\(journal.site).key' does not match the public key '\(EventJournal.keysFolder)/\(journal.site).pub' that peers trust, nor the key in force after the feed's key events (Trust.md); events signed with it would be refused. Restore the right key; if a rotation or revocation with --next-key-file F was interrupted, the key in force is in F: copy F to '\(EventJournal.keysFolder)/\(journal.site).key' and F.new to F (Trust.md \"Key files\"). Nothing was appended.")
            }
        }
        defaultActor = journal.site.rawValue
        clock = HybridClock()
        // Start from the heads cache when it still matches the journal (and no observer needs
        // every event); replay only what follows it.
        // The cache only ever describes appends that were durable: a journal that now ends before
        // it has lost acknowledged batches (a deleted or truncated segment, a damaged last batch
        // cut off). Appending would reuse their sequence numbers, so refuse.
        if let recorded = HeadsCache.loadUnchecked(journal), recorded.end > writer.end {
            throw AccordError(.damaged, "The journal ends at \(writer.end) but an earlier append reached \(recorded.end) (\(recorded.events) events, recorded in '\(HeadsCache.folder)/\(HeadsCache.fileName)'): acknowledged batches are missing. Restore them from a backup, or run 'accord restored' and pull the own feed back from a peer; to accept the loss, delete '\(HeadsCache.folder)/\(HeadsCache.fileName)'. Nothing was appended.")
        }
        // A cache that does not say where the key events lie (an earlier form) is replayed
        // past once, so that the one saved next does.
        var cache = observe == nil ? HeadsCache.load(journal).flatMap { $0.keyBatches == nil ? nil : $0 } ?? .empty() : .empty()
        if cache.end > writer.end { cache = .empty() }
        for (site, feed) in cache.feeds { heads[site] = (feed.seq, feed.id) }
        clock.observe(HybridTimestamp(milliseconds: cache.clockMilliseconds, counter: cache.clockCounter))
        eventCount = cache.events
        var events = try journal.events(from: cache.end)
        var batch: [Event] = []
        var replayed = false
        while let event = try events.next() {
            eventCount += 1
            clock.observe(event.hlc)
            let previous = heads[event.site]
            let expected = previous.map { $0.seq.next } ?? SequenceNumber(1)
            guard event.seq == expected, event.prev == previous?.id else {
                throw AccordError(.damaged, "The feed of site '\(event.site)' is broken at sequence number \(event.seq) (expected \(expected)); run 'accord verify'. Nothing was appended.")
            }
            heads[event.site] = (event.seq, event.id)
            observe?(event)
            batch.append(event)
            if events.isLastOfBatch, let start = events.batchPosition {
                cache.add(batch: start, end: events.nextPosition, events: batch[...])
                replayed = true
                batch = []
            }
        }
        self.cache = cache
        if replayed { cacheFile.save(cache) }
    }

    /// The heads cache as of the last append.
    public private(set) var cache: HeadsCache = .empty()

    /// Appends `drafts` as one batch.
    /// - Parameters:
    ///   - drafts: the events, in order; at least one.
    ///   - expected: what the feed must hold first (``ExpectedSequence``).
    ///   - now: the time used for drafts without a time (tests and fixtures fix it).
    /// - Returns: the events as stored.
    /// - Throws: ``AccordError`` `.badInput` naming the draft (`line` is its 1-based position)
    ///   and field — nothing is written; `.badInput` when `expected` does not hold;
    ///   ``SegmentError`` `.diskFull`, `.io` — the journal is unchanged.
    @discardableResult
    public func append(_ drafts: [EventDraft], expecting expected: ExpectedSequence = .any, now: Timestamp? = nil) throws -> [Event] {
        try append(drafts, expecting: expected, now: now, signingWith: nil)
    }

    /// Appends one key event (Trust.md "Key events") as a batch of its own, signed by `signer`
    /// (the key in force for a rotation or an inception, the revealed next key for a
    /// revocation), checked against the feed's key history before it is written; then signs
    /// later appends with `then`.
    /// - Parameters:
    ///   - draft: a `key.*` draft about `key/<site>`.
    ///   - signer: the key that signs this batch.
    ///   - then: the key in force after it (the revealed key after a rotation or revocation).
    /// - Returns: the event as stored.
    /// - Throws: ``AccordError`` `.untrusted` when the event breaks a rule of Trust.md
    ///   "Verification" (nothing is written); as ``append(_:expecting:now:)``.
    @discardableResult
    public func appendKeyEvent(_ draft: EventDraft, signedBy signer: SiteKey, then: SiteKey) throws -> Event {
        guard draft.type.rawValue.hasPrefix("key.") else { throw AccordError(.badInput, "'\(draft.type)' is not a key event.", field: "type") }
        let event = try append([draft], expecting: .any, now: nil, signingWith: signer)[0]
        key = then
        return event
    }

    /// Each trusted site's key history as this journal holds it (``EventJournal/keyHistories(trusted:)``).
    /// - Throws: as ``EventJournal/keyHistories(trusted:)``.
    public func keyHistories() throws -> [SiteID: KeyHistory] {
        // Read each time: a peer trusted during the writer's life is seen, and what this writer
        // appended is read incrementally (``EventJournal/keyHistories(trusted:)``).
        try journal.keyHistories()
    }

    private func append(_ drafts: [EventDraft], expecting expected: ExpectedSequence, now: Timestamp?, signingWith signer: SiteKey?) throws -> [Event] {
        guard !drafts.isEmpty else { throw AccordError(.badInput, "There is nothing to append: the batch is empty.") }
        if let index = drafts.dropLast().firstIndex(where: { $0.type.rawValue.hasPrefix("key.") }) {
            throw AccordError(.badInput, "A key event must be the last event of its batch, so that it carries the signature (Trust.md \"Key events\").", field: "type").at(line: index + 1)
        }
        let signer = signer ?? key
        if isRestoreHeld {
            throw AccordError(.badInput, "This journal was marked as restored from a backup: its own appends are refused until its own feed has been pulled back from a peer ('accord sync --with PEER'; after only bundles, 'accord restored --done'), so that no sequence number is used twice.")
        }
        switch expected {
        case .any: break
        case .noEvents:
            if let head { throw AccordError(.badInput, "Expected the feed of '\(journal.site)' to be empty, but it ends at \(head.seq).") }
        case .exactly(let seq):
            guard head?.seq == seq else {
                throw AccordError(.badInput, "Expected the feed of '\(journal.site)' to end at \(seq), but it ends at \(head.map { String($0.seq.rawValue) } ?? "nothing").")
            }
        }
        let recordedAt = now ?? Timestamp.now()
        var clock = self.clock
        var head = self.head
        var events: [Event] = []
        var records: [[UInt8]] = []
        events.reserveCapacity(drafts.count)
        var seen: [SiteID: SequenceNumber] = [:]
        for (site, head) in heads where site != journal.site { seen[site] = head.seq }
        // What does not depend on the chain — the catalogue check and the canonical encoding of
        // `data` — is done for all drafts first, on both cores for a large batch; the events are
        // then chained one after the other. Errors still surface in draft order, and for one
        // draft in the order of the checks below.
        let prepared = Self.prepare(drafts)
        // What every event of the batch shares is encoded once: `seen`, and the text of the
        // last time used (a batch's drafts usually share one).
        let seenMembers = EventRecord.seenMembers(seen, site: journal.site)
        var lastTime: (time: Timestamp, text: [UInt8])?
        let latestTime = Timestamp.now().seconds + Timestamp.maxFutureSeconds
        for (index, draft) in drafts.enumerated() {
            do {
                let encodedData = try prepared[index].get()
                let actor = draft.actor ?? defaultActor
                guard ActorName.isValid(actor) else {
                    throw AccordError(.badInput, "Field 'actor' is '\(actor.prefix(60))'; an actor is a lower-case name such as 'eu-secretariat', optionally with '/' or '.'.", field: "actor")
                }
                let time = draft.time ?? recordedAt
                guard time.seconds <= latestTime else {
                    throw AccordError(.badInput, "Field 'time' is \(time), more than a day in the future; an event records what has happened (and a future time would drag every office's clock ahead).", field: "time")
                }
                let seq = head.map { $0.seq.next } ?? SequenceNumber(1)
                let hlc = try clock.tick(physical: time.milliseconds)
                let timeText: [UInt8]
                if let lastTime, lastTime.time == time, sameBytes(lastTime.time.text, time.text) {
                    timeText = lastTime.text
                } else {
                    timeText = Array(time.text.utf8)
                    lastTime = (time, timeText)
                }
                let (record, id, signature) = try EventRecord.buildRecord(
                    site: journal.site, seq: seq, prev: head?.id, timeText: timeText, hlc: hlc, seenMembers: seenMembers,
                    type: draft.type, subject: draft.subject, actor: actor, encodedData: try encodedData.get(),
                    sign: index == drafts.count - 1 ? { try signer.signature(forBatchEndingAt: $0) } : nil)
                guard record.count <= SegmentFormat.maxRecordBytes else {
                    throw AccordError(.badInput, "The event is \(record.count) bytes once stored; an event may hold at most \(SegmentFormat.maxRecordBytes) bytes.", field: "data")
                }
                records.append(record)
                events.append(Event(
                    id: id, site: journal.site, seq: seq, prev: head?.id, time: time, hlc: hlc, seen: seen, type: draft.type,
                    subject: draft.subject, actor: actor, data: draft.data, signature: signature, record: record))
                head = (seq, id)
            } catch let error as AccordError {
                throw error.at(line: index + 1)
            }
        }
        // A key event is checked against the feed's key history before it is written.
        if let last = events.last, KeyHistory.isKeyEvent(last) {
            guard var history = try keyHistories()[journal.site] else {
                throw AccordError(.notFound, "This journal has no '\(EventJournal.keysFolder)/\(journal.site).pub': its own key history is unknown. Nothing was appended.")
            }
            try history.record(last)
        }
        let position = try writer.append(records)
        journal.noteAppended(events, at: position, end: writer.end)
        self.clock = clock
        heads[journal.site] = head
        eventCount += events.count
        cache.add(batch: position, end: writer.end, events: events[...])
        // The batch was just written to the writer's open segment: its state by fstat.
        cacheFile.save(cache, segmentState: writer.segmentFileState)
        return events
    }

    /// For each draft: its catalogue check, then (if that passed) its `data` canonically
    /// encoded or the error encoding gave. The outer result fails when the catalogue check did.
    private static func prepare(_ drafts: [EventDraft]) -> [Result<Result<[UInt8], Error>, Error>] {
        func one(_ draft: EventDraft) -> Result<Result<[UInt8], Error>, Error> {
            Result {
                try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
                return Result {
                    var encoded: [UInt8] = []
                    try CanonicalJSON.encode(draft.data, into: &encoded, path: "data")
                    return encoded
                }
            }
        }
        guard drafts.count >= 64 else { return drafts.map(one) }
        // Runs of 128 drafts on every core, each result written in place.
        return ParallelSlots.map(drafts.count, run: 128, state: {}) { index, _ in one(drafts[index]) }
    }

    /// Appends another site's events verbatim, as received from that site (the core of sync).
    ///
    /// The records must be one stretch of one site's feed in sequence order. Each is decoded and
    /// checked (form, id); the stretch must continue the feed's chain here; its last event must
    /// carry a signature that verifies under the key this journal trusts for the site. Events
    /// already present (same sequence number and id) are skipped; the rest are written as one
    /// batch, byte for byte.
    /// - Returns: how many events were new.
    /// - Throws: ``AccordError`` `.untrusted` (no trusted key, or a bad signature), `.badInput`
    ///   (a gap, a broken chain, mixed sites, the own site's feed), `.damaged` (a malformed
    ///   record or a **fork**: the same sequence number with another id). Nothing is written then.
    /// - Parameter allowOwnSite: accept this journal's own feed back from a peer (only while
    ///   the journal is marked as restored from a backup).
    @discardableResult
    public func appendReplicated<Record: Collection<UInt8>>(_ records: [Record], allowOwnSite: Bool = false) throws -> Int {
        guard !records.isEmpty else { return 0 }
        // Checked in full, but their payloads are not built: they are copied, never read here.
        let events = try EventRecord.decodeAll(records).map { try $0.get() }
        return try appendReplicated(decoded: events[...], allowOwnSite: allowOwnSite)
    }

    /// ``appendReplicated(_:allowOwnSite:)`` for records that the caller decoded already
    /// (``EventRecord/decodeAll(_:alongside:)``, whose events carry their stored bytes in
    /// ``Event/record``): every check after the decode is the same — one site, an unbroken chain
    /// that continues the feed here, no fork with what is stored, the key events against the
    /// feed's key history, and the last signature under the key in force — and nothing is
    /// written unless all pass. The sync session hands over the events that ``SyncGate``
    /// decoded, so that a push is not decoded twice (issue 16).
    /// - Parameters:
    ///   - events: decoded events of one stretch of one feed, in sequence order; only an
    ///     ``Event`` that a decoder made from its ``Event/record`` may be passed (the bytes
    ///     written are `record`, the checks read the decoded fields).
    ///   - allowOwnSite: as for ``appendReplicated(_:allowOwnSite:)``.
    /// - Returns: how many events were new.
    /// - Throws: as ``appendReplicated(_:allowOwnSite:)``, except that no decode fails here.
    @discardableResult
    package func appendReplicated(decoded events: ArraySlice<Event>, allowOwnSite: Bool = false) throws -> Int {
        guard let firstIndex = events.indices.first else { return 0 }
        let site = events[firstIndex].site
        guard site != journal.site || allowOwnSite else {
            throw AccordError(.badInput, "Events of this journal's own site '\(site)' are appended by this site only, not copied in.")
        }
        guard var history = try keyHistories()[site] else {
            throw AccordError(.untrusted, "Site '\(site)' is not trusted here; add its key with 'accord peer add \(site) --key …'. Nothing was written.")
        }
        // Fields are read in place (by index): copying an `Event` retains each of its references.
        for index in events.indices.dropFirst() {
            guard events[index].site == site else {
                throw AccordError(.badInput, "A replicated batch mixes the feeds of '\(site)' and '\(events[index].site)'.")
            }
            guard events[index].seq == events[index - 1].seq.next, events[index].prev == events[index - 1].id else {
                throw AccordError(.badInput, "The incoming events of '\(site)' are not one unbroken stretch of its feed (at \(events[index].seq)). Nothing was written.")
            }
        }
        let head = heads[site]
        // The stretch is in sequence order: the known events are a prefix.
        let headSeq = head?.seq ?? SequenceNumber(0)
        let split = events.indices.first { events[$0].seq > headSeq } ?? events.endIndex
        let known = events[..<split]
        let fresh = events[split...]
        if let lastKnown = known.last {
            // Ids chain through `prev`: if the last overlapping event matches, all before it do.
            let matches = lastKnown.seq == head?.seq ? lastKnown.id == head?.id : false
            if !matches {
                let stored = try storedIDs(of: site, in: known[known.startIndex].seq...lastKnown.seq)
                if let forked = known.first(where: { stored[$0.seq] != $0.id }) {
                    throw AccordError(.fork, "Fork in feed '\(site)' at \(forked.seq): this journal holds \(stored[forked.seq]?.short ?? "another event")…, the incoming event is \(forked.id.short)…. Both stay as they are; nothing was written.")
                }
            }
        }
        if let first = fresh.first {
            let expected = head.map { $0.seq.next } ?? SequenceNumber(1)
            guard first.seq == expected, first.prev == head?.id else {
                throw AccordError(.badInput, "The incoming events of '\(site)' do not continue its feed here: expected \(expected) after \(head?.id.short ?? "nothing"), got \(first.seq). Nothing was written.")
            }
        }
        guard let last = fresh.last else { return 0 }
        // The key events of the stretch, in order, against the feed's key history; then the last
        // signature under the key in force at its place (Trust.md "Verification").
        for index in fresh.indices where KeyHistory.isKeyEvent(fresh[index]) {
            try history.record(try EventRecord.decode(fresh[index].record))
        }
        guard last.signature != nil else {
            throw AccordError(.untrusted, "The events \(fresh[fresh.startIndex].seq)…\(last.seq) of '\(site)' do not end with a valid signature of that site. Nothing was written.")
        }
        let lastEvent = try KeyHistory.isKeyEvent(last) ? EventRecord.decode(last.record) : last
        switch history.check(lastEvent) {
        case .valid: break
        case .revoked(let revocation):
            throw AccordError(.untrusted, "The events \(fresh[fresh.startIndex].seq)…\(last.seq) of '\(site)' end with a signature by the key that the site revoked from \(revocation.fromSeq) on (revocation at \(revocation.atSeq)). Nothing was written.")
        case .invalid(let why):
            throw AccordError(.untrusted, "The events \(fresh[fresh.startIndex].seq)…\(last.seq) of '\(site)' do not end with a valid signature of that site: \(why). Nothing was written.")
        }
        let position = try writer.append(fresh.map(\.record))
        journal.noteAppended(fresh, at: position, end: writer.end)
        for index in fresh.indices { clock.observe(fresh[index].hlc) }
        heads[site] = (last.seq, last.id)
        eventCount += fresh.count
        cache.add(batch: position, end: writer.end, events: fresh)
        cacheFile.save(cache, segmentState: writer.segmentFileState)
        return fresh.count
    }

    /// The ids this journal holds for `site` at the sequence numbers in `range` (one replay).
    /// - Throws: what ``EventIterator/next()`` throws.
    public func storedIDs(of site: SiteID, in range: ClosedRange<SequenceNumber>) throws -> [SequenceNumber: EventID] {
        var ids: [SequenceNumber: EventID] = [:]
        let wanted = Int(range.upperBound.rawValue - range.lowerBound.rawValue + 1)
        var events = try journal.events()
        while ids.count < wanted, let event = try events.next() {
            if event.site == site, range.contains(event.seq) { ids[event.seq] = event.id }
        }
        return ids
    }
}

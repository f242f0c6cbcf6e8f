import AccordJournal

/// Appends events to the site's own feed; see ``EventJournal/openWriter(options:)``.
///
/// Each ``append(_:expecting:)`` is one batch: all its events are checked against the
/// catalogue, chained (`seq`, `prev`), stamped with the hybrid logical clock, and the last one
/// signed; then the batch is written with one write and one `fdatasync`. Either every event of
/// the batch is durable when the call returns, or none was written.
public final class EventWriter {
    public let journal: EventJournal
    private let writer: JournalWriter
    private let key: SiteKey
    private var clock: HybridClock
    /// The site's last event: its sequence number and id; nil for an empty feed.
    public private(set) var head: (seq: SequenceNumber, id: EventID)?
    /// The actor recorded when a draft names none. Defaults to the site's name.
    public var defaultActor: String
    /// Events in the journal, of all sites.
    public private(set) var eventCount = 0

    /// What tail recovery did when the writer opened (Format.md §6).
    public var recovery: RecoveryReport? { writer.recovery }

    init(journal: EventJournal, options: JournalWriter.Options) throws {
        self.journal = journal
        key = try journal.signingKey()
        writer = try JournalWriter(directory: journal.directory, options: options)
        defaultActor = journal.site.rawValue
        clock = HybridClock()
        var events = try journal.events()
        while let event = try events.next() {
            eventCount += 1
            clock.observe(event.hlc)
            if event.site == journal.site {
                let expected = head.map { $0.seq.next } ?? SequenceNumber(1)
                guard event.seq == expected, event.prev == head?.id else {
                    throw AccordError(.damaged, "The feed of site '\(journal.site)' is broken at sequence number \(event.seq) (expected \(expected)); run 'accord verify'. Nothing was appended.")
                }
                head = (event.seq, event.id)
            }
        }
    }

    /// Appends `drafts` as one batch.
    /// - Parameters:
    ///   - drafts: the events, in order; at least one.
    ///   - expected: what the feed must hold first (``ExpectedSequence``).
    ///   - now: the time used for drafts without a time (tests and fixtures fix it).
    /// - Returns: the events as stored.
    /// - Throws: ``AccordError`` `.badInput` naming the draft (`line` is its 1-based position)
    ///   and field — nothing is written; `.badInput` when `expected` does not hold;
    ///   ``JournalError`` `.diskFull`, `.io` — the journal is unchanged.
    @discardableResult
    public func append(_ drafts: [EventDraft], expecting expected: ExpectedSequence = .any, now: Timestamp? = nil) throws -> [Event] {
        guard !drafts.isEmpty else { throw AccordError(.badInput, "There is nothing to append: the batch is empty.") }
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
        for (index, draft) in drafts.enumerated() {
            do {
                try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
                let actor = draft.actor ?? defaultActor
                guard ActorName.isValid(actor) else {
                    throw AccordError(.badInput, "Field 'actor' is '\(actor.prefix(60))'; an actor is a lower-case name such as 'eu-secretariat', optionally with '/' or '.'.", field: "actor")
                }
                let time = draft.time ?? recordedAt
                let seq = head.map { $0.seq.next } ?? SequenceNumber(1)
                let hlc = clock.tick(physical: time.milliseconds)
                let canonical = try EventRecord.canonicalBytes(
                    site: journal.site, seq: seq, prev: head?.id, time: time, hlc: hlc, type: draft.type,
                    subject: draft.subject, actor: actor, data: draft.data)
                let id = EventRecord.id(ofCanonical: canonical)
                let signature = index == drafts.count - 1 ? try key.signature(forBatchEndingAt: id) : nil
                let record = EventRecord.record(canonical: canonical, id: id, signature: signature)
                guard record.count <= JournalFormat.maxRecordBytes else {
                    throw AccordError(.badInput, "The event is \(record.count) bytes once stored; an event may hold at most \(JournalFormat.maxRecordBytes) bytes.", field: "data")
                }
                records.append(record)
                events.append(Event(
                    id: id, site: journal.site, seq: seq, prev: head?.id, time: time, hlc: hlc, type: draft.type,
                    subject: draft.subject, actor: actor, data: draft.data, signature: signature, record: record))
                head = (seq, id)
            } catch let error as AccordError {
                throw error.at(line: index + 1)
            }
        }
        try writer.append(records)
        self.clock = clock
        self.head = head
        eventCount += events.count
        return events
    }
}

import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import Synchronization

/// The journal as the pages see it: the state from the read model brought up to date on each
/// request (as `accord state` does, Format.md §9.4), the events by one streaming pass, and
/// appends through the same checks and writer as `accord append` (Journal/UI.md §4).
///
/// Reads and appends of one server are serialised by one lock, so that two requests never build
/// or write the read model at once; other processes are kept apart by the writer's `flock`.
///
/// The state and ``Facts`` are kept in memory with the position after the last batch they
/// cover: the first request builds the state from the read model (and reads the facts in one
/// pass), each later one folds only the batches appended since (by this server, `accord append`
/// or a sync). After restoring a journal from a backup, restart `accord ui`.
final class WebJournal: Sendable {
    let journal: EventJournal
    let writerOptions: SegmentWriter.Options

    /// The state and facts as of `end` (nil: the journal was empty).
    struct Cache: Sendable {
        var state: PartnershipState
        var facts: Facts
        var end: SegmentPosition?
        /// The finance charts' sums, kept with the state (Journal/UI.md §3).
        var series: FinanceSeries
        /// Every event's summary, newest first, while there are at most ``maxIndexedEvents``.
        var index: [Summary]?

        mutating func note(_ event: Event) {
            facts.note(event)
            if index != nil {
                index!.append(WebJournal.summary(of: event))
                if index!.count > WebJournal.maxIndexedEvents { index = nil }
            }
        }
    }

    private let lock = Mutex<Cache?>(nil)

    init(journal: EventJournal, writerOptions: SegmentWriter.Options) {
        self.journal = journal
        self.writerOptions = writerOptions
    }

    /// The current state: the read model and the events after it.
    func state() throws -> PartnershipState {
        try current().state
    }

    /// The state, facts and log index brought up to date: built once, then only the new
    /// batches folded.
    func current() throws -> Cache {
        try lock.withLock { cache in
            var next: Cache
            var known: Set<String>?
            if let cache {
                next = cache
            } else {
                // The state from the read model and the events after it; facts and the index
                // from one pass over all events. The pass below folds into the state what was
                // appended after the build (by another process, meanwhile); what the first pass
                // already noted is not noted twice.
                let built = try StateBuilder(journal: journal).build()
                next = Cache(state: built.state, facts: Facts(), end: built.coverage?.end, series: FinanceSeries(state: built.state), index: [])
                var all = try journal.events()
                var ids = Set<String>()
                while let event = try all.next() {
                    next.note(event)
                    ids.insert(event.id.hex)
                }
                known = ids
            }
            // Folded into a copy, kept only when the pass ends well: a damaged batch must not
            // leave half of its events folded, to be folded again by the next request.
            var events = try journal.events(from: next.end ?? .start)
            var folded = false
            while let event = try events.next() {
                next.series.fold(event, into: &next.state)
                if known?.contains(event.id.hex) != true { next.note(event) }
                folded = true
            }
            if folded { next.end = events.nextPosition }
            if folded || cache == nil {
                next.index?.sort(by: Self.newerFirst)
                cache = next
            }
            return next
        }
    }

    /// One event's summary, kept for the log.
    struct Summary: Sendable {
        var id: String
        var site: String
        var seq: UInt64
        var time: String
        var type: String
        var subject: String
        var actor: String
        /// The `name` or `title` of its data, when it has one (for the free-text search).
        var label: String?
    }

    /// Every event's summary that `include` accepts, newest first (by recorded time, then site
    /// and sequence number).
    /// - Complexity: O(journal): one streaming pass, keeping only the summaries accepted.
    func summaries(where include: (Summary) -> Bool) throws -> [Summary] {
        if let index = try current().index { return index.filter(include) }
        var kept: [Summary] = []
        try lock.withLock { _ in
            var events = try journal.events()
            while let event = try events.next() {
                let summary = Self.summary(of: event)
                if include(summary) { kept.append(summary) }
            }
        }
        kept.sort(by: Self.newerFirst)
        return kept
    }

    /// Events kept as summaries in memory for the log, at most; a larger journal is read in one
    /// pass per request instead (Journal/UI.md §8).
    static let maxIndexedEvents = 100_000

    /// The log's order: newest recorded time first, then site (bytes), then sequence number.
    static func newerFirst(_ a: Summary, _ b: Summary) -> Bool {
        if !sameBytes(a.time, b.time) { return b.time.utf8.lexicographicallyPrecedes(a.time.utf8) }
        if !sameBytes(a.site, b.site) { return b.site.utf8.lexicographicallyPrecedes(a.site.utf8) }
        return a.seq > b.seq
    }

    static func summary(of event: Event) -> Summary {
        var label: String?
        for key in ["name", "title"] {
            if case .string(let text)? = event.data[key] { label = text; break }
        }
        return Summary(id: event.id.hex, site: event.site.rawValue, seq: event.seq.rawValue, time: event.time.text,
                       type: event.type.rawValue, subject: event.subject.description, actor: event.actor, label: label)
    }

    /// One event, how its batch's signature checks, and the state of its subject just before it
    /// (the events recorded before it, Stamp order) — nil when no event has `id`.
    struct Found {
        var event: Event
        var signature: String
    }

    /// The state folded from the events recorded before `event` (``Stamp/isRecorded(before:)``),
    /// and that state with `event` folded too: what the event changed. One pass over the journal.
    func states(around event: Event) throws -> (before: PartnershipState, after: PartnershipState) {
        let target = Stamp(event)
        var before = PartnershipState()
        try lock.withLock { _ in
            var events = try journal.events()
            while let other = try events.next() {
                if Stamp(other).isRecorded(before: target), !sameBytes(other.id.hex, event.id.hex) {
                    PartnershipProjection.apply(other, to: &before)
                }
            }
        }
        var after = before
        PartnershipProjection.apply(event, to: &after)
        return (before, after)
    }

    func event(_ id: String) throws -> Found? {
        try lock.withLock { _ -> Found? in
            var events = try journal.events()
            var found: Event?
            while let event = try events.next() {
                if found == nil, sameBytes(event.id.hex, id) { found = event }
                if let target = found, events.isLastOfBatch {
                    return Found(event: target, signature: signatureStatus(of: target, batchEnd: event))
                }
            }
            return found.map { Found(event: $0, signature: "The batch holding this event is incomplete; run 'accord verify'.") }
        }
    }

    private func signatureStatus(of event: Event, batchEnd: Event) -> String {
        let own = sameBytes(event.id.hex, batchEnd.id.hex)
        let which = own ? "This event ends its batch and carries its signature" : "This event is covered by the signature on the last event of its batch (\(batchEnd.id.short)…, sequence \(batchEnd.seq))"
        guard let signature = batchEnd.signature else { return which + ", but that event carries no signature. Run 'accord verify --details'." }
        guard let key = (try? journal.currentKeys())?[event.site] else {
            return which + "; this journal trusts no key for site '\(event.site)', so it is not checked here. Run 'accord verify'."
        }
        if key.verifies(signature, forBatchEndingAt: batchEnd.id) {
            return which + ": it verifies under the key of site '\(event.site)' in force."
        }
        return which + ": it does not verify under the key of site '\(event.site)' in force (it may predate a key rotation). Run 'accord verify --details'."
    }

    /// The events about `subject` (`kind/id`), oldest first, at most `limit`, and how many there are.
    func history(of subject: String, limit: Int) throws -> (events: [Summary], total: Int) {
        let all = try summaries { sameBytes($0.subject, subject) }
        return (Array(all.reversed().prefix(limit)), all.count)
    }

    /// When each peer last exchanged events with this journal, as `accord status` shows it.
    func lastExchanges() -> [String: String] {
        var out: [String: String] = [:]
        for peer in (try? PeerStore(journal: journal).all()) ?? [] {
            if let when = peer.record?.lastExchange { out[peer.site.rawValue] = when }
        }
        return out
    }

    /// What one pass over the events tells the pages that the state does not keep: each site's
    /// last recorded time, and each funding's title (the first narrative of the latest
    /// `funding.described.v1` that has one; Journal/Import.md).
    struct Facts: Sendable {
        var lastTimes: [String: String] = [:]
        var fundingTitles: [String: String] = [:]

        /// Notes what `event` tells; noting an event twice changes nothing.
        mutating func note(_ event: Event) {
            let site = event.site.rawValue
            if lastTimes[site].map({ $0.utf8.lexicographicallyPrecedes(event.time.text.utf8) }) ?? true {
                lastTimes[site] = event.time.text
            }
            if sameBytes(event.type.rawValue, "funding.described.v1"), case .array(let narratives)? = event.data["title"],
               case .object(let first)? = narratives.first, case .string(let text)? = first["text"] {
                fundingTitles[event.subject.id] = text
            }
        }
    }

    func facts() throws -> Facts {
        try current().facts
    }

    /// Checks `draft` as `accord append` does (catalogue, then the command checks against the
    /// current state under the writer lock) and appends it as one batch with `actor`.
    /// - Returns: the event as stored.
    /// - Throws: ``AccordError`` `.badInput` naming the field; nothing is written then.
    func append(_ draft: EventDraft, actor: String?) throws -> Event {
        try lock.withLock { _ in
            try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
            let writer = try journal.openWriter(options: writerOptions)
            defer { writer.close() }
            let state = try StateBuilder(journal: journal).build().state
            var validator = CommandValidator(state: state)
            try validator.check(draft)
            if let actor { writer.defaultActor = actor }
            return try writer.append([draft])[0]
        }
    }
}

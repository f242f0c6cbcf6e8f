import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import Dispatch
import Synchronization

/// The journal as the pages see it: the state from the read model brought up to date on each
/// request (as `accord state` does, Format.md §9.4), an index of every event for the log, the
/// subject histories and the event pages (``LogIndex``), and appends through the same checks and
/// writer as `accord append` (Journal/UI.md §4, §8).
///
/// Reads and appends of one server are serialised by one lock, so that two requests never build
/// or write the read model at once; other processes are kept apart by the writer's `flock`.
///
/// The state, ``Facts`` and the index are kept in memory with the position after the last batch
/// they cover: the first request (or ``warmUp()``, which `accord ui` calls as soon as it listens)
/// builds the state from the read model, and the facts and the index from their file
/// (`cache/web.index`, ``LogIndexFile``) and the batches after it — or, without a usable file,
/// from one pass over all events; each later request folds only the batches appended since (by
/// this server, `accord append` or a sync). The file is written after a build without one, and
/// again once ``LogIndexFile/isDue(rows:inFile:)``; after restoring a journal from a backup,
/// restart `accord ui` (the file is then found stale and rebuilt).
final class WebJournal: Sendable {
    let journal: EventJournal
    let writerOptions: SegmentWriter.Options
    /// How the index file is kept.
    let persistence: Persistence

    /// How the index file (`cache/web.index`) is kept.
    enum Persistence: Sendable {
        /// Neither read nor written.
        case off
        /// Written by the request that makes it due, before it answers (tests).
        case inline
        /// Written on another thread from a copy of the index taken under the lock (`accord ui`):
        /// no request waits for the write; the next one to extend the index copies its columns once.
        case background
    }

    /// The state and facts as of `end` (nil: the journal was empty).
    struct Cache: Sendable {
        var state: PartnershipState
        var facts: Facts
        var end: SegmentPosition?
        /// The finance charts' sums, kept with the state (Journal/UI.md §3).
        var series: FinanceSeries
        /// An incomplete or damaged last batch that ended the last pass (not folded; a writer
        /// may be appending it now), for the dashboard's note; nil when the journal ends well.
        var tornTail: Damage? = nil
    }

    /// What the lock guards: the cache, and the index with the position after the last batch it
    /// holds (kept apart from ``Cache``, which requests copy, so that extending it never copies it).
    private struct Held: Sendable {
        var cache: Cache?
        var index = LogIndex()
        var indexEnd = SegmentPosition.start
        /// Rows of the index file as this server last loaded or wrote it (nil: none).
        var rowsInFile: Int?
        /// A write of the index file is under way.
        var writing = false
        /// How the first build went, for ``warmUp()``.
        var origin: String?
    }

    private let lock = Mutex(Held())
    /// Which batches the index pass keeps access points of, and how far apart (Journal/UI.md §8).
    let accessPoints: AccessPointOptions

    /// - Parameters:
    ///   - persistence: how the index file is written (``Persistence``).
    ///   - accessPoints: see ``accessPoints``; tests make them small.
    init(journal: EventJournal, writerOptions: SegmentWriter.Options, persistence: Persistence = .inline, accessPoints: AccessPointOptions = AccessPointOptions()) {
        self.journal = journal
        self.writerOptions = writerOptions
        self.persistence = persistence
        self.accessPoints = accessPoints
    }

    /// Where the iterator's current batch is, for ``LogIndex/add(_:batch:index:record:)``; kept
    /// while the batch's events are added.
    private static func place(_ events: EventIterator, reusing last: inout LogIndex.BatchPlace?) -> (LogIndex.BatchPlace, Range<Int>) {
        let position = events.batchPosition ?? .start
        if last?.position != position, let access = events.batchAccess {
            last = LogIndex.BatchPlace(position: position, framing: access.framing, points: access.points)
        }
        return (last!, events.recordRange ?? 0..<0)
    }

    /// The current state: the read model and the events after it.
    func state() throws -> PartnershipState {
        try current().state
    }

    /// The state and facts brought up to date (the index too): built once, then only the new
    /// batches folded.
    func current() throws -> Cache {
        try lock.withLock { held in try refresh(&held) }
    }

    /// Builds (or loads) and brings up to date the state, the facts and the index, as the first
    /// request would; `accord ui` calls it right after it starts listening.
    /// - Returns: one sentence for the operator: how many events are indexed and whether the
    ///   index came from its file (and how many events were read after it) or from the journal
    ///   (and why a file that was there was ignored).
    func warmUp() throws -> String {
        try lock.withLock { held in
            _ = try refresh(&held)
            return "\(held.index.count) events indexed; " + (held.origin ?? "the index was built before.")
        }
    }

    /// The log's index brought up to date (shared with the server's until either changes).
    func index() throws -> LogIndex {
        try lock.withLock { held in
            _ = try refresh(&held)
            return held.index
        }
    }

    /// Where the state held now ends (the position after the last batch folded), without
    /// bringing it up to date; nil before the first build. For tests.
    func foldedEnd() -> SegmentPosition? {
        lock.withLock { $0.cache?.end }
    }

    /// Brings the cache and the index up to date; called under the lock.
    private func refresh(_ held: inout Held) throws -> Cache {
        var next: Cache
        if let cache = held.cache {
            next = cache
        } else {
            // The state from the read model and the events after it; facts and the index from
            // their file and the batches after it, or from one pass over all events. The pass
            // below folds into the state what was appended after the build (by another
            // process, meanwhile); only what lies after the end of the first pass is noted and
            // indexed there. The index file is loaded on another thread while the state is built.
            let loading = persistence == .off ? nil : LogIndexFile.Loading(LogIndexFile(journal: journal))
            let built = try StateBuilder(journal: journal).build()
            next = Cache(state: built.state, facts: Facts(), end: built.coverage?.end, series: FinanceSeries(state: built.state))
            var index = LogIndex()
            var start = SegmentPosition.start
            var (result, milliseconds) = loading?.wait() ?? (.success(nil), 0)
            switch result {
            case .success(let loaded?):
                index = loaded.index
                next.facts = loaded.facts
                start = loaded.end
                held.rowsInFile = index.count
                held.origin = "\(index.count) loaded from '\(LogIndexFile.relativePath)' in \(milliseconds) ms"
            case .success(nil):
                held.origin = "built from the journal"
            case .failure(let rejection):
                held.origin = "built from the journal: '\(LogIndexFile.relativePath)' was ignored (\(rejection.reason))"
            }
            // `index` alone refers to the loaded columns now: the rows added below must not copy them.
            result = .success(nil)
            var all = try journal.events(from: start, accessPoints: accessPoints)
            var inBatch = 0, read = 0
            var place: LogIndex.BatchPlace?
            while let event = try all.next() {
                next.facts.note(event)
                let (batch, record) = Self.place(all, reusing: &place)
                index.add(event, batch: batch, index: inBatch, record: record)
                inBatch = all.isLastOfBatch ? 0 : inBatch + 1
                read += 1
            }
            index.settle()
            if held.rowsInFile != nil { held.origin! += ", and \(read) read after it." } else { held.origin! += "." }
            held.index = index
            held.indexEnd = all.nextPosition
        }
        // Folded in place: the held cache is let go of first, so that the state is not copied
        // (at 1M events a copy of its maps cost a page 0.2 s after each append). Each batch is
        // read whole — its events decoded and checked — before any of it is folded, noted or
        // indexed: a damaged batch leaves nothing of itself, the batches before it stay folded,
        // and `end` is the position after the last batch folded, where the next request reads
        // (and meets the damage) again.
        held.cache = nil
        defer { held.cache = next }
        var events = try journal.events(from: next.end ?? .start, accessPoints: accessPoints)
        var batch: [(event: Event, place: LogIndex.BatchPlace?, index: Int, record: Range<Int>)] = []
        var indexed = false
        defer { if indexed { held.index.settle() } }
        var inBatch = 0
        var place: LogIndex.BatchPlace?
        while let event = try events.next() {
            if (events.batchPosition ?? .start) >= held.indexEnd {
                let (at, record) = Self.place(events, reusing: &place)
                batch.append((event, at, inBatch, record))
            } else {
                batch.append((event, nil, inBatch, 0..<0))
            }
            guard events.isLastOfBatch else {
                inBatch += 1
                continue
            }
            inBatch = 0
            for item in batch {
                next.series.fold(item.event, into: &next.state)
                if let at = item.place {
                    next.facts.note(item.event)
                    held.index.add(item.event, batch: at, index: item.index, record: item.record)
                    indexed = true
                }
            }
            batch.removeAll(keepingCapacity: true)
            next.end = events.nextPosition
            if indexed { held.indexEnd = events.nextPosition }
        }
        next.tornTail = events.tornTail
        // Settled before the index file is written from it (the write needs a settled index).
        if indexed {
            held.index.settle()
            indexed = false
        }
        if persistence != .off, !held.writing, LogIndexFile.isDue(rows: held.index.count, inFile: held.rowsInFile) {
            writeIndexFile(&held, facts: next.facts)
        }
        return next
    }

    /// Writes the index file from the index and `facts` as held now; called under the lock. A
    /// failure (a read-only journal, a full disk) is ignored: the index stays in memory, and the
    /// next write is tried once as many rows again are added.
    private func writeIndexFile(_ held: inout Held, facts: Facts) {
        let (index, end) = (held.index, held.indexEnd)
        held.rowsInFile = index.count
        let file = LogIndexFile(journal: journal)
        switch persistence {
        case .off:
            return
        case .inline:
            try? file.write(index, facts: facts, end: end)
        case .background:
            held.writing = true
            DispatchQueue.global(qos: .utility).async { [self] in
                try? file.write(index, facts: facts, end: end)
                lock.withLock { $0.writing = false }
            }
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

    /// One page of the log: the events `filter` accepts, newest first (by recorded time, then
    /// site and sequence number), the page `filter.page` of them (the last page when there are
    /// fewer), and how many there are.
    /// - Complexity: O(events) comparisons of numbers over the index, plus one byte search per
    ///   distinct name, title or subject for `q`; no journal reads.
    func log(_ filter: EventPages.Filter, pageSize: Int) throws -> (events: [Summary], total: Int, page: Int) {
        try lock.withLock { held in
            _ = try refresh(&held)
            let index = held.index
            let texts = index.texts
            // A filter value no event has: nothing matches.
            func id(_ text: String?) -> UInt32?? {
                guard let text else { return .some(nil) }
                return texts.id(of: text).map { .some($0) } ?? nil
            }
            guard case .some(let type) = id(filter.type), case .some(let subject) = id(filter.subject),
                  case .some(let site) = id(filter.site) else { return ([], 0, 1) }
            let from = filter.from.map { Array($0.utf8) }, to = filter.to.map { Array($0.utf8) }
            let needle = filter.q.map { Array($0.utf8) }
            // Per text id: 0 not yet searched, 1 no match, 2 match.
            var found = [UInt8](repeating: 0, count: needle == nil ? 0 : texts.count)
            func matches(_ text: UInt32) -> Bool {
                if found[Int(text)] == 0 { found[Int(text)] = Self.occurs(needle!, in: texts.bytes(text)) ? 2 : 1 }
                return found[Int(text)] == 2
            }
            var accepted: [UInt32] = []
            for row in index.order {
                let r = Int(row)
                if let type, index.types[r] != type { continue }
                if let subject, index.subjects[r] != subject { continue }
                if let site, index.sites[r] != site { continue }
                if from != nil || to != nil, !index.dayWithin(r, from: from, to: to) { continue }
                if needle != nil {
                    let label = index.labels[r]
                    guard (label != LogIndex.noLabel && matches(label)) || matches(index.subjects[r]) else { continue }
                }
                accepted.append(row)
            }
            let pages = max(1, (accepted.count + pageSize - 1) / pageSize)
            let page = min(filter.page, pages)
            let shown = accepted.dropFirst((page - 1) * pageSize).prefix(pageSize).map { index.summary(Int($0)) }
            return (shown, accepted.count, page)
        }
    }

    /// Whether `needle` occurs in `haystack`, as bytes (``EventPages/contains(_:_:)`` without
    /// copying the haystack).
    static func occurs(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var start = haystack.startIndex
        while start <= haystack.endIndex - needle.count {
            if haystack[start] == first, haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }

    /// The log's order: newest recorded time first, then site (bytes), then sequence number.
    static func newerFirst(_ a: Summary, _ b: Summary) -> Bool {
        if !sameBytes(a.time, b.time) { return b.time.utf8.lexicographicallyPrecedes(a.time.utf8) }
        if !sameBytes(a.site, b.site) { return b.site.utf8.lexicographicallyPrecedes(a.site.utf8) }
        return a.seq > b.seq
    }

    /// The `name` or `title` of the event's data, when it has one as text.
    static func label(of event: Event) -> String? {
        for key in ["name", "title"] {
            if case .string(let text)? = event.data[key] { return text }
        }
        return nil
    }

    static func summary(of event: Event) -> Summary {
        Summary(id: event.id.hex, site: event.site.rawValue, seq: event.seq.rawValue, time: event.time.text,
                type: event.type.rawValue, subject: event.subject.description, actor: event.actor, label: label(of: event))
    }

    /// Runs `body` under the lock with the index brought up to date (the event pages,
    /// `WebJournal+Events.swift`); `body` must not call back into this journal.
    func withCurrentIndex<T>(_ body: (LogIndex) throws -> T) throws -> T {
        try lock.withLock { held in
            _ = try refresh(&held)
            return try body(held.index)
        }
    }

    /// The events about `subject` (`kind/id`), oldest first, at most `limit`, and how many there
    /// are — from the index, without reading the journal.
    func history(of subject: String, limit: Int) throws -> (events: [Summary], total: Int) {
        try lock.withLock { held in
            _ = try refresh(&held)
            let index = held.index
            guard let id = index.texts.id(of: subject) else { return ([], 0) }
            var rows: [Int] = []
            var total = 0
            for row in index.order.reversed() where index.subjects[Int(row)] == id {
                total += 1
                if rows.count < limit { rows.append(Int(row)) }
            }
            return (rows.map { index.summary($0) }, total)
        }
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
        try lock.withLock { held in
            try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
            let writer = try journal.openWriter(options: writerOptions)
            defer { writer.close() }
            // Under the writer's lock no other process appends: the held state, brought up to
            // date, is what `accord append` would build from the read model (at 1M events of many
            // subjects that build took 2.3 s and 0.9 GB more).
            var validator = CommandValidator(state: try refresh(&held).state)
            try validator.check(draft)
            if let actor { writer.defaultActor = actor }
            return try writer.append([draft])[0]
        }
    }
}

import AccordModel
import AccordStore

/// The checks of a bundle against a journal before anything of it is applied: its header's
/// signature under the source's key in force (Trust.md "Transport", bundles), the gate, each
/// feed's chain, what the header says it brings (SyncProtocol.md §4.2), and forks.
extension Bundle {
    /// Checks the header against `journal`: the partnership, that its source is a site this
    /// journal trusts, and that the header's signature verifies under the source's key in force
    /// (SyncProtocol.md §4.2; Trust.md "Transport").
    ///
    /// The key in force is the one after the key events this journal holds of the source's feed
    /// — or, when the header does not verify under it, the one after the key events that the
    /// bundle itself carries of that feed (an inception and rotations made since the receiver
    /// last heard of the source): those are first passed through ``SyncGate`` like every event
    /// (form, id, the signature under the key in force at their place, the rules of key events)
    /// and must chain, through `prev`, to the last event this journal holds of the feed. Nothing
    /// is written.
    ///
    /// ```swift
    /// let bundle = try Bundle.read(path)          // no journal: header not checked yet
    /// try bundle.checkHeader(against: journal)    // also done by verify(against:)
    /// ```
    /// - Throws: ``AccordError`` `.badInput` (another partnership), `.untrusted` (an unknown
    ///   source, a signature that does not verify, no signature); what ``SyncGate/admit(_:histories:heads:now:source:)``
    ///   throws for the source's records when they are needed.
    public func checkHeader(against journal: EventJournal) throws {
        let (site, history) = try trustedSource(in: journal)
        let (signature, message) = try signedHeader()
        if history.current.verifies(signature, message: message) { return }
        let carried = try Self.keyHistory(of: site, after: history, carriedBy: records, in: journal)
        guard carried.lastKeyEventSeq > history.lastKeyEventSeq, carried.current.verifies(signature, message: message) else {
            throw headerRefusal(site, carried: carried.lastKeyEventSeq > history.lastKeyEventSeq)
        }
    }

    /// The part of ``checkHeader(against:)`` done before the records are inflated (Trust.md
    /// "Transport", bundles): the partnership, the source, and the signature under the key in
    /// force after the key events this journal holds.
    /// - Returns: true when the header verified; false when it may verify under a key that the
    ///   bundle's own key events reveal: the bundle brings the source's feed from no later than
    ///   the event after this journal's copy to beyond its last key event held here. Then the
    ///   caller reads the records, within the header's declared `bytes` (at most
    ///   ``maxRecordBytes``), and calls ``checkHeader(against:)``; any other header is refused
    ///   before the records are inflated.
    /// - Throws: as ``checkHeader(against:)``, when the header cannot verify.
    func checkHeaderBeforeRecords(against journal: EventJournal) throws -> Bool {
        let (site, history) = try trustedSource(in: journal)
        let (signature, message) = try signedHeader()
        if history.current.verifies(signature, message: message) { return true }
        guard let span = brings[site], span.first <= (try journal.versionVector().seq(site)).next, span.last > history.lastKeyEventSeq else {
            throw headerRefusal(site, carried: false)
        }
        return false
    }

    private func trustedSource(in journal: EventJournal) throws -> (SiteID, KeyHistory) {
        guard partnership == journal.partnership else {
            throw AccordError(.badInput, "The bundle is for partnership '\(partnership)', this journal records '\(journal.partnership)'. Nothing was applied.")
        }
        guard let site = try? SiteID(source), let history = try journal.keyHistories()[site] else {
            throw AccordError(.untrusted, "The bundle was made by site '\(source)', which this journal does not trust; add its key with 'accord peer add \(source) --key …'. Nothing was applied.")
        }
        return (site, history)
    }

    private func signedHeader() throws -> (signature: [UInt8], message: [UInt8]) {
        let message = Array(Self.signaturePrefix.utf8) + (try unsignedHeader())
        if let headerSignature { return (headerSignature, message) }
        if let signingKey { return (try signingKey.sign(message), message) }
        throw AccordError(.untrusted, "The bundle's header is not signed. Nothing was applied.")
    }

    func headerRefusal(_ site: SiteID, carried: Bool) -> AccordError {
        AccordError(.untrusted, "The signature on the bundle's header does not verify under the key in force for its source '\(site)' (after the key events this journal holds\(carried ? " and those the bundle carries" : "")): the header was changed or made by someone else, or the source rotated its key and this journal holds neither the rotation nor the commitment to the new key. Nothing was applied; get the source's key events by another path (a bundle from it made for everything, or a third office) and try again.")
    }

    /// The key history of `site` after the key events of its feed that `records` carry and that
    /// pass the gate, up to the first gap: the events from the one after this journal's copy on,
    /// each linking by `prev` to the one before (Trust.md "Transport", bundles).
    /// - Throws: what ``SyncGate/admit(_:histories:heads:now:source:)`` throws for the site's records.
    static func keyHistory(of site: SiteID, after history: KeyHistory, carriedBy records: [[UInt8]], in journal: EventJournal) throws -> KeyHistory {
        let own = records.filter { (try? EventRecord.decode($0))?.site == site }
        guard !own.isEmpty else { return history }
        let head = try journal.versionVector().entries[site]
        let admitted = try SyncGate.admit(own, histories: [site: history], heads: [site: head?.seq ?? SequenceNumber(0)], source: "Event (of the bundle)")
        let feed = admitted.bySite[site] ?? [:]
        var result = history
        var seq = head?.seq ?? SequenceNumber(0)
        var prev = head?.id
        while let event = feed[seq.next], event.prev == prev {
            if KeyHistory.isKeyEvent(event) { try result.record(event) }
            seq = event.seq
            prev = event.id
        }
        return result
    }

    /// Checks the bundle against `journal` without writing anything: the header
    /// (``checkHeader(against:)``), then the gate every transport passes (``SyncGate``: every
    /// record's form and id, trust, signatures, coverage, clock readings), each feed's chain,
    /// that what the header says it brings is what it holds. Returns what applying would leave
    /// pending. (Forks against the journal: ``forks(against:)``.)
    /// - Throws: ``AccordError`` `.badInput` (another partnership, a header that lies, an `hlc`
    ///   too far ahead), `.untrusted` (an unsigned or forged header, an unknown site, a bad
    ///   signature), `.damaged`; ``SyncError`` `.fork` (two signed events at one place).
    public func verify(against journal: EventJournal) throws -> [String] {
        try verify(against: journal, events: try decodedEvents())
    }

    /// The bundle's records decoded, in order, as ``verify(against:events:)`` and
    /// ``SyncSession/apply(_:events:)`` take them (``SyncGate/decode(_:source:)``).
    /// - Throws: ``AccordError`` `.damaged` naming the first record that is not a valid event.
    public func decodedEvents() throws -> [Event] {
        try SyncGate.decode(records, source: "Event (of the bundle)")
    }

    /// ``verify(against:)`` with the records decoded already (``decodedEvents()``), so that
    /// the caller that then applies them decodes them once.
    /// - Parameter gate: false when the caller passes `events` to
    ///   ``SyncSession/apply(_:events:)`` next, which runs the same gate (``SyncGate``) under
    ///   the writer lock before anything is written: the checks are not repeated, so a bundle
    ///   whose chain and signatures are both wrong is refused for its chain first.
    public func verify(against journal: EventJournal, events: [Event], gate: Bool = true) throws -> [String] {
        try checkHeader(against: journal)
        if gate {
            _ = try SyncGate.admit(events: events, histories: try journal.keyHistories(), heads: try journal.versionVector().entries.mapValues(\.seq))
        }
        // Each site's last event so far, by its index in `events` (an `Event` is not copied).
        var last: [SiteID: Int] = [:]
        for index in events.indices {
            let site = events[index].site
            if let previous = last[site], events[index].seq != events[previous].seq.next || events[index].prev != events[previous].id {
                throw AccordError(.badInput, "The bundle's events of site '\(site)' do not chain at \(events[index].seq). Nothing was applied.")
            }
            last[site] = index
        }
        for (site, span) in brings {
            guard let index = last[site], events[index].seq == span.last, events[index].id == span.lastID, events[index].signature != nil else {
                throw AccordError(.badInput, "The bundle's header says it brings '\(site)' up to \(span.last), but its events do not end there with a signed event. Nothing was applied.")
            }
        }
        guard Set(last.keys) == Set(brings.keys) else {
            throw AccordError(.badInput, "The bundle holds events of sites its header does not name. Nothing was applied.")
        }
        var notes: [String] = []
        let have = try journal.versionVector()
        for (site, span) in brings.sorted(by: { $0.key < $1.key }) where have.seq(site).next < span.first {
            notes.append("feed '\(site)': the bundle starts at \(span.first) but this journal holds only up to \(have.seq(site)); those events will wait as pending")
        }
        return notes
    }

    /// The forks applying the bundle would find: feeds where it holds another event than
    /// `journal` at a place both hold, or starts right after the journal's head with an event
    /// that does not link to it (SyncProtocol.md §6.1). Reads the journal only when the bundle
    /// overlaps it. Call after ``verify(against:)``.
    /// - Returns: one line per forked feed ("fork in feed 'astana' at 41: …"); empty when none.
    /// - Throws: ``AccordError`` for a record that is not an event; ``SegmentError`` for a
    ///   failed read of the journal.
    public func forks(against journal: EventJournal) throws -> [String] {
        let have = try journal.versionVector()
        var overlap: [SiteID: [SequenceNumber: EventID]] = [:]
        var forked: [SiteID: SequenceNumber] = [:]
        for record in records {
            let event = try EventRecord.decode(record)
            let head = have.seq(event.site)
            if event.seq <= head {
                overlap[event.site, default: [:]][event.seq] = event.id
            } else if event.seq == head.next, head.rawValue > 0, let headID = have.entries[event.site]?.id, event.prev != headID {
                forked[event.site] = head
            }
        }
        if !overlap.isEmpty {
            var events = try journal.events()
            while let event = try events.next() {
                guard let theirs = overlap[event.site]?[event.seq], theirs != event.id else { continue }
                forked[event.site] = min(forked[event.site] ?? event.seq, event.seq)
            }
        }
        return forked.keys.sorted().map { site in
            "fork in feed '\(site)' at \(forked[site]!): the bundle holds another signed version of that feed than this journal"
        }
    }
}

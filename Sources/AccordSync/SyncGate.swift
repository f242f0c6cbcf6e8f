import AccordModel

/// The one gate that every transport's input passes before anything of it is written, kept
/// pending or quarantined, or raises an alarm (SyncProtocol.md §3.1): directories, bundles and
/// HTTP alike.
///
/// It decodes every record, requires a trusted site and a valid signature wherever one is
/// carried, keeps only what a signature chain covers (a signed event and the events its `prev`
/// links reach back through the input), refuses a covered `hlc` more than
/// ``maxClockLeadMilliseconds`` ahead of this office's clock, and refuses two different covered
/// events at one place of a feed.
public enum SyncGate {
    /// How far a replicated `hlc` reading may be ahead of this office's clock: 2 days
    /// (172,800,000 ms). A writer accepts an event `time` up to a day ahead of its own clock
    /// (Format.md §7.1), and two offices' clocks may disagree by up to a day more; a reading
    /// beyond that would drag every journal's clock ahead for good (SyncProtocol.md §9).
    public static let maxClockLeadMilliseconds: Int64 = 2 * 86_400_000

    /// What passed the gate.
    public struct Admitted: Sendable {
        /// The covered events of each site, in `seq` order, each `seq` once.
        public var feeds: [SiteID: [Event]]
        /// The covered events, by site and sequence number (``feeds`` as maps).
        public var bySite: [SiteID: [SequenceNumber: Event]] {
            feeds.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0.seq, $0) }) }
        }
        /// Records dropped because no valid signature chain covers them.
        public var notCovered: Int
        /// Signed stretches whose signature verifies only under a key that its site revoked for
        /// that place (Trust.md "Revocation"), and that no valid signature covers: kept apart,
        /// never merged, each with the reason.
        public var revoked: [RevokedStretch] = []
    }

    /// Events signed by a revoked key (Trust.md "Revocation"): the signed event and the events of
    /// the input its `prev` links reach back through, that no valid signature covers.
    public struct RevokedStretch: Sendable {
        /// The site whose revoked key signed them.
        public let site: SiteID
        /// The records, in `seq` order; the last one carries the signature.
        public let records: [[UInt8]]
        /// The first and last sequence numbers.
        public let first: SequenceNumber, last: SequenceNumber
        /// The revocation that covers them.
        public let revocation: KeyHistory.Revocation
        /// "events 12…14 of site 'astana' are signed by the key it revoked from 12 on (revocation at 15, 3f2a…)".
        public var reason: String {
            "events \(first)…\(last) of site '\(site)' are signed by the key that the site revoked from \(revocation.fromSeq) on (revocation at \(revocation.atSeq), \(revocation.eventID.short)…)"
        }
    }

    /// Checks `records` against the anchors `keys` alone, as if no site had key events here
    /// (tests, and inputs checked without a journal); see ``admit(_:histories:heads:now:source:)``.
    public static func admit<Record: Collection<UInt8>>(_ records: [Record], keys: [SiteID: SitePublicKey], now: Timestamp = .now(), source: String = "Received record") throws -> Admitted {
        try admit(records, histories: keys.mapValues { KeyHistory(anchor: $0) }, now: now, source: source)
    }

    /// Checks `records` (stored event records, of any sites, in any order).
    ///
    /// Signatures are checked under the key in force for each (site, seq) (Trust.md
    /// "Verification"): `histories` as this journal holds them, extended by the key events of the
    /// input itself, in `seq` order. Where the input does not hold every event between the
    /// journal's head (`heads`) and a signed event, a key event in that gap may be missing: a
    /// signature that does not verify there is not refused but left uncovered (sent again once
    /// the gap is filled); one that does, is checked again when it is written
    /// (``EventWriter/appendReplicated(_:allowOwnSite:)``).
    /// - Parameters:
    ///   - records: what was received.
    ///   - histories: each trusted site's key history (``EventWriter/keyHistories()``).
    ///   - heads: the last sequence number this journal holds of each feed.
    ///   - now: this office's clock.
    ///   - source: how messages name the input ("Received record", "Event … of the bundle").
    /// - Returns: the covered events; what is not covered is only counted; what a revoked key
    ///   signed is returned apart (``Admitted/revoked``).
    /// - Throws: ``AccordError`` `.damaged` (a record is not a valid event), `.untrusted` (an
    ///   unknown site, a signature that does not verify under the key in force, a key event that
    ///   breaks a rule of Trust.md), `.badInput` (a covered `hlc` too far ahead, field `hlc`);
    ///   ``SyncError`` ``SyncError/Code/fork`` (two different covered events at one place).
    ///   Each message ends "Nothing was written."
    public static func admit<Record: Collection<UInt8>>(_ records: [Record], histories: [SiteID: KeyHistory], heads: [SiteID: SequenceNumber] = [:], now: Timestamp = .now(), source: String = "Received record") throws -> Admitted {
        try admit(events: decode(records, source: source), histories: histories, heads: heads, now: now)
    }

    /// Decodes `records` for ``admit(events:histories:heads:now:)``, a large input on every
    /// core at once (``EventRecord/decodeAll(_:alongside:)``), so that a caller that checks the
    /// same records twice (a bundle's ``Bundle/verify(against:events:)``, then
    /// ``SyncSession/apply(_:events:)``) decodes them once.
    /// - Throws: ``AccordError`` `.damaged` naming the first record that is not a valid event
    ///   (its 1-based position after `source`), with "Nothing was written."
    public static func decode<Record: Collection<UInt8>>(_ records: [Record], source: String = "Received record") throws -> [Event] {
        var events: [Event] = []
        events.reserveCapacity(records.count)
        for (index, result) in EventRecord.decodeAll(records).enumerated() {
            do {
                events.append(try result.get())
            } catch let error as AccordError {
                throw AccordError(.damaged, "\(source) \(index + 1) is not a valid event: \(error.message) Nothing was written.", field: error.field)
            }
        }
        return events
    }

    /// ``admit(_:histories:heads:now:source:)`` for records already decoded
    /// (``decode(_:source:)``), in the order received.
    public static func admit(events: [Event], histories: [SiteID: KeyHistory], heads: [SiteID: SequenceNumber] = [:], now: Timestamp = .now()) throws -> Admitted {
        if let admitted = admitChains(events, histories: histories, heads: heads, now: now) { return admitted }
        return try admitAnyOrder(events, histories: histories, heads: heads, now: now)
    }

    /// ``admit(events:histories:heads:now:)`` for any input: every event indexed by id and
    /// place, coverage walked back from each signed event through `prev` links.
    package static func admitAnyOrder(_ events: [Event], histories: [SiteID: KeyHistory], heads: [SiteID: SequenceNumber] = [:], now: Timestamp = .now()) throws -> Admitted {
        // Events are carried by their index in `events`, never copied until they are admitted:
        // copying an `Event` retains each of its references, and a push holds tens of
        // thousands of them (issue 16).
        var bySiteID: [SiteID: [EventID: Int]] = [:]
        var signedEvents: [Int] = []
        var seqsBySite: [SiteID: Set<SequenceNumber>] = [:]
        var total = 0
        for index in events.indices {
            let site = events[index].site
            guard histories[site] != nil else {
                throw AccordError(.untrusted, "Received events of site '\(site)', which this journal does not trust; add its key with 'accord peer add \(site) --key …'. Nothing was written.")
            }
            if events[index].signature != nil { signedEvents.append(index) }
            if bySiteID[site]?[events[index].id] == nil { total += 1 }
            bySiteID[site, default: [:]][events[index].id] = index
            seqsBySite[site, default: []].insert(events[index].seq)
        }
        // How far each feed is known without a gap: the journal's head, then the input's events.
        var knownThrough: [SiteID: SequenceNumber] = [:]
        for (site, seqs) in seqsBySite {
            var through = heads[site] ?? SequenceNumber(0)
            while seqs.contains(through.next) { through = through.next }
            knownThrough[site] = through
        }
        // A signed event at `seq` is checked for certain when every event before it is known.
        func isCertain(_ event: Event) -> Bool { event.seq <= (knownThrough[event.site] ?? SequenceNumber(0)).next }
        // The key events of the input, in `seq` order, extend the histories (Trust.md "Verification").
        var histories = histories
        var uncheckable: [SiteID: SequenceNumber] = [:]
        for site in seqsBySite.keys.sorted() {
            let keyEvents = signedEvents.filter { events[$0].site == site && KeyHistory.isKeyEvent(events[$0]) }.sorted { events[$0].seq < events[$1].seq }
            for index in keyEvents {
                let event = events[index]
                do {
                    try histories[site]!.record(event)
                } catch let error as AccordError {
                    guard isCertain(event) else {
                        uncheckable[site] = event.seq
                        break
                    }
                    throw AccordError(.untrusted, error.message + " Nothing was written.", field: error.field)
                }
            }
        }
        var signed: [Int] = []
        var revokedStarts: [(Event, KeyHistory.Revocation)] = []
        for index in signedEvents {
            if let stop = uncheckable[events[index].site], events[index].seq >= stop { continue }
            switch histories[events[index].site]!.check(events[index]) {
            case .valid:
                signed.append(index)
            case .revoked(let revocation):
                revokedStarts.append((events[index], revocation))
            case .invalid(let why):
                guard isCertain(events[index]) else { continue }
                throw AccordError(.untrusted, "Refused: \(why). Nothing was written.")
            }
        }
        // Coverage: from each signed event back through `prev` links, one place at a time.
        var bySite: [SiteID: [SequenceNumber: Event]] = [:]
        var covered = 0
        var visited = Set<EventID>()
        let latest = now.milliseconds + maxClockLeadMilliseconds
        for start in signed where !visited.contains(events[start].id) {
            var current: Int? = start
            while let index = current, visited.insert(events[index].id).inserted {
                let site = events[index].site, seq = events[index].seq
                covered += 1
                if events[index].hlc.milliseconds > latest {
                    throw AccordError(.badInput, "Event \(seq) of site '\(site)' carries the clock reading \(events[index].hlc), more than \(maxClockLeadMilliseconds / 86_400_000) days ahead of this office's clock (\(now.milliseconds) ms): that site's clock is wrong, or the event was made to drag every office's clock ahead. Check the clocks of both offices; the site must set its clock right (SyncProtocol.md §9). Nothing was written.", field: "hlc")
                }
                if let other = bySite[site]?[seq], other.id != events[index].id {
                    throw SyncError(.fork, "Fork in feed '\(site)' at \(seq): the input itself holds two different signed events there. Nothing was written.")
                }
                bySite[site, default: [:]][seq] = events[index]
                current = events[index].prev.flatMap { bySiteID[site]?[$0] }.flatMap { events[$0].seq.next == seq ? $0 : nil }
            }
        }
        // What a revoked key signed and no valid signature covers: kept apart, with the reason.
        var revoked: [RevokedStretch] = []
        // Latest first, so that one stretch holds a whole chain the revoked key signed.
        for (start, revocation) in revokedStarts.sorted(by: { ($0.0.site, $1.0.seq) < ($1.0.site, $0.0.seq) }) where !visited.contains(start.id) {
            var stretch: [Event] = []
            var current: Event? = start
            while let event = current, visited.insert(event.id).inserted {
                stretch.append(event)
                current = event.prev.flatMap { bySiteID[event.site]?[$0] }.flatMap { events[$0].seq.next == event.seq ? events[$0] : nil }
            }
            guard !stretch.isEmpty else { continue }
            covered += stretch.count
            stretch.reverse()
            revoked.append(RevokedStretch(site: start.site, records: stretch.map(\.record), first: stretch[0].seq, last: start.seq, revocation: revocation))
        }
        return Admitted(feeds: bySite.mapValues { $0.values.sorted { $0.seq < $1.seq } }, notCovered: total - covered, revoked: revoked)
    }
}

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
        /// The covered events, by site and sequence number.
        public var bySite: [SiteID: [SequenceNumber: Event]]
        /// Records dropped because no valid signature chain covers them.
        public var notCovered: Int
    }

    /// Checks `records` (stored event records, of any sites, in any order).
    /// - Parameters:
    ///   - records: what was received.
    ///   - keys: the keys this journal trusts (``EventJournal/trustedKeys()``).
    ///   - now: this office's clock.
    ///   - source: how messages name the input ("Received record", "Event … of the bundle").
    /// - Returns: the covered events; what is not covered is only counted.
    /// - Throws: ``AccordError`` `.damaged` (a record is not a valid event), `.untrusted` (an
    ///   unknown site, a signature that does not verify), `.badInput` (a covered `hlc` too far
    ///   ahead, field `hlc`); ``SyncError`` ``SyncError/Code/fork`` (two different covered events
    ///   at one place). Each message ends "Nothing was written."
    public static func admit<Record: Collection<UInt8>>(_ records: [Record], keys: [SiteID: SitePublicKey], now: Timestamp = .now(), source: String = "Received record") throws -> Admitted {
        var bySiteID: [SiteID: [EventID: Event]] = [:]
        var signed: [Event] = []
        var total = 0
        for (index, record) in records.enumerated() {
            let event: Event
            do {
                event = try EventRecord.decode(record)
            } catch let error as AccordError {
                throw AccordError(.damaged, "\(source) \(index + 1) is not a valid event: \(error.message) Nothing was written.", field: error.field)
            }
            guard let key = keys[event.site] else {
                throw AccordError(.untrusted, "Received events of site '\(event.site)', which this journal does not trust; add its key with 'accord peer add \(event.site) --key …'. Nothing was written.")
            }
            if let signature = event.signature {
                guard key.verifies(signature, forBatchEndingAt: event.id) else {
                    throw AccordError(.untrusted, "The signature on event \(event.seq) of site '\(event.site)' does not verify under the key trusted for it. Nothing was written.")
                }
                signed.append(event)
            }
            if bySiteID[event.site]?[event.id] == nil { total += 1 }
            bySiteID[event.site, default: [:]][event.id] = event
        }
        // Coverage: from each signed event back through `prev` links, one place at a time.
        var bySite: [SiteID: [SequenceNumber: Event]] = [:]
        var covered = 0
        var visited = Set<EventID>()
        let latest = now.milliseconds + maxClockLeadMilliseconds
        for start in signed where !visited.contains(start.id) {
            var current: Event? = start
            while let event = current, visited.insert(event.id).inserted {
                covered += 1
                if event.hlc.milliseconds > latest {
                    throw AccordError(.badInput, "Event \(event.seq) of site '\(event.site)' carries the clock reading \(event.hlc), more than \(maxClockLeadMilliseconds / 86_400_000) days ahead of this office's clock (\(now.milliseconds) ms): that site's clock is wrong, or the event was made to drag every office's clock ahead. Check the clocks of both offices; the site must set its clock right (SyncProtocol.md §9). Nothing was written.", field: "hlc")
                }
                if let other = bySite[event.site]?[event.seq], other.id != event.id {
                    throw SyncError(.fork, "Fork in feed '\(event.site)' at \(event.seq): the input itself holds two different signed events there. Nothing was written.")
                }
                bySite[event.site, default: [:]][event.seq] = event
                current = event.prev.flatMap { bySiteID[event.site]?[$0] }.flatMap { $0.seq.next == event.seq ? $0 : nil }
            }
        }
        return Admitted(bySite: bySite, notCovered: total - covered)
    }
}

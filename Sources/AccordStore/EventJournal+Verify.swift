import AccordModel
import AccordSegments

/// What ``EventJournal/verify(progress:)`` found.
public struct VerificationReport: Sendable {
    /// One site's feed as found.
    public struct Feed: Sendable {
        /// Events of the feed found.
        public var events = 0
        /// The sequence number of the feed's last event found.
        public var lastSeq = SequenceNumber(0)
        /// The id of the feed's last event found.
        public var lastID: EventID?
        /// The highest sequence number covered by a valid signature.
        public var signedThrough = SequenceNumber(0)
    }

    /// Checksums and framing of every batch.
    public var integrity: IntegrityReport
    /// Events decoded and checked.
    public var events = 0
    /// Each site's feed as found.
    public var feeds: [SiteID: Feed] = [:]
    /// Every problem found, each with its place (segment, byte offset, site, sequence number).
    public var problems: [String] = []

    /// True when no byte is damaged and every event is valid, chained and signed.
    public var isClean: Bool { integrity.isClean && problems.isEmpty }
}

extension EventJournal {
    /// Checks everything: each batch's framing and CRC-32, each record's form and id, each
    /// site's chain (`seq` 1, 2, 3 … and `prev`), and that every event is covered by a valid
    /// signature of its site under a trusted key (Format.md §6, §7).
    ///
    /// Damage does not stop the check: every damaged range and every bad event is reported.
    /// - Parameter progress: called with the count of events checked so far, every 10,000.
    /// - Complexity: O(journal size); memory O(number of sites) plus one batch.
    /// - Throws: what ``trustedKeys()`` throws; ``SegmentError`` `.io` when a segment cannot be
    ///   read. Damage and bad events are reported, not thrown.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> VerificationReport {
        let keys = try trustedKeys()
        var report = VerificationReport(integrity: IntegrityReport())
        var untrustedSites: Set<SiteID> = []
        report.integrity = try directory.scan { batch in
            for (index, record) in batch.records.enumerated() {
                let place = "record \(index + 1) of the batch at byte \(batch.offset) of '\(SegmentDirectory.relativeSegmentPath(batch.segment))'"
                let event: Event
                do {
                    event = try EventRecord.decode(record)
                } catch let error as AccordError {
                    report.problems.append("In \(place): \(error.message)")
                    continue
                }
                report.events += 1
                if let progress, report.events % 10_000 == 0 { progress(report.events) }
                var feed = report.feeds[event.site] ?? VerificationReport.Feed()
                let expected = feed.lastSeq.next
                if event.seq != expected {
                    if event.seq <= feed.lastSeq {
                        report.problems.append("In \(place): event \(event.seq) of site '\(event.site)' appears again after \(feed.lastSeq) (a duplicate or a fork).")
                    } else {
                        report.problems.append("In \(place): the feed of site '\(event.site)' jumps from \(feed.lastSeq) to \(event.seq); events are missing.")
                    }
                } else if event.prev != feed.lastID {
                    report.problems.append("In \(place): event \(event.seq) of site '\(event.site)' does not link to the id of event \(feed.lastSeq) ('prev' differs).")
                }
                if let signature = event.signature {
                    if let key = keys[event.site] {
                        if key.verifies(signature, forBatchEndingAt: event.id) {
                            if event.seq == expected { feed.signedThrough = event.seq }
                        } else {
                            report.problems.append("In \(place): the signature on event \(event.seq) of site '\(event.site)' does not verify under the trusted key.")
                        }
                    } else if !untrustedSites.contains(event.site) {
                        untrustedSites.insert(event.site)
                        report.problems.append("Site '\(event.site)' has no trusted key in '\(EventJournal.keysFolder)/'; its signatures cannot be checked. Add it with 'accord peer add'.")
                    }
                }
                if event.seq == expected {
                    feed.lastSeq = event.seq
                    feed.lastID = event.id
                }
                feed.events += 1
                report.feeds[event.site] = feed
            }
        }
        if let recorded = HeadsCache.loadUnchecked(self), recorded.events > report.events {
            report.problems.append("An earlier append reached \(recorded.events) events (\(HeadsCache.folder)/\(HeadsCache.fileName)), but the journal now holds \(report.events): acknowledged batches are missing (a deleted or truncated segment?).")
        }
        for (site, feed) in report.feeds.sorted(by: { $0.key < $1.key }) {
            if keys[site] == nil {
                if !untrustedSites.contains(site) {
                    report.problems.append("Site '\(site)' has no trusted key in '\(EventJournal.keysFolder)/'; its events cannot be authenticated. Add it with 'accord peer add'.")
                }
            } else if feed.signedThrough < feed.lastSeq {
                report.problems.append("Events \(feed.signedThrough.next)…\(feed.lastSeq) of site '\(site)' are not covered by a valid signature.")
            }
        }
        return report
    }
}

import AccordModel
import AccordSegments
import Glibc

/// What ``EventJournal/verify(progress:)`` found.
public struct VerificationReport: Sendable {
    /// One site's feed as found.
    public struct Feed: Sendable {
        /// Events of the feed found.
        public var events = 0
        /// The sequence number of the last event of the feed's chain as followed (Format.md §6):
        /// the last event that continued it, or at which checking resumed after a break.
        public var lastSeq = SequenceNumber(0)
        /// The id of that event.
        public var lastID: EventID?
        /// The highest `seq` N such that events 1…N form one unbroken chain (each `seq` one
        /// more than the one before, each `prev` the id of the one before) and event N carries
        /// a valid signature under the site's trusted key: every event up to N is authenticated
        /// (Format.md §7.4). 0 when there is none.
        public var signedThrough = SequenceNumber(0)
        /// Whether the chain broke (a jump, or a `prev` that does not match): no signature after
        /// the break raises ``signedThrough``.
        public var isBroken = false
    }

    /// Checksums and framing of every batch.
    public var integrity: IntegrityReport
    /// Records that are valid events (Format.md §7.1–§7.3), whether or not they continue their
    /// feed's chain or are signed; records that are not valid events are listed in ``problems``
    /// and counted only in ``IntegrityReport/records``.
    public var events = 0
    /// Each site's feed as found.
    public var feeds: [SiteID: Feed] = [:]
    /// Every problem found, each with its place (segment, byte offset, site, sequence number).
    public var problems: [String] = []
    /// Each site's keys over time, as its feed's key events say (Trust.md "Keys over time").
    public var keyHistories: [SiteID: KeyHistory] = [:]
    /// Events received that a revoked key signed, kept apart in `quarantine/revoked-*.jsonl`
    /// (Trust.md "Revocation"): one line per file, "site 'astana': events 12…14, signed by the
    /// key revoked from 12 on". They are not in the journal, so they are not ``problems``.
    public var revoked: [String] = []

    /// True when no byte is damaged and every event is valid, chained and signed.
    public var isClean: Bool { integrity.isClean && problems.isEmpty }
}

extension EventJournal {
    /// Checks everything: each batch's framing and CRC-32, each record's form and id, each
    /// site's chain (`seq` 1, 2, 3 … and `prev`), and that every event is covered by a valid
    /// signature of its site under a trusted key (Format.md §6, §7.4, §8).
    ///
    /// Damage does not stop the check: every damaged range, every member of another format
    /// version, every bad event, every break in a chain and every key file that does not load
    /// is reported, and the check goes on.
    /// - Parameter progress: called with the count of events checked so far, every 10,000.
    /// - Complexity: O(journal size); memory O(number of sites) plus one batch.
    /// - Throws: ``SegmentError`` `.io` when a segment cannot be read. Damage, bad events and
    ///   bad key files are reported, not thrown.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> VerificationReport {
        var report = VerificationReport(integrity: IntegrityReport())
        let keys = loadKeysForVerify(problems: &report.problems)
        var histories = keys.mapValues { KeyHistory(anchor: $0) }
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
                // Where the chain goes on from this event: nil for a duplicate or a fork, which
                // leaves the chain as it was (Format.md §6, "Chains").
                var continues = true
                if event.seq <= feed.lastSeq {
                    report.problems.append("In \(place): event \(event.seq) of site '\(event.site)' appears again after \(feed.lastSeq) (a duplicate or a fork).")
                    continues = false
                } else if event.seq != feed.lastSeq.next {
                    report.problems.append("In \(place): the feed of site '\(event.site)' jumps from \(feed.lastSeq) to \(event.seq); events are missing. Checking resumes at \(event.seq).")
                    feed.isBroken = true
                } else if event.prev != feed.lastID {
                    report.problems.append("In \(place): event \(event.seq) of site '\(event.site)' does not link to the id of event \(feed.lastSeq) ('prev' differs). Checking resumes at \(event.seq).")
                    feed.isBroken = true
                }
                if event.signature != nil {
                    if histories[event.site] != nil {
                        // Key events change the key in force from their place on (Trust.md "Verification").
                        if KeyHistory.isKeyEvent(event), continues {
                            do {
                                try histories[event.site]!.record(event)
                            } catch let error as AccordError {
                                report.problems.append("In \(place): \(error.message)")
                            }
                        }
                        switch histories[event.site]!.check(event) {
                        case .valid:
                            if continues, !feed.isBroken { feed.signedThrough = event.seq }
                        case .revoked(let revocation):
                            report.problems.append("In \(place): event \(event.seq) of site '\(event.site)' is signed by the key that the site revoked from \(revocation.fromSeq) on (revocation at \(revocation.atSeq)); it is not the site's word.")
                        case .invalid(let why):
                            let one = histories[event.site]!.epochs.count == 1
                            report.problems.append("In \(place): " + (one ? "the signature on event \(event.seq) of site '\(event.site)' does not verify under the trusted key." : why + "."))
                        }
                    } else if !untrustedSites.contains(event.site) {
                        untrustedSites.insert(event.site)
                        report.problems.append("Site '\(event.site)' has no trusted key in '\(EventJournal.keysFolder)/'; its signatures cannot be checked. Add it with 'accord peer add'.")
                    }
                }
                if continues {
                    feed.lastSeq = event.seq
                    feed.lastID = event.id
                }
                feed.events += 1
                report.feeds[event.site] = feed
            }
        }
        // The one use of the heads cache (Format.md §1, §6): it says how many events an earlier
        // append had acknowledged; fewer now means acknowledged batches are gone.
        if let recorded = HeadsCache.loadUnchecked(self), recorded.events > report.events {
            report.problems.append("An earlier append reached \(recorded.events) events (\(HeadsCache.folder)/\(HeadsCache.fileName)), but the journal now holds \(report.events): acknowledged batches are missing (a deleted or truncated segment?).")
        }
        report.keyHistories = histories
        for name in Self.revokedQuarantineFiles(in: path) {
            report.revoked.append("'\(SegmentFormat.quarantineFolder)/\(name)': events received from a peer that a revoked key signed; kept apart, never merged")
        }
        for (site, feed) in report.feeds.sorted(by: { $0.key < $1.key }) {
            if keys[site] == nil {
                if !untrustedSites.contains(site) {
                    report.problems.append("Site '\(site)' has no trusted key in '\(EventJournal.keysFolder)/'; its events cannot be authenticated. Add it with 'accord peer add'.")
                }
            } else if feed.signedThrough < feed.lastSeq {
                let why = feed.isBroken ? " that chains back to event 1 (the chain breaks, above)" : ""
                report.problems.append("Events \(feed.signedThrough.next)…\(feed.lastSeq) of site '\(site)' are not covered by a valid signature\(why).")
            }
        }
        return report
    }

    /// The names of `quarantine/revoked-*.jsonl` (Trust.md "Revocation"), sorted.
    static func revokedQuarantineFiles(in path: String) -> [String] {
        guard let dir = opendir(path + "/" + SegmentFormat.quarantineFolder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix("revoked-"), name.hasSuffix(".jsonl") { names.append(name) }
        }
        return names.sorted()
    }

    /// The trusted keys for `verify` (Format.md §8): like ``trustedKeys()``, but a key file that
    /// cannot be read or does not hold a valid key is reported in `problems` and left out (its
    /// site is then checked as a site without a trusted key), instead of failing the whole list.
    private func loadKeysForVerify(problems: inout [String]) -> [SiteID: SitePublicKey] {
        var keys: [SiteID: SitePublicKey] = [:]
        let folder = path + "/" + Self.keysFolder
        guard let dir = opendir(folder) else { return keys }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            names.append(withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            })
        }
        for name in names.sorted() {
            guard name.hasSuffix(".pub"), let site = try? SiteID(String(name.dropLast(4))) else { continue }
            do {
                let bytes = try FileBytes.read(folder + "/" + name, limit: EventJournal.maxKeyFileBytes)
                keys[site] = try SitePublicKey(base64: String(decoding: bytes, as: UTF8.self))
            } catch let error as AccordError {
                problems.append("The key file '\(Self.keysFolder)/\(name)' does not hold a valid key (\(error.message)); the events of site '\(site)' are checked as those of a site without a trusted key.")
            } catch let error as SegmentError {
                problems.append("The key file '\(Self.keysFolder)/\(name)' cannot be read (\(error.message)); the events of site '\(site)' are checked as those of a site without a trusted key.")
            } catch {
                problems.append("The key file '\(Self.keysFolder)/\(name)' cannot be read (\(error)); the events of site '\(site)' are checked as those of a site without a trusted key.")
            }
        }
        return keys
    }
}

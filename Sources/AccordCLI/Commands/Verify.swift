import AccordModel
import AccordSegments
import AccordStore
import AccordTrust
import ArgumentParser

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check checksums, chains and signatures; exit 3 on any damage.",
        discussion: """
            Checks every batch's CRC-32 and framing, every record's form and id (SHA-256), each site's \
            chain of sequence numbers and 'prev' ids, and that every event is covered by a valid signature \
            of its site under a trusted key. Damage does not stop the check: every damaged range is listed \
            with its segment and byte offset. Exit 0 when all is well, 3 otherwise.
            """)

    @OptionGroup var options: JournalOptions
    @Flag(help: "List every problem (by default the first 20).")
    var details = false
    @Option(help: "A signed checkpoint note: check that this journal's copy of its feed has its root, and name the first event that differs (Trust.md §6).")
    var checkpoint: String?

    func run() throws {
        let journal = try options.open()
        if let checkpoint {
            try verifyCheckpoint(checkpoint, journal: journal)
            return
        }
        let report = try journal.verify(progress: stderrIsTerminal ? { printProgress("checked \($0) events") } : nil)
        if stderrIsTerminal, report.events >= 10_000 { printProgress(nil) }
        let integrity = report.integrity
        var lines = ["Journal '\(journal.path)' (site '\(journal.site)'): \(integrity.segments) segment\(integrity.segments == 1 ? "" : "s"), \(integrity.batches) batches, \(report.events) events, \(integrity.bytes) bytes."]
        for (site, feed) in report.feeds.sorted(by: { $0.key < $1.key }) {
            var keys = ""
            if let history = report.keyHistories[site], !history.keyEvents.isEmpty {
                keys = "; key events at " + history.keyEvents.keys.sorted().map { String($0.rawValue) }.joined(separator: ", ")
                    + history.revocations.map { ", key revoked from \($0.fromSeq) (at \($0.atSeq))" }.joined()
            }
            lines.append("  feed '\(site)': \(feed.events) events, 1…\(feed.lastSeq), signed through \(feed.signedThrough)" + keys)
        }
        for line in report.revoked { lines.append("  ⚠ quarantined " + line) }
        let all = integrity.problems + integrity.damages.map(\.description) + report.problems
        let shown = details ? all : Array(all.prefix(20))
        for problem in shown { lines.append("  ✗ " + problem) }
        if shown.count < all.count { lines.append("  … and \(all.count - shown.count) more; run 'accord verify --details' to see all.") }
        if report.isClean {
            lines.append("OK: every checksum, chain and signature is valid.")
            writeOut(lines.joined(separator: "\n") + "\n")
        } else {
            writeOut(lines.joined(separator: "\n") + "\n")
            throw CommandFailure(status: .damaged, message: "The journal has \(all.count) problem\(all.count == 1 ? "" : "s") (listed above).")
        }
    }
}

extension Verify {
    /// `verify --checkpoint FILE`: the note's signature under the feed's trusted key (and the
    /// cosignatures of trusted witnesses), then the journal's copy of the feed against its root.
    func verifyCheckpoint(_ path: String, journal: EventJournal) throws {
        let note = try SignedNote(parsing: try readInput(path, limit: SignedNote.maxBytes + 1))
        let checkpoint = try Checkpoint(text: note.text)
        guard let feed = Checkpoint.feed(ofOrigin: checkpoint.origin) else {
            throw AccordError(.badInput, "The checkpoint's origin '\(checkpoint.origin.prefix(120))' is not an Accord feed ('accord/<partnership>/<site>', Trust.md §2.1).")
        }
        var verifiers = [try CheckpointStore.feedVerifier(for: feed.site, size: checkpoint.size, in: journal)]
        verifiers += try WitnessKeys(journal: journal).all().values
        // The journal is compared even when the signature cannot be checked here (a damaged
        // journal may hide the key event that reveals the key in force), so that the damage is named.
        var lines: [String]
        var refusal: (any Error)?
        do {
            let checked = try CheckpointAudit.check(note, verifiers: verifiers)
            lines = ["Checkpoint '\(checkpoint.origin)' size \(checkpoint.size): signed by \(checked.signedBy.joined(separator: ", "))"
                     + (checked.cosignedBy.isEmpty ? "" : "; cosigned by " + checked.cosignedBy.map(\.name).joined(separator: ", "))]
        } catch {
            refusal = error
            lines = ["Checkpoint '\(checkpoint.origin)' size \(checkpoint.size): ✗ its signature does not verify under the key in force for feed '\(feed.site)' at \(checkpoint.size + 1) after the key events this journal can read"]
        }
        let comparison = try FeedCheckpoints.compare(checkpoint, with: journal)
        for finding in comparison.findings { lines.append("  ✗ " + finding) }
        writeOut(lines.joined(separator: "\n") + "\n")
        if let refusal { throw refusal }
        guard comparison.matches else {
            throw CommandFailure(status: .damaged, message: "Feed '\(comparison.site)' of this journal differs from the checkpoint (listed above).")
        }
        writeOut("OK: the first \(checkpoint.size) events of feed '\(comparison.site)' have the checkpoint's root.\n")
    }
}

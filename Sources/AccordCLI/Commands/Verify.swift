import AccordModel
import AccordSegments
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

    func run() throws {
        let journal = try options.open()
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

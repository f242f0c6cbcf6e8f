import AccordInterchange
import AccordModel
import AccordSegments
import ArgumentParser
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the journal as CloudEvents, or its finance events as IATI activity XML.",
        subcommands: [ExportCloudEvents.self, ExportIATI.self])
}

struct ExportCloudEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudevents",
        abstract: "Every event as a CloudEvent 1.0 (structured mode): a JSON batch or JSON Lines.",
        discussion: """
            Example: accord export cloudevents --ndjson --out events.ndjson
            The envelope travels in extension attributes (accordsite, accordseq, accordprev, accordhlc, \
            accordseen, accordactor, accordsig), so 'accord import cloudevents' on a journal that trusts \
            the sites' keys reproduces the events byte for byte.
            """)

    @OptionGroup var options: JournalOptions
    @Flag(help: "JSON Lines (one event per line) instead of one JSON batch (application/cloudevents-batch+json).")
    var ndjson = false
    @Option(help: "Only the events of this site.")
    var site: String?
    @Option(help: "Write to this file (replaced atomically) instead of standard output.")
    var out: String?

    func run() throws {
        let journal = try options.open()
        let only = try site.map { try SiteID($0) }
        var buffer: [UInt8] = []
        func emit(_ bytes: [UInt8]) {
            if out != nil { buffer += bytes } else { writeOut(bytes) }
        }
        var events = try journal.events()
        var count = 0
        if !ndjson { emit(Array("[".utf8)) }
        while let event = try events.next() {
            if let only, event.site != only { continue }
            var line = try CloudEvents.encode(event, partnership: journal.partnership)
            if !ndjson { line = Array((count == 0 ? "\n" : ",\n").utf8) + line } else { line.append(0x0a) }
            emit(line)
            count += 1
        }
        if !ndjson { emit(Array((count == 0 ? "]\n" : "\n]\n").utf8)) }
        if let out {
            try FileBytes.writeAtomically(out, bytes: buffer)
            writeOut("Wrote \(count) events to '\(out)'.\n")
        }
        if let torn = events.tornTail { printError("accord: note: \(torn.description) It is not exported; run 'accord verify'.") }
    }
}

struct ExportIATI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iati",
        abstract: "The finance events as an IATI 2.03 activity file: an activity per funding.",
        discussion: "Example: accord export iati --reporting-org XI-IATI-EC_INTPA --out finance.xml")

    @OptionGroup var options: JournalOptions
    @Option(help: "The IATI organisation identifier of the publisher, e.g. XI-IATI-EC_INTPA.")
    var reportingOrg: String
    @Option(help: "The publisher's name.")
    var reportingName: String?
    @Option(help: "Write to this file (replaced atomically) instead of standard output.")
    var out: String?

    func validate() throws {
        guard !reportingOrg.isEmpty, !reportingOrg.contains(where: { $0.isWhitespace }) else {
            throw ValidationError("--reporting-org must be an IATI organisation identifier without spaces, e.g. XI-IATI-EC_INTPA.")
        }
    }

    func run() throws {
        let journal = try options.open()
        let (xml, summary) = try IATIExporter.export(journal, reportingOrg: reportingOrg, reportingName: reportingName, generated: Timestamp.now())
        if let out {
            try FileBytes.writeAtomically(out, bytes: Array(xml))
            writeOut("Wrote \(summary.activities) activities with \(summary.transactions) transactions to '\(out)'.\n")
        } else {
            writeOut(Array(xml) + [0x0a])
        }
    }
}

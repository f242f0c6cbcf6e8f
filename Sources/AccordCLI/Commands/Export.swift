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
        abstract: "The finance events as an IATI 2.03 activity file that validates against the official schema.",
        discussion: """
            Example: accord export iati --reporting-org XI-IATI-EC_INTPA --reporting-org-type 15 --out finance.xml
            One activity per funding with finance events. What an IATI import kept (title, descriptions, \
            status, dates, reporting and participating organisations) is written as read; what Accord \
            does not record is derived where it can be and listed under 'not supplied by Accord'. \
            --reporting-org and --reporting-org-type are needed for fundings without a recorded \
            reporting organisation (those recorded in Accord, not imported).
            """)

    @OptionGroup var options: JournalOptions
    @Option(help: "The IATI organisation identifier of the publisher, e.g. XI-IATI-EC_INTPA (for fundings without a recorded one).")
    var reportingOrg: String?
    @Option(help: "The publisher's IATI OrganisationType code, e.g. 10 government, 15 other public sector, 40 multilateral (for fundings without a recorded one).")
    var reportingOrgType: String?
    @Option(help: "The publisher's name.")
    var reportingName: String?
    @Option(help: "Write to this file (replaced atomically) instead of standard output.")
    var out: String?

    func validate() throws {
        if let reportingOrg, reportingOrg.isEmpty || reportingOrg.contains(where: { $0.isWhitespace }) {
            throw ValidationError("--reporting-org must be an IATI organisation identifier without spaces, e.g. XI-IATI-EC_INTPA.")
        }
        if let reportingOrgType, !IATIExporter.organisationTypes.contains(reportingOrgType) {
            throw ValidationError("--reporting-org-type '\(reportingOrgType.prefix(20))' is not in the IATI OrganisationType codelist: \(IATIExporter.organisationTypes.joined(separator: ", ")).")
        }
    }

    func run() throws {
        let journal = try options.open()
        let settings = IATIExporter.Options(reportingOrg: reportingOrg, reportingOrgType: reportingOrgType, reportingName: reportingName)
        let (xml, summary) = try IATIExporter.export(journal, options: settings, generated: Timestamp.now())
        var notes = ""
        if !summary.notSupplied.isEmpty {
            notes = "Not supplied by Accord (written instead, per activity):\n"
            for (what, count) in summary.notSupplied { notes += "  \(what): \(count) of \(summary.activities) activities\n" }
        }
        if let out {
            try FileBytes.writeAtomically(out, bytes: Array(xml))
            writeOut("Wrote \(summary.activities) activities with \(summary.transactions) transactions to '\(out)'.\n" + notes)
        } else {
            writeOut(Array(xml) + [0x0a])
            if !notes.isEmpty { printError("accord: note: " + notes.dropLast()) }
        }
    }
}

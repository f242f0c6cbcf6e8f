import AccordInterchange
import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import ArgumentParser
import Foundation
import Glibc

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import events from IATI activity files, CSV tables or CloudEvents.",
        discussion: """
            Importing is idempotent: every imported event carries the identity of what it came from \
            (data.source), and what the journal already holds is not written again. A file with any \
            bad item is refused whole (each problem is printed as FILE:LINE: …), and nothing of it is \
            written. Journal/Import.md documents the mappings and the policy.
            """,
        subcommands: [ImportIATI.self, ImportCSV.self, ImportCloudEvents.self])
}

/// Options every import takes.
struct ImportOptions: ParsableArguments {
    @Flag(help: "Print timing and peak memory to standard error.")
    var stats = false
}

/// One input file of an import, checked whole: its report, and its events — in memory, or
/// handed out again by `replay` (a second streaming pass, so memory does not grow with the file).
struct ImportFile {
    var report: ImportReport
    var groups: [[ImportedEvent]] = []
    var replay: (((([ImportedEvent]) throws -> Void)) throws -> Void)?
}

/// Shared steps of the imports: reading without the lock, then writing under it.
enum ImportRun {
    /// Writes the events of the files without problems; prints each report and problem.
    /// - Throws: ``CommandFailure`` (exit 2) when any file was refused, after writing the others.
    static func write(_ files: [ImportFile], journal: EventJournal, stats: Bool, started: Double) throws {
        let readDone = monotonicSeconds()
        var reports = files.map(\.report)
        var written = 0
        let clean = files.indices.filter { files[$0].report.problems.isEmpty && (!files[$0].groups.isEmpty || files[$0].replay != nil) }
        if !clean.isEmpty {
            let writer = try journal.openWriter(options: try JournalOptions.writerOptions())
            defer { writer.close() }
            if let recovery = writer.recovery { printError("accord: \(recovery.description)") }
            if let actor = environment("ACCORD_ACTOR") { writer.defaultActor = actor }
            // Under the writer lock: what the journal holds now decides what is new.
            var known = try SourceIndex.load(journal)
            for index in clean {
                let importer = ImportWriter(writer: writer, known: known)
                if let replay = files[index].replay {
                    try replay { try importer.add($0) }
                } else {
                    for group in files[index].groups { try importer.add(group) }
                }
                try importer.flush()
                known = importer.known
                reports[index].new = importer.new
                reports[index].alreadyKnown = importer.alreadyKnown
                reports[index].batches = importer.batches
                written += importer.new
            }
        }
        var refused = 0
        for report in reports {
            writeOut(report.summary + "\n")
            if !report.problems.isEmpty {
                refused += 1
                for problem in report.problems.prefix(50) { printError(problem.description) }
                if report.problems.count > 50 { printError("\(report.file): … and \(report.problems.count - 50) more problems.") }
                writeOut("  refused: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") (on standard error); nothing of this file was imported\n")
            }
        }
        if stats {
            let end = monotonicSeconds()
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let total = end - started
            printError(String(format: "accord: read %.2f s, wrote %.2f s; %d events, %.0f events/s; peak RSS %.1f MiB",
                              readDone - started, end - readDone, written, Double(written) / max(total, 1e-9), Double(usage.ru_maxrss) / 1024))
        }
        if refused > 0 {
            throw CommandFailure(status: .badInput, message: "\(refused) of \(files.count) file\(files.count == 1 ? " was" : "s were") refused; see the problems above.")
        }
    }
}

extension ImportRun {
    /// Checks each file with `read`, without the writer lock; a missing, unreadable file or a
    /// directory is refused saying so, before any parser opens it.
    static func check(_ files: [String], read: (String) -> ImportFile) -> [ImportFile] {
        files.map { file in
            if let reason = unreadableReason(file) { return unreadableFile(file, reason) }
            return read(file)
        }
    }
}

/// Why `path` cannot be read as an input file (missing, a directory, unreadable), or nil.
func unreadableReason(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return "cannot open it: \(String(cString: strerror(errno)))." }
    if (info.st_mode & S_IFMT) == S_IFDIR { return "it is a directory; give the files in it." }
    guard access(path, R_OK) == 0 else { return "cannot read it: \(String(cString: strerror(errno)))." }
    return nil
}

/// An import file refused before reading, for a reason of ``unreadableReason(_:)``.
func unreadableFile(_ path: String, _ reason: String) -> ImportFile {
    var report = ImportReport(file: path)
    report.problems.append(ImportProblem(file: path, line: nil, item: "", message: reason))
    return ImportFile(report: report)
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

struct ImportIATI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iati",
        abstract: "Import IATI 2.0x activity files: participating organisations and transactions.",
        discussion: """
            Example: accord import iati eu-intpa-activities.xml
            Transactions become finance events by IATI transaction type (2 and 11 committed, 3 disbursed, \
            4 spent, 12 and 13 pledged, others finance.transaction.recorded.v1 with their code); \
            participating organisations become stakeholders with their role (1–4). See Journal/Import.md.
            """)

    @OptionGroup var options: JournalOptions
    @OptionGroup var importOptions: ImportOptions
    @Argument(help: "IATI activity files (XML).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Give at least one IATI activity file.") }
    }

    func run() throws {
        let started = monotonicSeconds()
        let journal = try options.open()
        // One pass: each file is checked whole and its events held, within one bound for the
        // whole command (IATIImporter.maxHeldBytes), then written under the lock. A file whose
        // events do not fit is checked, its events dropped, and read again under the lock (a
        // second pass), so memory does not grow with the file. Either way nothing of a refused
        // file is written.
        var budget = IATIImporter.maxHeldBytes
        let results = ImportRun.check(files) { file in
            var importer = IATIImporter(file: file)
            importer.read(holdingAtMost: budget) { activities in
                if stderrIsTerminal, activities % 50 == 0 { printProgress("\(file): \(activities) activities") }
            }
            if stderrIsTerminal { printProgress(nil) }
            guard importer.report.problems.isEmpty else { return ImportFile(report: importer.report) }
            if importer.holdsAll {
                budget -= importer.heldBytes
                return ImportFile(report: importer.report, groups: importer.groups)
            }
            let checked = importer
            return ImportFile(report: importer.report, replay: { sink in try checked.replay(into: sink) })
        }
        try ImportRun.write(results, journal: journal, stats: importOptions.stats, started: started)
    }
}

struct ImportCSV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Import the rows of CSV tables by a mapping file.",
        discussion: """
            Example: accord import csv --map Tools/mappings/iea-h2-projects.json H2Projects.csv
            The file is read as RFC 4180 CSV (quoted fields, CRLF or LF, UTF-8) with a header row. \
            The mapping (JSON) names the event types and which column fills which field; \
            Journal/Import.md documents it.
            """)

    @OptionGroup var options: JournalOptions
    @OptionGroup var importOptions: ImportOptions
    @Option(help: "The mapping file (JSON, format accord-csv-mapping/1).")
    var map: String
    @Argument(help: "CSV files.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Give at least one CSV file.") }
    }

    func run() throws {
        let started = monotonicSeconds()
        let mapping = try CSVMapping(json: try readInput(map, limit: 1 << 20), file: map)
        let journal = try options.open()
        let results = ImportRun.check(files) { file in
            var importer = CSVImporter(file: file, mapping: mapping)
            importer.read { row in
                if stderrIsTerminal, row % 500 == 0 { printProgress("\(file): \(row) rows") }
            }
            if stderrIsTerminal { printProgress(nil) }
            return ImportFile(report: importer.report, groups: importer.groups)
        }
        try ImportRun.write(results, journal: journal, stats: importOptions.stats, started: started)
    }
}

struct ImportCloudEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudevents",
        abstract: "Import CloudEvents 1.0 (a JSON batch or JSON Lines, structured mode).",
        discussion: """
            Events exported by 'accord export cloudevents' (with the accordsite … extensions) are \
            copied in byte for byte, as sync does: their sites' keys must be trusted here ('accord peer add'). \
            Other CloudEvents are recorded as new events of this site: their type, subject and data must \
            fit the catalogue; 'source' and 'id' make their identity, so importing twice adds nothing.
            """)

    @OptionGroup var options: JournalOptions
    @OptionGroup var importOptions: ImportOptions
    @Argument(help: "A file of CloudEvents, or - for standard input.")
    var file: String

    func run() throws {
        let started = monotonicSeconds()
        let journal = try options.open()
        let bytes = try readInput(file, limit: 1 << 30)
        let checked = try CloudEventsImporter.check(bytes, file: file, partnership: journal.partnership)
        guard checked.report.problems.isEmpty else {
            try ImportRun.write([ImportFile(report: checked.report)], journal: journal, stats: importOptions.stats, started: started)
            return
        }
        let records = checked.records
        if !records.isEmpty {
            let session = try SyncSession(journal: journal, options: try JournalOptions.writerOptions())
            let summary = try session.apply(records)
            session.close()
            writeOut("\(file): \(records.count) Accord events: \(summary).\n")
            if !summary.forks.isEmpty {
                throw CommandFailure(status: .damaged, message: summary.forks.joined(separator: "; ") + ".")
            }
        }
        if !checked.foreign.isEmpty || records.isEmpty {
            let groups = checked.foreign.isEmpty ? [] : [checked.foreign]
            try ImportRun.write([ImportFile(report: checked.report, groups: groups)], journal: journal, stats: importOptions.stats, started: started)
        }
    }
}

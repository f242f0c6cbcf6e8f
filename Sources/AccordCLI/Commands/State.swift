import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import ArgumentParser

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "The partnership's current state (or at a past date or event), rebuilt from the journal.",
        discussion: """
            Views: \(View.allCases.map(\.rawValue).joined(separator: ", ")) (default: summary).
            Examples: accord state actions · accord state finance --as-of 2023-12-31 --csv · accord state --digest
            The state is read from the journal's read model (cache/partnership.readmodel) plus the events \
            after it; the read model is rewritten after 10,000 new events ('accord snapshot' writes it now), \
            and a damaged or stale one is ignored and rebuilt. Two journals holding the same events print \
            the same --digest, whatever order the events arrived in.
            """)

    @OptionGroup var options: JournalOptions
    @Argument(help: "The view to show.")
    var view: String = View.summary.rawValue
    @Option(help: "Only events recorded on or before this date (YYYY-MM-DD, the whole day, UTC) or RFC 3339 time; also the date actions are overdue against.")
    var asOf: String?
    @Option(help: "Only this event and the events recorded before it (an id or unique prefix).")
    var at: String?
    @Flag(help: "One JSON object per table row (JSON Lines; an empty table prints no line); with several tables, each row's \"table\" key names its table.")
    var json = false
    @Flag(help: "CSV (RFC 4180): each table under a '# TITLE' line, tables separated by a blank line; with --table, that table alone.")
    var csv = false
    @Option(help: "Only this table of the view: its number (1, 2 …) or the start of its title, e.g. --table 'Finance by funder'.")
    var table: String?
    @Flag(help: "Print only the SHA-256 digest of the whole state.")
    var digest = false
    @Flag(name: [.customLong("no-read-model"), .customLong("no-snapshot")], help: "Ignore the read model and replay the whole journal.")
    var noSnapshot = false

    func validate() throws {
        guard View(rawValue: view) != nil else {
            throw ValidationError("Unknown view '\(view)'; the views are: \(View.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard [json, csv, digest].filter({ $0 }).count <= 1 else { throw ValidationError("Give at most one of --json, --csv, --digest.") }
        guard asOf == nil || at == nil else { throw ValidationError("Give --as-of or --at, not both.") }
    }

    func run() throws {
        let journal = try options.open()
        let (state, reference) = try buildState(journal: journal, asOf: asOf, at: at, noSnapshot: noSnapshot)
        if digest {
            writeOut(try state.digest() + "\n")
            return
        }
        var tables = View(rawValue: view)!.tables(of: state, reference: reference)
        if let table {
            let titles = tables.enumerated().map { "\($0.offset + 1). \($0.element.title)" }.joined(separator: "; ")
            if let number = Int(table) {
                guard tables.indices.contains(number - 1) else {
                    throw CommandFailure(status: .badInput, message: "The view '\(view)' has \(tables.count) table\(tables.count == 1 ? "" : "s"), not \(number): \(titles).")
                }
                tables = [tables[number - 1]]
            } else {
                let found = tables.filter { $0.title.lowercased().hasPrefix(table.lowercased()) }
                guard found.count == 1 else {
                    throw CommandFailure(status: .badInput, message: "\(found.isEmpty ? "No" : "More than one") table of the view '\(view)' has a title beginning '\(table.prefix(60))': \(titles).")
                }
                tables = found
            }
        }
        if json {
            for table in tables { for line in table.jsonLines(titled: tables.count > 1) { writeOut(line + [0x0a]) } }
        } else if csv {
            if tables.count == 1 {
                writeOut(tables[0].csv())
            } else {
                writeOut(tables.map { "# \($0.title)\r\n" + $0.csv() }.joined(separator: "\r\n"))
            }
        } else {
            let width = terminalWidth
            writeOut(tables.map { $0.text(fitting: width) }.joined(separator: "\n"))
        }
    }
}

/// Builds the state for `state` and `report`: the cutoff from --as-of / --at, and the reference
/// date for overdue actions (the --as-of date, else today in UTC).
func buildState(journal: EventJournal, asOf: String?, at: String?, noSnapshot: Bool) throws -> (PartnershipState, CalendarDate) {
    var cutoff = StateBuilder.Cutoff.none
    var reference = Timestamp.now().date
    if let asOf {
        let instant = try EventFilter.instant(asOf, field: "--as-of", endOfDay: true)
        cutoff = .asOf(instant)
        reference = instant.date
    }
    if let at {
        cutoff = .at(try resolveID(at, in: journal))
    }
    let result = try StateBuilder(journal: journal).build(cutoff: cutoff, useReadModel: !noSnapshot)
    noteReadModel(rejection: result.readModelRejection, file: ReadModelStore<PartnershipState>(journal: journal).relativePath,
                  oldSnapshots: result.oldSnapshots)
    if let torn = result.tornTail { printError("accord: note: \(torn.description) The state does not include it; run 'accord verify'.") }
    return (result.state, reference)
}

/// Says once on standard error (never as an error) that a read-model file was ignored and
/// rebuilt, and that snapshots of an older Accord are no longer read (Format.md §9.4.4, §9.4.6).
func noteReadModel(rejection: ReadModelRejection?, file: String, oldSnapshots: Bool) {
    if let rejection {
        printError("accord: note: the read model '\(file)' was ignored and rebuilt from the journal: \(rejection.reason)")
    }
    if oldSnapshots {
        printError("accord: note: 'snapshots/' holds snapshots of an older Accord, which are no longer read (the state is kept in '\(file)'); delete 'snapshots/' to silence this note.")
    }
}

/// The full id of the one event whose id starts with `prefix`.
func resolveID(_ prefix: String, in journal: EventJournal) throws -> EventID {
    let prefix = prefix.lowercased()
    guard prefix.utf8.count >= 6, prefix.utf8.count <= 64, prefix.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
        throw AccordError(.badInput, "'\(prefix.prefix(70))' is not an event id: give 6 to 64 hexadecimal digits.", field: "id")
    }
    var events = try journal.events()
    var found: EventID?
    while let event = try events.next() {
        guard event.id.hex.hasPrefix(prefix) else { continue }
        if let found, found != event.id {
            throw AccordError(.badInput, "The prefix '\(prefix)' matches more than one event (\(found.short)…, \(event.id.short)…); give more digits.", field: "id")
        }
        found = event.id
    }
    guard let found else { throw AccordError(.notFound, "No event with id '\(prefix)' in the journal at '\(journal.path)'.", field: "id") }
    return found
}

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Bring the read model of the state up to date and write it now, so that later reads fold only what follows.",
        discussion: "The read model is cache/partnership.readmodel in the journal (Format.md §9.4); it is a cache, safe to delete, and ignored when stale or damaged. It is also written automatically after 10,000 new events.")

    @OptionGroup var options: JournalOptions

    func run() throws {
        let journal = try options.open()
        let (file, events) = try StateBuilder(journal: journal).writeReadModelNow()
        writeOut("Wrote '\(file)' covering \(events) events.\n")
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained status report: HTML with inline SVG charts, or Markdown.",
        discussion: "Example: accord report --html status.html --title 'EU–Kazakhstan partnership' · accord report --markdown status.md --as-of 2023-12-31")

    @OptionGroup var options: JournalOptions
    @Option(help: "Write an HTML report to this file.")
    var html: String?
    @Option(help: "Write a Markdown report to this file.")
    var markdown: String?
    @Option(help: "The report's title.")
    var title: String = "Partnership status report"
    @Option(help: "Report as of this date (YYYY-MM-DD) or RFC 3339 time.")
    var asOf: String?
    @Option(help: "How many recent events the timeline shows.")
    var recent: Int = 20

    func validate() throws {
        guard html != nil || markdown != nil else { throw ValidationError("Give --html FILE or --markdown FILE (or both).") }
        guard recent >= 0 else { throw ValidationError("--recent must be zero or more.") }
    }

    func run() throws {
        let journal = try options.open()
        let (state, reference) = try buildState(journal: journal, asOf: asOf, at: nil, noSnapshot: false)
        let limit = try asOf.map { try EventFilter.instant($0, field: "--as-of", endOfDay: true) }
        var latest: [Event] = []
        var events = try journal.events()
        while let event = try events.next() {
            if let limit, event.time > limit { continue }
            latest.append(event)
            if latest.count > recent * 2 + 16 {
                latest.sort { Stamp($0) > Stamp($1) }
                latest.removeLast(latest.count - recent)
            }
        }
        latest.sort { Stamp($0) > Stamp($1) }
        let report = StatusReport(title: title, state: state, reference: reference, recent: Array(latest.prefix(recent)), digest: try state.digest())
        if let html { try write(report.html(), to: html) }
        if let markdown { try write(report.markdown(), to: markdown) }
        writeOut("Wrote \([html, markdown].compactMap { $0 }.map { "'\($0)'" }.joined(separator: " and ")) (\(state.eventCount) events, as of \(reference)).\n")
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try FileBytes.writeAtomically(path, bytes: Array(text.utf8))
        } catch let error as SegmentError {
            throw CommandFailure(status: .io, message: error.message)
        }
    }
}

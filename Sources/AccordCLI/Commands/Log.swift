import AccordModel
import AccordProjections
import AccordSegments
import ArgumentParser
import Glibc

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay the journal: every event in stored order, as a table or as stored JSON.",
        discussion: """
            Filters combine (all must match). --type and --subject take a whole value or a prefix ending at \
            a dot or slash: --type finance matches finance.*, --subject action matches action/*. \
            --since and --until compare the time the event was recorded (UTC); a date means its whole day.
            Examples: accord log --type finance --since 2023-01-01 · accord log --json | jq .data
            """)

    @OptionGroup var options: JournalOptions
    @Flag(help: "Print the stored records, one JSON object per line, byte for byte.")
    var json = false
    @Option(help: "Only events of this type, or type family (e.g. action).")
    var type: String?
    @Option(help: "Only events about this subject, or subject kind (e.g. funding).")
    var subject: String?
    @Option(help: "Only events of this site's feed.")
    var site: String?
    @Option(help: "Only events recorded at or after this date or RFC 3339 time.")
    var since: String?
    @Option(help: "Only events recorded at or before this date or RFC 3339 time.")
    var until: String?
    @Flag(help: "Print CSV (RFC 4180): recorded, site, seq, id, type, subject, actor, what; no summary.")
    var csv = false
    @Option(help: ArgumentHelp("The order of events: 'stored' (as stored, feed by feed; streams) or 'recorded' (by the time each was recorded).",
                               valueName: "stored|recorded"))
    var order: LogOrder = .stored
    @Flag(help: "Keep running and print new events as they are appended.")
    var follow = false

    func validate() throws {
        guard !(json && csv) else { throw ValidationError("Give --json or --csv, not both.") }
        guard !(follow && order == .recorded) else {
            throw ValidationError("--follow prints events as they are stored; it cannot be combined with --order recorded.")
        }
    }

    func run() throws {
        let journal = try options.open()
        let filter = try EventFilter(type: type, subject: subject, site: site, since: since, until: until)
        var events = try journal.events()
        let table = LogTable(width: terminalWidth)
        var summary = LogSummary()
        var held: [Event] = []
        func emit(_ event: Event) {
            if json {
                writeOut(event.record)
                writeOut([0x0a])
            } else if csv {
                writeOut(LogTable.csvRow(event))
            } else {
                summary.add(event)
                writeOut(table.row(event))
            }
        }
        if csv { writeOut(LogTable.csvHeader) } else if !json { writeOut(table.header) }
        while true {
            while let event = try events.next() {
                guard filter.matches(event) else { continue }
                if order == .recorded { held.append(event) } else { emit(event) }
            }
            guard follow else { break }
            standardOutput.flush()
            usleep(300_000)
        }
        // By recorded time; events recorded at the same instant by site, then sequence number.
        held.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.site != b.site { return a.site < b.site }
            return a.seq < b.seq
        }
        for event in held { emit(event) }
        if let torn = events.tornTail {
            printError("accord: note: \(torn.description)")
        }
        if !json && !csv { writeOut(summary.text) }
    }
}

/// The order `accord log` prints events in.
enum LogOrder: String, ExpressibleByArgument, CaseIterable {
    /// As stored: each site's feed in sequence, feeds as they arrived (streams; `--follow` works).
    case stored
    /// By the time each event was recorded (its `time`), so back-filled history falls in place.
    case recorded
}

/// The filters of `accord log`.
struct EventFilter {
    var type: String?
    var subject: String?
    var site: SiteID?
    var since: Timestamp?
    var until: Timestamp?

    init(type: String?, subject: String?, site: String?, since: String?, until: String?) throws {
        self.type = type
        self.subject = subject
        self.site = try site.map { try SiteID($0) }
        self.since = try since.map { try Self.instant($0, field: "--since", endOfDay: false) }
        self.until = try until.map { try Self.instant($0, field: "--until", endOfDay: true) }
    }

    static func instant(_ text: String, field: String, endOfDay: Bool) throws -> Timestamp {
        if text.utf8.count == 10 {
            let date = try CalendarDate(parsing: text, field: field)
            let start = try Timestamp(rfc3339: date.text + "T00:00:00Z", field: field)
            return endOfDay ? Timestamp(seconds: start.seconds + 86_399, nanoseconds: 999_999_999) : start
        }
        return try Timestamp(rfc3339: text, field: field)
    }

    func matches(_ event: Event) -> Bool {
        if let type, !Self.matches(event.type.rawValue, type, separator: ".") { return false }
        if let subject, !Self.matches(event.subject.description, subject, separator: "/") { return false }
        if let site, event.site != site { return false }
        if let since, event.time < since { return false }
        if let until, event.time > until { return false }
        return true
    }

    static func matches(_ value: String, _ pattern: String, separator: Character) -> Bool {
        if value.utf8.elementsEqual(pattern.utf8) { return true }
        let prefix = pattern.last == separator ? pattern : pattern + String(separator)
        return value.utf8.starts(with: prefix.utf8)
    }
}

/// The aligned table of `accord log`: fixed column widths, so it streams.
///
/// On a terminal (`width` set) each cell is clipped to its column with "…" and WHAT gets what
/// is left of the width; to a pipe or a file (`width` nil) nothing is clipped: a longer cell
/// pushes the rest of its row right, and every id can be copied whole.
struct LogTable {
    /// The terminal's width, or nil when output goes to a pipe or a file.
    let width: Int?
    /// The widths of TYPE and SUBJECT: 30 and 34, narrower on a narrow terminal.
    let typeWidth: Int
    let subjectWidth: Int

    /// The fewest characters WHAT gets on a terminal.
    static let minimumWhat = 16

    init(width: Int? = nil) {
        self.width = width
        var type = 30, subject = 34
        if let width {
            // Narrow TYPE and SUBJECT (down to 12 each) until WHAT has its minimum.
            while 20 + 2 + 14 + 2 + type + 2 + subject + 2 + Self.minimumWhat > width, type > 12 || subject > 12 {
                if subject >= type, subject > 12 { subject -= 1 } else { type -= 1 }
            }
        }
        typeWidth = type
        subjectWidth = subject
    }

    var header: String {
        (pad("RECORDED", 20) + "  " + pad("SITE:SEQ", 14) + "  " + pad("TYPE", typeWidth) + "  " + pad("SUBJECT", subjectWidth) + "  WHAT").trimmingTrailing() + "\n"
    }

    func row(_ event: Event) -> String {
        let what = Self.what(event)
        let fixed = 20 + 2 + 14 + 2 + typeWidth + 2 + subjectWidth + 2
        return (cell(event.time.text.count > 20 ? String(event.time.text.prefix(19)) + "Z" : event.time.text, 20) + "  "
            + cell("\(event.site):\(event.seq)", 14) + "  " + cell(event.type.rawValue, typeWidth) + "  "
            + cell(event.subject.description, subjectWidth) + "  " + (width.map { clip(what, max(Self.minimumWhat, $0 - fixed)) } ?? what)).trimmingTrailing() + "\n"
    }

    /// The CSV header of `log --csv`.
    static let csvHeader = "recorded,site,seq,id,type,subject,actor,what\r\n"

    /// One event as a CSV row (RFC 4180, CRLF), never clipped.
    static func csvRow(_ event: Event) -> String {
        [event.time.text, event.site.rawValue, String(event.seq.rawValue), event.id.hex, event.type.rawValue, event.subject.description, event.actor, what(event)]
            .map(Table.csvField).joined(separator: ",") + "\r\n"
    }

    /// `text` padded to `columnWidth`; clipped to it only on a terminal.
    private func cell(_ text: String, _ columnWidth: Int) -> String {
        let shown = width == nil ? text : clip(text, columnWidth)
        return shown + String(repeating: " ", count: max(0, columnWidth - shown.count))
    }

    /// A short description from the data: name or title, then amount, milestone, reason …
    static func what(_ event: Event) -> String {
        let data = event.data
        var parts: [String] = []
        for key in ["name", "title", "milestone", "commodity", "reason", "note"] {
            if let text = data[key]?.stringValue { parts.append(text) }
        }
        if let amount = data["amount"]?.stringValue, let currency = data["currency"]?.stringValue {
            parts.append("\(amount) \(currency)")
        } else if case .object(let value)? = data["value"], let amount = value["amount"]?.stringValue, let currency = value["currency"]?.stringValue {
            // finance.committed.v2 carries its money as one `value` object (Format.md §7.5).
            parts.append("\(amount) \(currency)")
        }
        if let provider = data["provider"]?.stringValue, let receiver = data["receiver"]?.stringValue {
            parts.append("\(provider) → \(receiver)")
        }
        if let date = data["date"]?.stringValue { parts.append(date) }
        if case .number(let participants)? = data["participants"] { parts.append("\(participants) participants") }
        return parts.joined(separator: " · ")
    }
}

func pad(_ text: String, _ width: Int) -> String {
    let clipped = clip(text, width)
    return clipped + String(repeating: " ", count: max(0, width - clipped.count))
}

func clip(_ text: String, _ width: Int) -> String {
    text.count <= width ? text : String(text.prefix(width - 1)) + "…"
}

extension String {
    /// The text without trailing spaces.
    func trimmingTrailing() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

/// The short summary after the table: counts by site and by kind of event, and the time span.
struct LogSummary {
    var total = 0
    var bySite: [String: Int] = [:]
    var byFamily: [String: Int] = [:]
    var first: Timestamp?
    var last: Timestamp?

    mutating func add(_ event: Event) {
        total += 1
        bySite[event.site.rawValue, default: 0] += 1
        byFamily[String(event.type.rawValue.split(separator: ".").dropLast().joined(separator: ".")), default: 0] += 1
        if first == nil || event.time < first! { first = event.time }
        if last == nil || event.time > last! { last = event.time }
    }

    var text: String {
        guard total > 0, let first, let last else { return "\nNo events.\n" }
        let sites = bySite.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let kinds = byFamily.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\n\(total) events from \(bySite.count) site\(bySite.count == 1 ? "" : "s") (\(sites)), recorded \(first.date) … \(last.date).\nBy kind: \(kinds).\n"
    }
}

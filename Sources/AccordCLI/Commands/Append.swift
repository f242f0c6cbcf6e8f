import AccordModel
import AccordProjections
import AccordSegments
import ArgumentParser
import Glibc

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append one event, or a batch of events from JSON Lines (all or nothing).",
        discussion: """
            One event:   accord append action.proposed.v1 --subject action/h2-study --data '{"title":"Hydrogen study","pillar":"value-chain-integration"}'
            A batch:     accord append --from events.jsonl     (or --from - for standard input)
            Each line of a batch is {"type":…,"subject":…,"data":{…}} with optional "time" (RFC 3339) and "actor". \
            The whole file is one batch: if any line is bad, nothing is written and the error names the line and field.
            """)

    @OptionGroup var options: JournalOptions
    @Argument(help: "The event type, e.g. finance.committed.v1.")
    var type: String?
    @Option(help: "What the event is about, e.g. funding/eib-2024.")
    var subject: String?
    @Option(help: "The event's data: a JSON object.")
    var data: String?
    @Option(help: "When it was recorded (RFC 3339, any offset; stored in UTC). Default: now.")
    var time: String?
    @Option(help: "Who records it (default: $ACCORD_ACTOR, else the site's name).")
    var actor: String?
    @Option(help: "A JSON Lines file of events to append as one batch, or - for standard input.")
    var from: String?

    func validate() throws {
        if from != nil {
            guard type == nil, subject == nil, data == nil else {
                throw ValidationError("Give either --from FILE, or TYPE with --subject and --data, not both.")
            }
        } else {
            guard type != nil else { throw ValidationError("Missing the event TYPE (or --from FILE).") }
            guard subject != nil else { throw ValidationError("Missing --subject.") }
            guard data != nil else { throw ValidationError("Missing --data.") }
        }
    }

    func run() throws {
        var lineNumbers: [Int] = []
        let drafts = try from.map { try readDrafts(from: $0, lineNumbers: &lineNumbers) } ?? [singleDraft()]
        if let time { _ = try Timestamp(rfc3339: time, field: "--time") }
        let journal = try options.open()
        let writer = try journal.openWriter(options: try JournalOptions.writerOptions())
        if let recovery = writer.recovery { printError("accord: \(recovery.description)") }
        // Under the writer lock, the state is the read model plus the events after it (Format.md §9.6).
        let state = try StateBuilder(journal: journal).build().state
        // Commands are checked against the current state, under the writer lock (DESIGN, Projections).
        var validator = CommandValidator(state: state)
        do {
            try validator.check(drafts)
        } catch let error as AccordError {
            let line = error.line.map { lineNumbers.isEmpty ? "" : "Line \(lineNumbers[$0 - 1])\(from == "-" ? " of standard input" : from.map { " of '\($0)'" } ?? ""): " } ?? ""
            throw AccordError(.badInput, line + error.message.droppingLinePrefix + " Nothing was appended.", line: error.line, field: error.field)
        }
        if let actor = actor ?? environment("ACCORD_ACTOR") { writer.defaultActor = actor }
        let events = try writer.append(drafts)
        if events.count == 1 {
            writeOut("\(events[0].id) \(events[0].site):\(events[0].seq)\n")
        } else {
            writeOut("Appended \(events.count) events as one batch: \(events[0].site) \(events[0].seq)…\(events[events.count - 1].seq), last id \(events[events.count - 1].id).\n")
        }
    }

    private func singleDraft() throws -> EventDraft {
        let dataValue: JSONValue
        do {
            dataValue = try JSONParser.parse(Array(data!.utf8))
        } catch let error as JSONParser.SyntaxError {
            throw AccordError(.badInput, "Option '--data' is not valid JSON: \(error).", field: "data")
        }
        guard case .object(let object) = dataValue else {
            throw AccordError(.badInput, "Option '--data' must be a JSON object, not \(dataValue.kindDescription).", field: "data")
        }
        let draft = EventDraft(
            type: EventType(type!), subject: try Subject(subject!), data: object,
            time: try time.map { try Timestamp(rfc3339: $0, field: "--time") })
        try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
        return draft
    }

    private func readDrafts(from path: String, lineNumbers: inout [Int]) throws -> [EventDraft] {
        let bytes = try readInput(path, limit: SegmentFormat.maxBatchBytes)
        var drafts: [EventDraft] = []
        var lineNumber = 0
        var start = 0
        let name = path == "-" ? "standard input" : "'\(path)'"
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
            guard line.count <= SegmentFormat.maxRecordBytes else {
                throw AccordError(.badInput, "Line \(lineNumber) of \(name) is \(line.count) bytes; an event may hold at most \(SegmentFormat.maxRecordBytes) bytes. Nothing was appended.", line: lineNumber)
            }
            do {
                let draft = try EventDraft.parse(line: line)
                try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
                drafts.append(draft)
                lineNumbers.append(lineNumber)
            } catch let error as AccordError {
                throw AccordError(.badInput, "Line \(lineNumber) of \(name): \(error.message) Nothing was appended.", line: lineNumber, field: error.field)
            }
            if stderrIsTerminal, lineNumber % 10_000 == 0 { printProgress("read \(lineNumber) lines") }
        }
        guard !drafts.isEmpty else {
            throw AccordError(.badInput, "\(name.prefix(1).uppercased() + name.dropFirst()) holds no events (it is empty or blank). Nothing was appended.")
        }
        if stderrIsTerminal, lineNumber >= 10_000 { printProgress(nil) }
        return drafts.map { draft in
            var draft = draft
            if draft.time == nil, let time { draft.time = try? Timestamp(rfc3339: time, field: "--time") }
            return draft
        }
    }
}

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// Shows a progress line on a terminal's standard error (nil clears it).
func printProgress(_ text: String?) {
    let line = text.map { "\r\u{1B}[2K" + $0 } ?? "\r\u{1B}[2K"
    standardError.write(Array(line.utf8))
}

extension String {
    /// The message without the "Line N: " that ``AccordError/at(line:)`` puts in front.
    var droppingLinePrefix: String {
        guard hasPrefix("Line "), let colon = firstIndex(of: ":") else { return self }
        return String(self[index(colon, offsetBy: 2)...])
    }
}

import AccordModel

/// A file of CloudEvents, checked whole by ``CloudEventsImporter/check(_:file:partnership:)``:
/// what to copy in, what to record, and the report.
public struct CloudEventsImport: Sendable {
    /// Counts and problems; when it has problems, nothing of the file is to be written.
    public var report: ImportReport
    /// The stored records of exported Accord events (with `accordsite`), rebuilt byte for byte,
    /// to be applied as sync applies them.
    public var records: [[UInt8]] = []
    /// Events to record here for CloudEvents from other systems, in file order.
    public var foreign: [ImportedEvent] = []
}

/// The rules of a CloudEvents import (Journal/Import.md, "CloudEvents"): which events are
/// Accord's own, that they belong to this journal's partnership, and that each site's events
/// end with a signature.
public enum CloudEventsImporter {
    /// Parses and checks a file of CloudEvents (a JSON batch or JSON Lines).
    ///
    /// An event with `accordsite` is an exported Accord event: its `source` must be
    /// `urn:accord:<partnership>:<site>` and its record is rebuilt from its attributes; the last
    /// event of each site must carry `accordsig`. An event with Accord's envelope but no
    /// `accordsite` is refused. Any other event becomes a draft checked against the catalogue,
    /// its `source` free of white space. Nothing is read from or written to a journal.
    /// - Parameters:
    ///   - bytes: The file's contents.
    ///   - file: The file's name as given, for the report and its problems.
    ///   - partnership: The partnership of the journal that imports.
    /// - Returns: The checked file; without problems, its report counts `accord events` (when
    ///   there are records) and `other events` (when there are drafts, or no records).
    /// - Throws: Only errors other than ``AccordError`` (a refused event is a problem in the
    ///   report instead).
    public static func check(_ bytes: [UInt8], file: String, partnership: String) throws -> CloudEventsImport {
        let (events, parseProblems) = CloudEvents.parse(bytes, file: file)
        var checked = CloudEventsImport(report: ImportReport(file: file))
        checked.report.problems = parseProblems
        checked.report.count("cloudevents", events.count + parseProblems.count)
        var feeds = FeedEnds()
        for event in events {
            do {
                try sort(event, partnership: partnership, into: &checked, feeds: &feeds)
            } catch let error as AccordError {
                checked.report.problems.append(ImportProblem(file: file, line: event.line > 0 ? event.line : nil,
                                                             item: event.line > 0 ? "" : "event \(event.position)", message: error.message))
            }
        }
        checked.report.problems += feeds.unsigned(file: file)
        guard checked.report.problems.isEmpty else { return checked }
        if !checked.records.isEmpty { checked.report.count("accord events", checked.records.count) }
        if !checked.foreign.isEmpty || checked.records.isEmpty { checked.report.count("other events", checked.foreign.count) }
        return checked
    }

    /// Adds `event` to the records or to the drafts of `checked`.
    /// - Throws: ``AccordError`` `.badInput` (or `.damaged`, for an altered record) saying why
    ///   the event is refused.
    private static func sort(_ event: CloudEvents.Incoming, partnership: String, into checked: inout CloudEventsImport, feeds: inout FeedEnds) throws {
        if let site = event.extensions["accordsite"]?.stringValue {
            // An Accord event belongs to one partnership and one site: its source says which.
            let expected = "urn:accord:\(partnership):\(site)"
            guard sameBytes(event.source, expected) else {
                throw AccordError(.badInput, "source is '\(event.source.prefix(80))'; events of site '\(site.prefix(40))' for this journal's partnership '\(partnership)' have source '\(expected)'. Events of another partnership are never merged (SyncProtocol.md).", field: "source")
            }
            checked.records.append(try CloudEvents.record(of: event))
            feeds.note(event, site: site)
            return
        }
        guard !hasEnvelope(event) else {
            throw AccordError(.badInput, "it carries Accord's envelope (source urn:accord:… or accord… extensions) but no 'accordsite'; an exported event is imported whole or not at all.", field: "accordsite")
        }
        guard !event.source.contains(where: { $0.isWhitespace }) else {
            throw AccordError(.badInput, "source '\(event.source.prefix(80))' holds white space; a CloudEvents source is a URI-reference.", field: "source")
        }
        checked.foreign.append(try CloudEvents.draft(of: event))
    }

    /// Whether `event` carries part of Accord's envelope: an `accord…` extension, or a
    /// `urn:accord:` source.
    private static func hasEnvelope(_ event: CloudEvents.Incoming) -> Bool {
        event.extensions.keys.contains { $0.utf8.starts(with: "accord".utf8) } || event.source.utf8.starts(with: "urn:accord:".utf8)
    }

    /// Per site, the last Accord event seen and whether it carried the batch signature.
    private struct FeedEnds {
        private var last: [BytewiseText: (seq: String, signed: Bool, line: Int?)] = [:]  // by site, by bytes

        mutating func note(_ event: CloudEvents.Incoming, site: String) {
            let seq: String = switch event.extensions["accordseq"] {
            case .number(let literal)?: literal
            case .string(let literal)?: literal
            default: "?"
            }
            last[BytewiseText(site)] = (seq, event.extensions["accordsig"] != nil, event.line > 0 ? event.line : nil)
        }

        /// Each feed's events must end with a signed event: a file cut inside a batch, or
        /// stripped of signatures, would leave events waiting in pending/ for a signature that
        /// never comes. One problem per such site, by site name.
        func unsigned(file: String) -> [ImportProblem] {
            last.sorted(by: { $0.key < $1.key }).filter { !$0.value.signed }.map { site, end in
                ImportProblem(file: file, line: end.line, item: "",
                              message: "the events of site '\(site)' end at sequence number \(end.seq) inside a batch: no signature follows (the file was cut, or 'accordsig' removed). Export again, whole.")
            }
        }
    }
}

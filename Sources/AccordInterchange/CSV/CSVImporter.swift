import AccordModel
import CSV
import Foundation

/// Turns the rows of a CSV file (RFC 4180: quoted fields with commas, quotes and line breaks,
/// CRLF or LF, UTF-8) into events by a ``CSVMapping``. Parsing is done by CSV.swift
/// (yaslab/CSV.swift), reading the file as a stream.
public struct CSVImporter {
    /// The file's path as given.
    public let file: String
    /// How its rows become events.
    public let mapping: CSVMapping
    /// Counts, skipped items and problems of the last ``read(progress:)``.
    public private(set) var report: ImportReport
    /// Groups of events, one per row, in file order.
    public private(set) var groups: [[ImportedEvent]] = []

    /// An importer of `file` by `mapping`; nothing is read until ``read(progress:)``.
    public init(file: String, mapping: CSVMapping) {
        self.file = file
        self.mapping = mapping
        report = ImportReport(file: file)
    }

    /// Reads the whole file; afterwards ``report`` holds the counts and problems, ``groups`` the events.
    /// - Parameter progress: Called before each row with its 1-based number.
    public mutating func read(progress: ((Int) -> Void)? = nil) {
        guard let stream = InputStream(fileAtPath: file) else {
            report.problems.append(ImportProblem(file: file, line: nil, item: "", message: "cannot open the file."))
            return
        }
        guard let opened = openTable(stream) else { return }
        let (reader, table) = opened
        var identities = RowIdentities(source: mapping.source)
        var rowNumber = 0
        while let cells = reader.next() {
            rowNumber += 1
            report.count("rows")
            progress?(rowNumber)
            let item = "row \(rowNumber)"
            guard cells.count == table.header.count else {
                if cells.count == 1, cells[0].isEmpty { report.skipped["blank line", default: 0] += 1; continue }
                problem(item, "it has \(cells.count) fields; the header has \(table.header.count).")
                continue
            }
            let row = Row(cells: cells, table: table, item: item)
            let group = events(of: row, identity: identities.next(row.keyText(mapping.key)))
            if !group.isEmpty { groups.append(group) }
        }
        checkEnd(of: reader, stream: stream, after: rowNumber)
    }

    // MARK: - Header

    /// The columns of the file: the header row, and where each name is first found.
    struct Table {
        var header: [String]
        /// Column name → position, by UTF-8 bytes: an NFC and an NFD header are two columns.
        var index: [BytewiseText: Int]
    }

    /// Reads the header row and checks that it has every column the mapping reads; nil with a
    /// problem recorded when it cannot be read or lacks one.
    private mutating func openTable(_ stream: InputStream) -> (CSVReader, Table)? {
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch {
            report.problems.append(ImportProblem(file: file, line: 1, item: "header", message: "cannot read the header row (\(error)): is it a CSV file in UTF-8?"))
            return nil
        }
        let header = (reader.headerRow ?? []).map { $0.utf8.starts(with: [0xEF, 0xBB, 0xBF]) ? String(decoding: $0.utf8.dropFirst(3), as: UTF8.self) : $0 }
        var index: [BytewiseText: Int] = [:]
        for (position, name) in header.enumerated() where index[BytewiseText(name)] == nil { index[BytewiseText(name)] = position }
        let missing = mapping.columns.filter { index[BytewiseText($0)] == nil }
        guard missing.isEmpty else {
            report.problems.append(ImportProblem(file: file, line: 1, item: "header",
                message: "the mapping reads the column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")), which the header does not have; it has \(header.map { "'\($0)'" }.joined(separator: ", "))."))
            return nil
        }
        return (reader, Table(header: header, index: index))
    }

    /// Records a problem if the reader stopped before the end of the file.
    private mutating func checkEnd(of reader: CSVReader, stream: InputStream, after rowNumber: Int) {
        // On Linux, `InputStream.hasBytesAvailable` stays true until a read returns 0, so
        // CSV.swift reports `cannotReadFile` at the very end of a file: that is the end, not an error.
        let atEnd = stream.streamStatus == .atEnd
        if let error = reader.error, !(atEnd && { if case CSVError.cannotReadFile = error { return true } else { return false } }()) {
            problem("row \(rowNumber + 1)", "the CSV cannot be read further: \(error) (is it UTF-8?).")
        }
    }

    // MARK: - Rows

    /// One row of the table, with its cells by column name.
    struct Row {
        var cells: [String]
        var table: Table
        /// `row N`, for problems.
        var item: String

        func cell(_ column: String) -> String { cells[table.index[BytewiseText(column)]!] }

        /// The canonical JSON array of the key columns' cells (all columns when `key` is empty).
        func keyText(_ key: [String]) -> String {
            let columns = key.isEmpty ? table.header : key
            return String(decoding: (try? CanonicalJSON.encode(.array(columns.map { .string(cell($0)) }))) ?? [], as: UTF8.self)
        }
    }

    /// The source identities of rows: `csv:<source> <key>`, and ` #n` after it for the n-th row
    /// (from the second) with the same key.
    struct RowIdentities {
        let source: String
        /// By UTF-8 bytes: keys that differ only by normalisation are two keys.
        private var occurrences: [BytewiseText: Int] = [:]

        init(source: String) { self.source = source }

        mutating func next(_ keyText: String) -> String {
            let base = "csv:\(source) \(keyText)"
            occurrences[BytewiseText(base), default: 0] += 1
            let n = occurrences[BytewiseText(base)]!
            return n == 1 ? base : base + " #\(n)"
        }
    }

    /// The events the mapping makes of `row`; refused or skipped events are recorded in ``report``.
    private mutating func events(of row: Row, identity rowIdentity: String) -> [ImportedEvent] {
        let subjectID = ImportSlug.unique(row.cell(mapping.subjectName), identity: rowIdentity)
        var group: [ImportedEvent] = []
        for template in mapping.events {
            guard let data = data(of: template, row: row) else { continue }
            if let event = event(template, subject: mapping.subjectKind + "/" + subjectID, data: data, identity: rowIdentity + " " + template.type, item: row.item) {
                group.append(event)
            }
        }
        return group
    }

    /// A checked event of `template` with `data` and its source identity, or nil with a problem recorded.
    private mutating func event(_ template: CSVMapping.EventTemplate, subject: String, data: [(key: String, value: JSONValue)], identity: String, item: String) -> ImportedEvent? {
        let data = data + [(Catalogue.sourceField, .string(importText(identity) ?? identity))]
        do {
            let subject = try Subject(subject)
            let object = JSONObject(data)
            try Catalogue.validate(type: template.type, subject: subject, data: object)
            let event = ImportedEvent(draft: EventDraft(type: EventType(template.type), subject: subject, data: object), identity: importText(identity) ?? identity)
            report.count(template.type)
            return event
        } catch let error as AccordError {
            problem(item, error.message)
        } catch {
            problem(item, "\(error)")
        }
        return nil
    }

    // MARK: - Fields

    /// What becomes of one field of a row.
    enum FieldOutcome {
        /// The field has this value.
        case value(JSONValue)
        /// The field is left out.
        case leftOut
        /// The event is not made (skipped, or refused with a problem recorded).
        case noEvent
    }

    /// The `data` of `template` for `row`, or nil when the event is not made.
    private mutating func data(of template: CSVMapping.EventTemplate, row: Row) -> [(key: String, value: JSONValue)]? {
        var data: [(key: String, value: JSONValue)] = []
        for field in template.fields {
            if let with = field.with, !data.contains(where: { $0.key == with }) { continue }
            switch value(of: field, in: template, row: row) {
            case .value(let value): data.append((field.name, value))
            case .leftOut: continue
            case .noEvent: return nil
            }
        }
        return data
    }

    /// One field's value: its cell (or constant), trimmed, mapped and converted.
    private mutating func value(of field: CSVMapping.Field, in template: CSVMapping.EventTemplate, row: Row) -> FieldOutcome {
        let text = field.value ?? row.cell(field.column!).trimmingCharacters(in: .whitespaces)
        let origin = field.column.map { "column '\($0)'" } ?? "field '\(field.name)'"
        if text.isEmpty {
            if field.optional { return .leftOut }
            problem(row.item, "\(origin) is empty; '\(template.type)' needs '\(field.name)' (mark it \"optional\" in the mapping to leave it out).")
            return .noEvent
        }
        guard let map = field.map, map[BytewiseText(text)] == nil else {
            return converted(field.map?[BytewiseText(text)] ?? text, field: field, origin: origin, item: row.item)
        }
        switch field.otherwise {
        case .skipEvent:
            report.skipped["\(template.type): \(origin) is '\(text.prefix(40))', which the mapping does not list", default: 0] += 1
            return .noEvent
        case .skipField:
            return .leftOut
        case .keep:
            return converted(text, field: field, origin: origin, item: row.item)
        case .error:
            problem(row.item, "\(origin) is '\(text.prefix(40))', which the mapping's \"map\" for '\(field.name)' does not list.")
            return .noEvent
        }
    }

    /// `text` converted as the field's `convert` says (``CSVMapping/conversions``); other text
    /// cleaned by ``importText(_:)``.
    private mutating func converted(_ text: String, field: CSVMapping.Field, origin: String, item: String) -> FieldOutcome {
        switch field.convert {
        case "iso3166-alpha3":
            guard let code = CountryCodes.alpha3ToAlpha2[text.uppercased()] else {
                return refused(item, "\(origin) is '\(text.prefix(20))', not an ISO 3166-1 alpha-3 country code.")
            }
            return .value(.string(code))
        case "decimal":
            guard let decimal = normalizedDecimal(text) else { return refused(item, "\(origin) is '\(text.prefix(40))', not a decimal number.") }
            return .value(.string(decimal))
        case "slug":
            guard let slug = ImportSlug.make(text) else {
                return refused(item, "\(origin) is '\(text.prefix(40))', which has no letter or digit to make an identifier of.")
            }
            return .value(.string(slug))
        case "count":
            guard let number = UInt32(text), number <= 999_999_999 else {
                return refused(item, "\(origin) is '\(text.prefix(40))', not a whole number from 0 to 999,999,999.")
            }
            return .value(.number(String(number)))
        default:
            return .value(.string(importText(text) ?? text))
        }
    }

    /// Records a problem of `item` and says the event is not made.
    private mutating func refused(_ item: String, _ message: String) -> FieldOutcome {
        problem(item, message)
        return .noEvent
    }

    private mutating func problem(_ item: String, _ message: String) {
        report.problems.append(ImportProblem(file: file, line: nil, item: item, message: message))
    }
}

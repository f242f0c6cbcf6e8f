import AccordModel
import CSV
import Foundation

/// Turns the rows of a CSV file (RFC 4180: quoted fields with commas, quotes and line breaks,
/// CRLF or LF, UTF-8) into events by a ``CSVMapping``. Parsing is done by CSV.swift
/// (yaslab/CSV.swift), reading the file as a stream.
public struct CSVImporter {
    public let file: String
    public let mapping: CSVMapping
    public private(set) var report: ImportReport
    /// Groups of events, one per row, in file order.
    public private(set) var groups: [[ImportedEvent]] = []

    public init(file: String, mapping: CSVMapping) {
        self.file = file
        self.mapping = mapping
        report = ImportReport(file: file)
    }

    /// Reads the whole file; afterwards ``report`` holds the counts and problems, ``groups`` the events.
    public mutating func read(progress: ((Int) -> Void)? = nil) {
        guard let stream = InputStream(fileAtPath: file) else {
            report.problems.append(ImportProblem(file: file, line: nil, item: "", message: "cannot open the file."))
            return
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch {
            report.problems.append(ImportProblem(file: file, line: 1, item: "header", message: "cannot read the header row (\(error)): is it a CSV file in UTF-8?"))
            return
        }
        let header = (reader.headerRow ?? []).map { $0.hasPrefix("\u{FEFF}") ? String($0.dropFirst()) : $0 }
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() where index[name] == nil { index[name] = position }
        let missing = mapping.columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            report.problems.append(ImportProblem(file: file, line: 1, item: "header",
                message: "the mapping reads the column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")), which the header does not have; it has \(header.map { "'\($0)'" }.joined(separator: ", "))."))
            return
        }
        let keyColumns = mapping.key.isEmpty ? header : mapping.key
        var occurrences: [String: Int] = [:]
        var rowNumber = 0
        while let row = reader.next() {
            rowNumber += 1
            report.count("rows")
            progress?(rowNumber)
            let item = "row \(rowNumber)"
            guard row.count == header.count else {
                if row.count == 1, row[0].isEmpty { report.skipped["blank line", default: 0] += 1; continue }
                report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "it has \(row.count) fields; the header has \(header.count)."))
                continue
            }
            func cell(_ column: String) -> String { row[index[column]!] }
            let keyText = String(decoding: (try? CanonicalJSON.encode(.array(keyColumns.map { .string(cell($0)) }))) ?? [], as: UTF8.self)
            let base = "csv:\(mapping.source) \(keyText)"
            occurrences[base, default: 0] += 1
            let rowIdentity = occurrences[base]! == 1 ? base : base + " #\(occurrences[base]!)"
            let subjectID = ImportSlug.unique(cell(mapping.subjectName), identity: rowIdentity)
            var group: [ImportedEvent] = []
            events: for template in mapping.events {
                var data: [(key: String, value: JSONValue)] = []
                for field in template.fields {
                    if let with = field.with, !data.contains(where: { $0.key == with }) { continue }
                    var text = field.value ?? cell(field.column!).trimmingCharacters(in: .whitespaces)
                    let origin = field.column.map { "column '\($0)'" } ?? "field '\(field.name)'"
                    if text.isEmpty {
                        if field.optional { continue }
                        report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is empty; '\(template.type)' needs '\(field.name)' (mark it \"optional\" in the mapping to leave it out)."))
                        continue events
                    }
                    if let map = field.map {
                        if let mapped = map[text] {
                            text = mapped
                        } else {
                            switch field.otherwise {
                            case .skipEvent:
                                report.skipped["\(template.type): \(origin) is '\(text.prefix(40))', which the mapping does not list", default: 0] += 1
                                continue events
                            case .skipField:
                                continue
                            case .keep:
                                break
                            case .error:
                                report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is '\(text.prefix(40))', which the mapping's \"map\" for '\(field.name)' does not list."))
                                continue events
                            }
                        }
                    }
                    var value = JSONValue.string(text)
                    switch field.convert {
                    case "iso3166-alpha3":
                        guard let code = CountryCodes.alpha3ToAlpha2[text.uppercased()] else {
                            report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is '\(text.prefix(20))', not an ISO 3166-1 alpha-3 country code."))
                            continue events
                        }
                        value = .string(code)
                    case "decimal":
                        guard let decimal = normalizedDecimal(text) else {
                            report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is '\(text.prefix(40))', not a decimal number."))
                            continue events
                        }
                        value = .string(decimal)
                    case "slug":
                        guard let slug = ImportSlug.make(text) else {
                            report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is '\(text.prefix(40))', which has no letter or digit to make an identifier of."))
                            continue events
                        }
                        value = .string(slug)
                    case "count":
                        guard let number = UInt32(text), number <= 999_999_999 else {
                            report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(origin) is '\(text.prefix(40))', not a whole number from 0 to 999,999,999."))
                            continue events
                        }
                        value = .number(String(number))
                    default:
                        if let cleaned = importText(text) { value = .string(cleaned) }
                    }
                    data.append((field.name, value))
                }
                let identity = rowIdentity + " " + template.type
                data.append((Catalogue.sourceField, .string(importText(identity) ?? identity)))
                do {
                    let subject = try Subject(mapping.subjectKind + "/" + subjectID)
                    let object = JSONObject(data)
                    try Catalogue.validate(type: template.type, subject: subject, data: object)
                    group.append(ImportedEvent(draft: EventDraft(type: EventType(template.type), subject: subject, data: object), identity: importText(identity) ?? identity))
                    report.count(template.type)
                } catch let error as AccordError {
                    report.problems.append(ImportProblem(file: file, line: nil, item: item, message: error.message))
                } catch {
                    report.problems.append(ImportProblem(file: file, line: nil, item: item, message: "\(error)"))
                }
            }
            if !group.isEmpty { groups.append(group) }
        }
        // On Linux, `InputStream.hasBytesAvailable` stays true until a read returns 0, so
        // CSV.swift reports `cannotReadFile` at the very end of a file: that is the end, not an error.
        let atEnd = stream.streamStatus == .atEnd
        if let error = reader.error, !(atEnd && { if case CSVError.cannotReadFile = error { return true } else { return false } }()) {
            report.problems.append(ImportProblem(file: file, line: nil, item: "row \(rowNumber + 1)", message: "the CSV cannot be read further: \(error) (is it UTF-8?)."))
        }
    }
}

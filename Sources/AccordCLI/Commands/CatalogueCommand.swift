import AccordModel
import ArgumentParser

/// `accord catalogue [TYPE]`: the event types `append` and the imports accept, and for one type
/// its subject, fields, their kinds and an example line for `append --from`.
struct CatalogueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalogue",
        abstract: "List the event types, or show one type's subject, fields and an example line.",
        discussion: """
            The catalogue (Journal/Format.md §7.5) is what 'accord append' and the imports check. \
            Without TYPE, every type with its subject kind and required fields; with TYPE (or a family such as \
            'finance'), each field with whether it is required, what it must hold, and a line to copy into a \
            file for 'accord append --from'.
            Examples: accord catalogue · accord catalogue finance.committed.v2 · accord catalogue action
            """)

    @Argument(help: "An event type, e.g. finance.committed.v2, or a family, e.g. finance.")
    var type: String?

    func run() throws {
        let all = Catalogue.entries.values.sorted { $0.type.utf8.lexicographicallyPrecedes($1.type.utf8) }
        guard let type else {
            let width = all.map(\.type.count).max() ?? 0
            writeOut("\(all.count) event types (Journal/Format.md §7.5); 'accord catalogue TYPE' shows one in full.\n\n")
            writeOut(pad("TYPE", width) + "  " + pad("SUBJECT", 22) + "  REQUIRED FIELDS\n")
            for entry in all {
                let required = entry.required.map(\.0).joined(separator: ", ")
                writeOut((pad(entry.type, width) + "  " + pad(entry.subjectKind + "/<id>", 22) + "  " + (required.isEmpty ? (entry.needsSomeField ? "(at least one field)" : "(none)") : required)).trimmingTrailing() + "\n")
            }
            return
        }
        let chosen = all.filter { EventFilter.matches($0.type, type, separator: ".") }
        guard !chosen.isEmpty else {
            throw AccordError(.notFound, "'\(type.prefix(80))' is no event type or family of the catalogue. Run 'accord catalogue' to list them.", field: "type")
        }
        writeOut(chosen.map(Self.describe).joined(separator: "\n"))
    }

    /// One type in full: subject, fields, an example line.
    static func describe(_ entry: Catalogue.Entry) -> String {
        var out = "\(entry.type)\n  subject  \(entry.subjectKind)/<id>   (a lower-case slug id, e.g. \(entry.subjectKind)/example-1)\n"
        let fields = entry.required.map { ($0.0, $0.1, true) } + entry.optional.map { ($0.0, $0.1, false) }
        if fields.isEmpty {
            out += "  fields   none\n"
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            out += "  fields" + (entry.needsSomeField ? " (at least one)" : "") + "\n"
            for (name, kind, required) in fields {
                out += "    " + pad(name, width) + "  " + (required ? "required" : "optional") + "  " + kind.expectation + "\n"
            }
        }
        let data = entry.required.map { "\"\($0.0)\":\(example($0.1, field: $0.0))" }
            + (entry.required.isEmpty && entry.needsSomeField ? entry.optional.prefix(1).map { "\"\($0.0)\":\(example($0.1, field: $0.0))" } : [])
        out += "  example (a line for 'accord append --from'):\n"
        out += "    {\"type\":\"\(entry.type)\",\"subject\":\"\(entry.subjectKind == Catalogue.anyKind ? "funding" : entry.subjectKind)/example-1\",\"data\":{\(data.joined(separator: ","))}}\n"
        return out
    }

    /// A value of `kind` that the catalogue accepts, as JSON.
    static func example(_ kind: Catalogue.FieldKind, field: String) -> String {
        switch kind {
        case .text: field == "iatiType" ? "\"2\"" : "\"Example \(field)\""
        case .reference: "\"example-\(field.lowercased())\""
        case .references: "[\"example-\(field.lowercased())\"]"
        case .oneOf(let options): "\"\(options.first ?? "")\""
        case .listOf(let options): "[\"\(options.first ?? "")\"]"
        case .country: "\"KZ\""
        case .date: "\"2024-03-01\""
        case .signedDecimal: "\"1000.00\""
        case .decimal: "\"1.5\""
        case .currency: "\"EUR\""
        case .count: "25"
        case .url: "\"https://example.org/\(field.lowercased())\""
        case .money: "{\"amount\":\"1000.00\",\"currency\":\"EUR\"}"
        case .narratives: "[{\"text\":\"Example \(field)\",\"lang\":\"en\"}]"
        case .descriptions: "[{\"type\":\"1\",\"narratives\":[{\"text\":\"Example description\"}]}]"
        case .activityDates: "[{\"type\":\"2\",\"date\":\"2024-03-01\"}]"
        case .eventID: "\"" + String(repeating: "0", count: 64) + "\""  // the id of the event concerned, from 'accord log'
        case .publicKey: "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\""  // RFC 8032 test 1's public key
        case .keyDigest: "\"" + String(repeating: "0", count: 64) + "\""
        case .sequenceNumber: "1"
        }
    }
}

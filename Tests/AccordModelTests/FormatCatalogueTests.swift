import AccordModel
import AccordTesting
import Foundation
import Testing

/// Journal/Format.md §7.5 holds the catalogue (issue 14: a reader must never need anything
/// outside Journal/). The table there is generated from ``Catalogue``; these tests keep the two
/// from drifting apart. When one fails, paste the block it prints between the markers of §7.5, or
/// run it with `ACCORD_UPDATE_FORMAT_MD=1` to have it rewrite that block.
@Suite("Format.md §7.5 is the catalogue in code")
struct FormatCatalogueTests {
    static let begin = "<!-- catalogue:begin (generated from Catalogue.swift; FormatCatalogueTests checks it) -->\n"
    static let end = "<!-- catalogue:end -->"

    /// The enumerations of the catalogue, by the names Format.md §7.5 gives them.
    static let enumerations: [(name: String, values: [String])] = [
        ("stakeholder-kind", Catalogue.stakeholderKinds),
        ("pillar", Catalogue.pillars),
        ("value-chain", Catalogue.valueChains),
        ("instrument", Catalogue.instruments),
        ("milestone", Catalogue.milestones),
        ("organisation-role", Catalogue.organisationRoles),
        ("country", Codes.countries.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }),
        ("currency", Codes.currencies.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }),
    ]

    static func render(_ kind: Catalogue.FieldKind) -> String {
        func named(_ values: [String]) -> String {
            if let match = enumerations.first(where: { $0.values == values }) { return "*\(match.name)*" }
            return "{" + values.map { "`\($0)`" }.joined(separator: ", ") + "}"
        }
        switch kind {
        case .text: return "text"
        case .reference: return "identifier"
        case .references: return "identifiers"
        case .oneOf(let values): return "one of " + named(values)
        case .listOf(let values): return "list of " + named(values)
        case .country: return "country"
        case .date: return "date"
        case .signedDecimal: return "signed-decimal"
        case .decimal: return "decimal"
        case .currency: return "currency"
        case .count: return "count"
        case .url: return "url"
        case .money: return "money"
        case .narratives(let limit): return limit == Catalogue.maxTextBytes ? "narratives" : "narratives (each `text` at most \(limit) bytes)"
        case .descriptions: return "descriptions"
        case .activityDates: return "activity-dates"
        case .eventID: return "event-id"
        case .publicKey: return "public-key"
        case .keyDigest: return "key-digest"
        case .sequenceNumber: return "seq"
        }
    }

    static func render(_ fields: [(String, Catalogue.FieldKind)]) -> String {
        fields.isEmpty ? "—" : fields.map { "`\($0.0)` \(render($0.1))" }.joined(separator: ", ")
    }

    /// The block of Format.md §7.5 as the code defines it.
    static func generatedBlock() -> String {
        var lines = [
            "| Type | Subject | Required fields | Optional fields | Empty `data` |",
            "|---|---|---|---|---|",
        ]
        let types = Catalogue.entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for type in types {
            let entry = Catalogue.entries[type]!
            let empty = entry.required.isEmpty && !entry.needsSomeField ? "allowed" : "refused"
            lines.append("| `\(type)` | `\(entry.subjectKind)/<id>` | \(render(entry.required)) | \(render(entry.optional)) | \(empty) |")
        }
        lines += ["", "| Enumeration | Values |", "|---|---|"]
        for enumeration in enumerations {
            lines.append("| *\(enumeration.name)* | " + enumeration.values.map { "`\($0)`" }.joined(separator: ", ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func documentedBlock() throws -> String {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/Journal/Format.md"))
        let spec = String(decoding: bytes, as: UTF8.self)
        let start = try #require(spec.range(of: begin), "Format.md §7.5 has no generated catalogue")
        let stop = try #require(spec.range(of: end, range: start.upperBound..<spec.endIndex))
        return String(spec[start.upperBound..<stop.lowerBound])
    }

    @Test("The catalogue table of Format.md §7.5 lists exactly the types, subjects, fields and kinds of Catalogue.swift")
    func catalogueTableMatchesTheCode() throws {
        let documented = try Self.documentedBlock()
        let generated = Self.generatedBlock()
        // `ACCORD_UPDATE_FORMAT_MD=1 swift test --filter catalogueTableMatchesTheCode` rewrites the
        // block from the code (then review the diff of Format.md, and this test passes).
        if ProcessInfo.processInfo.environment["ACCORD_UPDATE_FORMAT_MD"] == "1", documented != generated {
            let path = Fixtures.repositoryRoot + "/Journal/Format.md"
            let spec = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            let updated = spec.replacingOccurrences(of: Self.begin + documented + Self.end, with: Self.begin + generated + Self.end)
            try Data(updated.utf8).write(to: URL(fileURLWithPath: path))
            return
        }
        #expect(documented == generated, "Format.md §7.5 differs from Catalogue.swift; the block between the catalogue markers should read:\n\(generated)")
    }

    @Test("Every type of the table is in the catalogue and every catalogue type is in the table (parsed, not compared as text)")
    func everyDocumentedTypeIsInTheCode() throws {
        let rows = try Self.documentedBlock().split(separator: "\n").filter { $0.hasPrefix("| `") }
        let documented = Set(rows.map { row in
            String(row.split(separator: "|")[0].trimmingCharacters(in: .whitespaces).dropFirst().dropLast())
        })
        #expect(documented == Set(Catalogue.entries.keys))
        for type in documented { #expect(EventType.isValidName(type), "\(type)") }
        // `source` may be added to every type and is therefore in no row (Format.md §7.5).
        for row in rows { #expect(!row.contains("`\(Catalogue.sourceField)`")) }
    }

    @Test("url: U+007F (DEL) is a control character and is refused, as in text; space and other controls too",
          arguments: ["https://example.org/a\u{7F}b", "https://example.org/a b", "https://example.org/\u{1F}", "ftp://example.org/", "HTTPS://example.org/"])
    func urlRefusesControlCharacters(url: String) throws {
        let data = JSONObject([("date", .string("2023-01-10")), ("title", .string("Report")), ("url", .string(url))])
        #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "research.output.published.v1", subject: Subject("research/r"), data: data)
        }
    }

    @Test("url: http or https, at most 2,048 bytes, non-ASCII kept")
    func urlAcceptsWhatFormatAllows() throws {
        for url in ["http://example.org", "https://example.org/é?q=1#x", "https://" + String(repeating: "a", count: 2040)] {
            let data = JSONObject([("date", .string("2023-01-10")), ("title", .string("Report")), ("url", .string(url))])
            try Catalogue.validate(type: "research.output.published.v1", subject: Subject("research/r"), data: data)
        }
        let long = JSONObject([("date", .string("2023-01-10")), ("title", .string("Report")), ("url", .string("https://" + String(repeating: "a", count: 2041)))])
        #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "research.output.published.v1", subject: Subject("research/r"), data: long)
        }
    }
}

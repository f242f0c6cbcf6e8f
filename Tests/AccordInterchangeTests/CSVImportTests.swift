import AccordInterchange
import AccordTesting
import CSV
import Foundation
import Testing

@Suite("Importing CSV tables by a mapping", .serialized)
struct CSVImportTests {
    static var table: String { get throws { try Fixtures.sharedDataFile("hydrogen/H2Projects.csv") } }
    static let mapping = Fixtures.repositoryRoot + "/Tools/mappings/iea-h2-projects.json"

    /// The rows of the table, read with the same parser the importer uses (CSV.swift).
    static func rows() throws -> [[String: String]] {
        let reader = try CSVReader(stream: try #require(InputStream(fileAtPath: table)), hasHeaderRow: true)
        let header = try #require(reader.headerRow)
        var rows: [[String: String]] = []
        while let row = reader.next() { rows.append(Dictionary(zip(header, row), uniquingKeysWith: { first, _ in first })) }
        return rows
    }

    /// The mapping's status → milestone table, read from the mapping file.
    static func milestones() throws -> [String: String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mapping))) as? [String: Any]
        let events = json?["events"] as? [[String: Any]]
        let fields = events?.first { $0["type"] as? String == "industry.milestone.reached.v1" }?["fields"] as? [String: Any]
        return try #require((fields?["milestone"] as? [String: Any])?["map"] as? [String: String])
    }

    @Test func theHydrogenTableGivesOneProjectPerRowAndEachStatusAsItsMilestone() throws {
        let rows = try Self.rows()
        #expect(rows.count == 1468)
        let map = try Self.milestones()
        var expected: [String: Int] = [:]
        for row in rows { expected[map[row["Status"] ?? ""] ?? "(none)", default: 0] += 1 }

        let temp = TemporaryDirectory("csv")
        let journal = try newJournal(temp)
        let result = try accord(["import", "csv", "--map", Self.mapping, Self.table], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("1468 rows"))
        let byMilestone = try stateRows(journal, view: "industry", keys: ["milestone", "total"])
        var got: [String: Int] = [:]
        for row in byMilestone { got[row["milestone"]!] = Int(row["total"] ?? "") }
        #expect(got.filter { $0.value > 0 } == expected)

        // The two Kazakhstan projects, by name, with the country as ISO 3166-1 alpha-2.
        let kazakh = rows.filter { $0["Country"] == "KAZ" }.compactMap { $0["Project Name"] }.sorted()
        #expect(kazakh.count == 2)
        let projects = try stateRows(journal, view: "industry", keys: ["project", "name", "country"])
        #expect(projects.count == rows.count)
        #expect(projects.filter { $0["country"] == "KZ" }.compactMap { $0["name"] }.sorted() == kazakh)
    }

    @Test func importingTheTableAgainAddsNothing() throws {
        let temp = TemporaryDirectory("csv")
        let journal = try newJournal(temp)
        #expect(try accord(["import", "csv", "--map", Self.mapping, Self.table], journal: journal).status == 0)
        let before = try FileDamage.snapshot(of: journal + "/segments")
        let again = try accord(["import", "csv", "--map", Self.mapping, Self.table], journal: journal)
        #expect(again.status == 0)
        #expect(again.output.contains("0 new events"))
        #expect(try FileDamage.snapshot(of: journal + "/segments") == before)
    }

    @Test func quotedCommasQuotesLineBreaksCRLFAndUTF8AreReadAsRFC4180Says() throws {
        let temp = TemporaryDirectory("csv")
        let journal = try newJournal(temp)
        let csv = "Project Name,Country,Status,Capacity\r\n"
            + "\"Astana, phase \"\"one\"\"\",KAZ,Concept,12.5\r\n"
            + "\"Line\r\nbreak\",DEU,FID,\r\n"
            + "Қазақстан сутегі,KAZ,Operational,\r\n"
        try FileDamage.write(temp.child("t.csv"), Array(csv.utf8))
        let mapping = """
            {"format": "accord-csv-mapping/1", "source": "rfc-test",
             "subject": {"kind": "project", "name": "Project Name"},
             "events": [{"type": "industry.project.registered.v1", "fields": {
               "name": {"column": "Project Name"}, "sponsor": {"value": "unspecified"},
               "valueChain": {"value": "renewable-hydrogen"}, "country": {"column": "Country", "convert": "iso3166-alpha3"},
               "capacity": {"column": "Capacity", "convert": "decimal", "optional": true},
               "capacityUnit": {"value": "MW", "with": "capacity"}}}]}
            """
        try FileDamage.write(temp.child("m.json"), Array(mapping.utf8))
        let result = try accord(["import", "csv", "--map", temp.child("m.json"), temp.child("t.csv")], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        let names = try stateRows(journal, view: "industry", keys: ["project", "name"]).compactMap { $0["name"] }.sorted()
        // A line break inside a field is white space in a name (catalogue text has no control characters).
        #expect(names == ["Astana, phase \"one\"", "Line break", "Қазақстан сутегі"])
        let log = try accord(["log", "--json"], journal: journal)
        #expect(log.output.contains("\"capacity\":\"12.5\",\"capacityUnit\":\"MW\""))
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var name: String
        var csv: String
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "a column the mapping reads is missing", csv: "Project,Country,Status\nA,KAZ,Concept\n",
                 mentions: ["header", "'Project Name'", "'Project'"]),
        BadInput(name: "an unknown country code", csv: "Project Name,Country,Status\nA,XYZ,Concept\n", mentions: ["row 1", "'XYZ'", "alpha-3"]),
        BadInput(name: "an empty required cell", csv: "Project Name,Country,Status\n,KAZ,Concept\n", mentions: ["row 1", "'Project Name' is empty"]),
        BadInput(name: "a row with too many fields", csv: "Project Name,Country,Status\nA,KAZ,Concept,extra\n", mentions: ["row 1", "4 fields", "header has 3"]),
        BadInput(name: "a status the mapping does not list", csv: "Project Name,Country,Status\nA,KAZ,Dreaming\n", mentions: ["row 1", "'Dreaming'"]),
    ]

    @Test(arguments: badInputs)
    func badRowsAreRefusedNamingTheRowAndColumnAndNothingIsWritten(_ bad: BadInput) throws {
        let temp = TemporaryDirectory("csv")
        let journal = try newJournal(temp)
        let mapping = """
            {"format": "accord-csv-mapping/1", "source": "bad-test",
             "subject": {"kind": "project", "name": "Project Name"},
             "events": [{"type": "industry.project.registered.v1", "fields": {
               "name": {"column": "Project Name"}, "sponsor": {"value": "unspecified"},
               "valueChain": {"value": "renewable-hydrogen"}, "country": {"column": "Country", "convert": "iso3166-alpha3"}}},
              {"type": "industry.milestone.reached.v1", "fields": {
               "milestone": {"column": "Status", "map": {"Concept": "concept"}}, "date": {"value": "2022-10-01"}}}]}
            """
        try FileDamage.write(temp.child("m.json"), Array(mapping.utf8))
        try FileDamage.write(temp.child("bad.csv"), Array(bad.csv.utf8))
        let before = try FileDamage.snapshot(of: journal)
        let result = try accord(["import", "csv", "--map", temp.child("m.json"), temp.child("bad.csv")], journal: journal)
        #expect(result.status == 2)
        for mention in bad.mentions { #expect(result.stderr.contains(mention), "'\(mention)' not in: \(result.stderr)") }
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func aMappingWithAnErrorIsRefusedNamingTheMember() throws {
        let temp = TemporaryDirectory("csv")
        let journal = try newJournal(temp)
        let mapping = """
            {"format": "accord-csv-mapping/1", "source": "x", "subject": {"kind": "project", "name": "N"},
             "events": [{"type": "industry.project.registered.v1", "fields": {"name": {"column": "N", "convert": "upper"}}}]}
            """
        try FileDamage.write(temp.child("m.json"), Array(mapping.utf8))
        try FileDamage.write(temp.child("t.csv"), Array("N\nA\n".utf8))
        let result = try accord(["import", "csv", "--map", temp.child("m.json"), temp.child("t.csv")], journal: journal)
        #expect(result.status == 2)
        #expect(result.stderr.contains("events[0].fields.name.convert"), "\(result.stderr)")
    }
}

import AccordInterchange
import AccordModel
import AccordStore
import AccordTesting
import Foundation
import FoundationXML
import Testing

/// `xmllint --noout --schema <official IATI 2.03 schema>` over a file (Journal/Import.md, "IATI export").
enum IATISchema {
    static let xsd = Fixtures.sharedData("iati/schema-2.03/iati-activities-schema.xsd")

    /// The path of `xmllint`, found on `PATH` (Debian package libxml2-utils).
    static var xmllint: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = directory + "/xmllint"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Expects `file` to validate against the official schema; records an issue saying to install
    /// libxml2-utils when `xmllint` is missing (the check never passes silently).
    static func expectValid(_ file: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let tool = xmllint else {
            Issue.record("xmllint is missing, so the IATI export cannot be checked against the official schema: install libxml2-utils (apt-get install libxml2-utils; .ci/run does this).", sourceLocation: sourceLocation)
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--noout", "--schema", xsd, file]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "xmllint: \(message.prefix(2000))", sourceLocation: sourceLocation)
    }
}

@Suite("IATI export against the official 2.03 schema", .serialized)
struct IATIExportSchemaTests {
    /// Per activity identifier, the UTF-8 bytes of each narrative (with its `xml:lang`) under `path`.
    static func narratives(_ file: String, _ path: String) throws -> [String: [[UInt8]]] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: file), options: [])
        var found: [String: [[UInt8]]] = [:]
        for node in try document.nodes(forXPath: "/iati-activities/iati-activity") {
            guard let activity = node as? XMLElement else { continue }
            let id = try activity.nodes(forXPath: "iati-identifier").first?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            found[id] = try activity.nodes(forXPath: path).map { narrative in
                let lang = (narrative as? XMLElement)?.attribute(forName: "xml:lang")?.stringValue ?? ""
                return Array((lang + "|").utf8) + Array((narrative.stringValue ?? "").utf8)
            }
        }
        return found
    }

    /// The values of `path` (attributes) per activity identifier.
    static func values(_ file: String, _ path: String) throws -> [String: [String]] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: file), options: [])
        var found: [String: [String]] = [:]
        for node in try document.nodes(forXPath: "/iati-activities/iati-activity") {
            let id = try node.nodes(forXPath: "iati-identifier").first?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            found[id] = try node.nodes(forXPath: path).compactMap(\.stringValue)
        }
        return found
    }

    func importedAndExported(_ files: [String], temp: TemporaryDirectory) throws -> (journal: String, export: String, output: String) {
        let journal = try newJournal(temp)
        for file in files {
            let result = try accord(["import", "iati", file], journal: journal)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let out = temp.child("export.xml")
        // Imported fundings carry their own reporting organisation: no option is needed.
        let export = try accord(["export", "iati", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        return (journal, out, export.output)
    }

    @Test func theEUFileExportValidatesAndKeepsTitlesDescriptionsStatusDatesAndOrganisations() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let (_, out, output) = try importedAndExported([IATIImportTests.eu], temp: temp)
        try IATISchema.expectValid(out)
        #expect(output.contains("Wrote 100 activities with 164 transactions"), "\(output)")
        // Everything the schema requires was in the source, and is written as read.
        #expect(!output.contains("Not supplied"), "\(output)")
        for path in ["title/narrative", "description/narrative", "reporting-org/narrative"] {
            let source = try Self.narratives(IATIImportTests.eu, path)
            let exported = try Self.narratives(out, path)
            #expect(source.count == 100)
            #expect(exported == source, "\(path) differs")
        }
        for path in ["activity-status/@code", "activity-date/@type", "activity-date/@iso-date", "reporting-org/@ref", "reporting-org/@type", "description/@type"] {
            #expect(try Self.values(out, path) == (try Self.values(IATIImportTests.eu, path)), "\(path) differs")
        }
        // Participating organisations keep their types and names (those with a role, once per role).
        let sourceTypes = try Self.values(IATIImportTests.eu, "participating-org[@role]/@type")
        let exportedTypes = try Self.values(out, "participating-org/@type")
        for (id, types) in sourceTypes { #expect(Set(exportedTypes[id] ?? []) == Set(types), "\(id)") }
        let title = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!title.contains("<narrative>xi-iati-ec-intpa-2018-40697-0-f5561521</narrative>"))
    }

    @Test func theWHOFileExportValidates() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let (_, out, output) = try importedAndExported([IATIImportTests.who], temp: temp)
        try IATISchema.expectValid(out)
        #expect(output.contains("Wrote"), "\(output)")
        // Every exported activity keeps its source's titles, byte for byte.
        let source = try Self.narratives(IATIImportTests.who, "title/narrative")
        let exported = try Self.narratives(out, "title/narrative")
        #expect(!exported.isEmpty)
        for (id, titles) in exported { #expect(titles == source[id], "\(id)") }
    }

    @Test func bothFilesInOneJournalExportValidatesAndReimportsAsNothingNew() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let (journal, out, _) = try importedAndExported([IATIImportTests.eu, IATIImportTests.who], temp: temp)
        try IATISchema.expectValid(out)
        let again = try accord(["import", "iati", out], journal: journal)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.output.contains(" 0 new events"), "\(again.output)")
    }

    @Test func theSampleJournalHasNoFinanceSoTheExportIsRefusedClearlyAndWritesNothing() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let out = temp.child("sample.xml")
        let export = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC", "--reporting-org-type", "15", "--out", out],
                                journal: CloudEventsTests.sample)
        #expect(export.status == 2)
        #expect(export.stderr.contains("no funding in this journal has finance events"), "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A copy of the sample journal with an Accord-native commitment and disbursement between two
    /// of its stakeholders.
    func sampleWithNativeFinance(_ temp: TemporaryDirectory) throws -> String {
        let journal = temp.child("sample")
        try FileManager.default.copyItem(atPath: CloudEventsTests.sample, toPath: journal)
        let events = """
            {"type":"finance.committed.v1","subject":"funding/eu-kz-raw-materials","data":{"provider":"european-commission","receiver":"kz-miid","amount":"2500000.00","currency":"EUR","date":"2023-03-01","instrument":"grant"}}
            {"type":"finance.disbursed.v1","subject":"funding/eu-kz-raw-materials","data":{"provider":"european-commission","receiver":"kz-miid","amount":"500000.00","currency":"EUR","date":"2023-06-15"}}
            {"type":"finance.pledged.v1","subject":"funding/eu-kz-hydrogen-skills","data":{"provider":"european-commission","receiver":"kz-government","amount":"100000","currency":"EUR","date":"2024-01-10"}}

            """
        let append = try accord(["append", "--from", "-"], journal: journal, input: events)
        #expect(append.status == 0, "\(append.stderr)")
        return journal
    }

    @Test func aJournalWithOnlyAccordNativeEventsNeedsTheReportingOrganisationAndItsTypeNamedByOption() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let journal = try sampleWithNativeFinance(temp)
        let out = temp.child("native.xml")
        let noRef = try accord(["export", "iati", "--out", out], journal: journal)
        #expect(noRef.status == 2)
        #expect(noRef.stderr.contains("--reporting-org REF"), "\(noRef.stderr)")
        let noType = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--out", out], journal: journal)
        #expect(noType.status == 2)
        #expect(noType.stderr.contains("--reporting-org-type CODE"), "\(noType.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let badType = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--reporting-org-type", "99", "--out", out], journal: journal)
        #expect(badType.status != 0)
        #expect(badType.stderr.contains("OrganisationType"), "\(badType.stderr)")
    }

    @Test func aJournalWithOnlyAccordNativeEventsExportsValidXMLAndSaysWhatAccordCouldNotSupply() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let journal = try sampleWithNativeFinance(temp)
        let out = temp.child("native.xml")
        let export = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--reporting-org-type", "15",
                                 "--reporting-name", "European Commission", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        try IATISchema.expectValid(out)
        #expect(export.output.contains("Wrote 2 activities with 3 transactions"), "\(export.output)")
        for note in ["Not supplied by Accord", "title: the funding id", "description: a sentence", "activity-status: derived", "activity-date: derived",
                     "reporting-org: from --reporting-org", "participating-org: providers as funding (1)"] {
            #expect(export.output.contains(note), "missing '\(note)' in \(export.output)")
        }
        #expect(!export.output.contains("reporting-org name"), "the name was given")
        #expect(try Self.values(out, "iati-identifier") == ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills": ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills"],
                                                              "XI-IATI-EC_INTPA-eu-kz-raw-materials": ["XI-IATI-EC_INTPA-eu-kz-raw-materials"]])
        // Derived: pledges only → pipeline, planned start; a disbursement → implementation, actual start at it.
        #expect(try Self.values(out, "activity-status/@code") == ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills": ["1"], "XI-IATI-EC_INTPA-eu-kz-raw-materials": ["2"]])
        #expect(try Self.values(out, "activity-date/@iso-date") == ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills": ["2024-01-10"], "XI-IATI-EC_INTPA-eu-kz-raw-materials": ["2023-06-15"]])
        #expect(try Self.values(out, "activity-date/@type") == ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills": ["1"], "XI-IATI-EC_INTPA-eu-kz-raw-materials": ["2"]])
        #expect(try Self.values(out, "title/narrative") == ["XI-IATI-EC_INTPA-eu-kz-hydrogen-skills": ["eu-kz-hydrogen-skills"], "XI-IATI-EC_INTPA-eu-kz-raw-materials": ["eu-kz-raw-materials"]])
        #expect(try Self.values(out, "participating-org/@role")["XI-IATI-EC_INTPA-eu-kz-raw-materials"] == ["1", "4"])
    }

    @Test func aJournalWithOnlyAFreshInitAndNativeEventsOfItsOwnValidates() throws {
        let temp = TemporaryDirectory("iati-xsd")
        let journal = try newJournal(temp)
        let events = """
            {"type":"stakeholder.registered.v1","subject":"stakeholder/eib","data":{"name":"European Investment Bank","kind":"financial","country":"EU"}}
            {"type":"stakeholder.registered.v1","subject":"stakeholder/kz-hydrogen","data":{"name":"Қазақстан сутегі","kind":"industrial","country":"KZ"}}
            {"type":"finance.committed.v1","subject":"funding/kz-h2-loan","data":{"provider":"eib","receiver":"kz-hydrogen","amount":"-0.5","currency":"KZT","date":"2025-02-28","instrument":"loan"}}
            {"type":"funding.described.v1","subject":"funding/kz-h2-loan","data":{"title":[{"text":"Сутегі  несиесі","lang":"kk"},{"text":"Hydrogen loan"}],"status":"3"}}

            """
        #expect(try accord(["append", "--from", "-"], journal: journal, input: events).status == 0)
        let out = temp.child("native.xml")
        let export = try accord(["export", "iati", "--reporting-org", "XM-EIB", "--reporting-org-type", "40", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.output.contains("reporting-org name: its ref"), "\(export.output)")
        try IATISchema.expectValid(out)
        // A recorded title and status are written as recorded, not derived.
        #expect(try Self.narratives(out, "title/narrative")["XM-EIB-kz-h2-loan"] == [Array("kk|Сутегі  несиесі".utf8), Array("|Hydrogen loan".utf8)])
        #expect(try Self.values(out, "activity-status/@code")["XM-EIB-kz-h2-loan"] == ["3"])
        #expect(!export.output.contains("title:") && !export.output.contains("activity-status:"), "\(export.output)")
        // Industrial → 70 (private sector); financial names no single type and gets none.
        #expect(try Self.values(out, "participating-org/@type") == ["XM-EIB-kz-h2-loan": ["70"]])
    }
}

@Suite("What an IATI activity says about itself")
struct IATIDescribedTests {
    static func activity(title: String, description: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <iati-activities version="2.03">
         <iati-activity default-currency="EUR">
          <iati-identifier>XX-1-A</iati-identifier>
          <reporting-org ref="XX-1" type="10"><narrative xml:lang="kk">Үкімет</narrative><narrative>Government</narrative></reporting-org>
          <title><narrative xml:lang="fr">\(title)</narrative></title>
          <description type="2"><narrative>\(description)</narrative></description>
          <participating-org role="1" type="10"><narrative>Үкімет</narrative></participating-org>
          <activity-status code="3"/>
          <activity-date type="1" iso-date="2020-01-01"/>
          <activity-date type="9" iso-date="2020-01-01"/>
          <transaction ref="t1"><transaction-type code="2"/><transaction-date iso-date="2020-02-01"/><value>10</value></transaction>
         </iati-activity>
        </iati-activities>

        """
    }

    @Test func textIsKeptByteForByteWithItsLanguageAndLineBreaksAndExportedAsRead() throws {
        let temp = TemporaryDirectory("iati-described")
        let journal = try newJournal(temp)
        // NFD "é" (e + U+0301) and NFC "é" must both survive as written; a line break in a description too.
        let title = "Re\u{301}seau de l’hydroge\u{300}ne &amp; «é»"
        let description = "Line one\n  line two\tand a tab"
        let file = temp.child("a.xml")
        try FileDamage.write(file, Array(Self.activity(title: title, description: description).utf8))
        let result = try accord(["import", "iati", file], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("skipped 1: activity-date without a type 1–4"), "\(result.output)")
        let out = temp.child("out.xml")
        let export = try accord(["export", "iati", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        try IATISchema.expectValid(out)
        let titles = try IATIExportSchemaTests.narratives(out, "title/narrative")["XX-1-A"]
        #expect(titles == [Array("fr|Re\u{301}seau de l’hydroge\u{300}ne & «é»".utf8)])
        #expect(try IATIExportSchemaTests.narratives(out, "description/narrative")["XX-1-A"] == [Array(("|" + description).utf8)])
        #expect(try IATIExportSchemaTests.narratives(out, "reporting-org/narrative")["XX-1-A"] == [Array("kk|Үкімет".utf8), Array("|Government".utf8)])
        #expect(try IATIExportSchemaTests.values(out, "activity-status/@code")["XX-1-A"] == ["3"])
        #expect(try IATIExportSchemaTests.values(out, "description/@type")["XX-1-A"] == ["2"])
        // Importing it again adds nothing; a later file with a changed title adds one event.
        let again = try accord(["import", "iati", out], journal: journal)
        #expect(again.output.contains(" 0 new events"), "\(again.output)")
        try FileDamage.write(file, Array(Self.activity(title: "Another title", description: description).utf8))
        let changed = try accord(["import", "iati", file], journal: journal)
        #expect(changed.output.contains(" 1 new event"), "\(changed.output)")
        let export2 = try accord(["export", "iati", "--out", out], journal: journal)
        #expect(export2.status == 0)
        #expect(try IATIExportSchemaTests.values(out, "title/narrative")["XX-1-A"] == ["Another title"])
    }

    @Test func reimportingTheEUFileIntoAJournalImportedBeforeTheDescriptionsAddsOnlyThem() throws {
        // A journal as an earlier Accord left it: the file's events without funding.described.v1.
        let temp = TemporaryDirectory("iati-described")
        let path = temp.child("older")
        let journal = try EventJournal.create(at: path, site: SiteID("brussels"), seed: Fixtures.seed("brussels"))
        var importer = IATIImporter(file: try IATIImportTests.eu)
        importer.read()
        #expect(importer.report.problems.isEmpty)
        let older = importer.groups.map { $0.filter { $0.draft.type.rawValue != "funding.described.v1" } }
        let writer = try journal.openWriter()
        var known = Set<BytewiseText>()
        _ = try ImportWriter.write(older, to: writer, known: &known)
        writer.close()
        // Its export needs the options: nothing says who reported the activities.
        let out = temp.child("older.xml")
        let before = try accord(["export", "iati", "--out", out], journal: path)
        #expect(before.status == 2)
        #expect(before.stderr.contains("--reporting-org"), "\(before.stderr)")
        let again = try accord(["import", "iati", IATIImportTests.eu], journal: path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.output.contains("100 new events"), "\(again.output)")
        #expect(again.output.contains("564 already known"), "\(again.output)")
        let after = try accord(["export", "iati", "--out", out], journal: path)
        #expect(after.status == 0, "\(after.stderr)")
        #expect(!after.output.contains("Not supplied"), "\(after.output)")
        try IATISchema.expectValid(out)
    }

    @Test func aDescriptionOverItsLimitRefusesTheFileNamingItsLine() throws {
        let temp = TemporaryDirectory("iati-described")
        let journal = try newJournal(temp)
        let file = temp.child("long.xml")
        let long = String(repeating: "ж", count: Catalogue.descriptionTextLimit / 2 + 1)
        try FileDamage.write(file, Array(Self.activity(title: "T", description: long).utf8))
        let before = try FileDamage.snapshot(of: journal)
        let result = try accord(["import", "iati", file], journal: journal)
        #expect(result.status == 2)
        #expect(result.stderr.contains("long.xml:7:"), "\(result.stderr.prefix(400))")
        #expect(result.stderr.contains("\(Catalogue.descriptionTextLimit + 2) bytes; at most \(Catalogue.descriptionTextLimit)"), "\(result.stderr.prefix(400))")
        #expect(result.stderr.count < 1000, "the message must not echo the text")
        #expect(try FileDamage.snapshot(of: journal) == before)
        // At the limit it is kept.
        let fits = String(repeating: "ж", count: Catalogue.descriptionTextLimit / 2)
        try FileDamage.write(file, Array(Self.activity(title: "T", description: fits).utf8))
        #expect(try accord(["import", "iati", file], journal: journal).status == 0)
    }

    @Test func moreTitleLanguagesThanKeptRefuseTheFileAndFewerAreKept() throws {
        let temp = TemporaryDirectory("iati-described")
        let journal = try newJournal(temp)
        let file = temp.child("many.xml")
        func titles(_ n: Int) -> String { (1...n).map { "T\($0)" }.joined(separator: "</narrative><narrative xml:lang=\"fr\">") }
        try FileDamage.write(file, Array(Self.activity(title: titles(Catalogue.maxNarratives + 5), description: "D").utf8))
        let refused = try accord(["import", "iati", file], journal: journal)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("more than \(Catalogue.maxNarratives) narratives"), "\(refused.stderr.prefix(400))")
        try FileDamage.write(file, Array(Self.activity(title: titles(Catalogue.maxNarratives), description: "D").utf8))
        #expect(try accord(["import", "iati", file], journal: journal).status == 0)
    }

    @Test func theCatalogueRefusesMalformedDescribedEvents() throws {
        let subject = try Subject("funding/x-1")
        func data(_ json: String) throws -> JSONObject {
            guard case .object(let object) = try JSONParser.parse(Array(json.utf8)) else { throw AccordError(.badInput, "not an object") }
            return object
        }
        let good = #"{"title":[{"text":"A\nB","lang":"EN"}],"status":"2","dates":[{"type":"1","date":"2020-01-01"}]}"#
        try Catalogue.validate(type: "funding.described.v1", subject: subject, data: try data(good))
        let bad: [(String, String)] = [
            (#"{}"#, "data"),
            (#"{"title":[]}"#, "data.title"),
            (#"{"title":[{"text":""}]}"#, "data.title[0].text"),
            (#"{"title":[{"text":"a\u0001"}]}"#, "data.title[0].text"),
            (#"{"title":[{"text":"a","lang":"e n"}]}"#, "data.title[0].lang"),
            (#"{"title":[{"text":"a","extra":"x"}]}"#, "data.title[0].extra"),
            (#"{"status":"7"}"#, "data.status"),
            (#"{"dates":[{"type":"5","date":"2020-01-01"}]}"#, "data.dates[0].type"),
            (#"{"dates":[{"type":"1","date":"2020-02-30"}]}"#, "data.dates[0].date"),
            (#"{"descriptions":[{"type":"1"}]}"#, "data.descriptions[0].narratives"),
            (#"{"title":[{"text":"\#(String(repeating: "a", count: 4097))"}]}"#, "data.title[0].text"),
        ]
        for (json, field) in bad {
            #expect(throws: AccordError.self, "\(json.prefix(60))") { try Catalogue.validate(type: "funding.described.v1", subject: subject, data: try data(json)) }
            do {
                try Catalogue.validate(type: "funding.described.v1", subject: subject, data: try data(json))
            } catch let error as AccordError {
                #expect(error.field == field, "\(json.prefix(60)): \(error.message)")
            }
        }
        let nine = Array(repeating: #"{"text":"a"}"#, count: Catalogue.maxNarratives + 1).joined(separator: ",")
        #expect(throws: AccordError.self) { try Catalogue.validate(type: "funding.described.v1", subject: subject, data: try data(#"{"title":[\#(nine)]}"#)) }
    }
}

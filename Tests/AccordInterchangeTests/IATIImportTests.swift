import AccordInterchange
import AccordModel
import AccordProjections
import AccordTesting
import Foundation
import FoundationXML
import Testing

@Suite("Importing IATI activity files", .serialized)
struct IATIImportTests {
    static var eu: String { get throws { try Fixtures.sharedDataFile("iati/eu-intpa-activities-2021-05-26.xml") } }
    static var who: String { get throws { try Fixtures.sharedDataFile("iati/who-activities-2021-05-26.xml") } }

    @Test func importingTheEUFileYieldsExactlyItsTransactionsWithExactSumsPerTypeAndCurrency() throws {
        let expected = try IATIExpectation(file: Self.eu)
        #expect(expected.transactions == 164)
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let result = try accord(["import", "iati", Self.eu], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("\(expected.transactions) transactions"))

        let rows = try stateRows(journal, view: "finance", keys: ["stage", "transactions"], without: ["funding"])
        var expectedByStage: [String: (count: Int, sums: [String: ExactDecimal])] = [:]
        for (code, byCurrency) in expected.byTypeAndCurrency {
            let stage = IATIExpectation.stage(code)
            for (currency, entry) in byCurrency {
                expectedByStage[stage, default: (0, [:])].count += entry.count
                expectedByStage[stage, default: (0, [:])].sums[currency] = (expectedByStage[stage]?.sums[currency] ?? .zero) + entry.sum
            }
        }
        #expect(rows.count == expectedByStage.count)
        for row in rows {
            let stage = try #require(row["stage"])
            let want = try #require(expectedByStage[stage], "unexpected stage \(stage)")
            #expect(Int(row["transactions"] ?? "") == want.count, "count of \(stage)")
            for (currency, sum) in want.sums {
                #expect(ExactDecimal(row[currency] ?? "") == sum, "\(stage) \(currency): \(row[currency] ?? "none") vs \(sum)")
            }
        }
        // Negative values (de-commitments) are kept: the file has some, and the sums above include them.
        let xml = try String(contentsOfFile: Self.eu, encoding: .utf8)
        #expect(xml.contains("\">-"))
    }

    @Test func importingTheSameFileAgainAddsNoEventsAndLeavesTheJournalUnchanged() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let first = try accord(["import", "iati", Self.eu], journal: journal)
        #expect(first.status == 0, "\(first.stderr)")
        let before = try FileDamage.snapshot(of: journal + "/segments")
        let again = try accord(["import", "iati", Self.eu], journal: journal)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.output.contains("0 new events"))
        #expect(again.output.contains("664 already known"), "\(again.output)") // 564 events of transactions and organisations, 100 of activities described
        #expect(try FileDamage.snapshot(of: journal + "/segments") == before)
    }

    @Test func aLaterFileThatOverlapsAddsOnlyWhatIsNew() throws {
        // A later snapshot of the publisher: the same file with one more transaction in one activity.
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let original = try String(contentsOfFile: Self.eu, encoding: .utf8)
        let marker = "  <transaction humanitarian=\"0\" ref=\"XI-IATI-EC_INTPA-2018/40697/0/3\">"
        #expect(original.contains(marker))
        let extra = """
              <transaction ref="XI-IATI-EC_INTPA-2018/40697/0/9">
               <transaction-type code="3"></transaction-type>
               <transaction-date iso-date="2022-01-15"></transaction-date>
               <value currency="EUR" value-date="2022-01-15">1250000.50</value>
              </transaction>

            """
        let later = original.replacingOccurrences(of: marker, with: extra + marker)
        try FileDamage.write(temp.child("later.xml"), Array(later.utf8))
        #expect(try accord(["import", "iati", Self.eu], journal: journal).status == 0)
        let second = try accord(["import", "iati", temp.child("later.xml")], journal: journal)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.output.contains("1 new events"), "\(second.output)")
        #expect(second.output.contains("664 already known"), "\(second.output)")
    }

    @Test func theKazakhstanActivityOfTheWHOFileShowsItsCurrencyTotalsAndTheEuropeanCommissionAsAFunder() throws {
        let activity = "XM-DAC-928-KZ-2020-21-13.003.EU01.KAZ02"
        let expected = try IATIExpectation(file: Self.who, activity: activity)
        #expect(expected.transactions == 14)
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let result = try accord(["import", "iati", Self.who], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        let funding = IATIImporter.fundingID(activity)
        let rows = try stateRows(journal, view: "finance", keys: ["funding", "stage"]).filter { $0["funding"] == funding }
        #expect(rows.count == expected.byTypeAndCurrency.count)
        for (code, byCurrency) in expected.byTypeAndCurrency {
            let row = try #require(rows.first { $0["stage"] == IATIExpectation.stage(code) })
            for (currency, entry) in byCurrency {
                #expect(currency == "USD")
                #expect(ExactDecimal(row[currency] ?? "") == entry.sum)
                #expect(Int(row["transactions"] ?? "") == entry.count)
            }
        }
        // The European Commission (DEVCO) takes part as a funder (role 1) and provides the commitments.
        let commitments = try #require(rows.first { $0["stage"] == "committed" })
        #expect(commitments["provider"]?.hasPrefix("dg-for-international-cooperation-and-development-devco") == true)
        let log = try accord(["log", "--json", "--subject", "funding/" + funding], journal: journal)
        #expect(log.status == 0)
        let participants = try accord(["log", "--json", "--type", "stakeholder.participated.v1"], journal: journal)
        let devco = participants.output.split(separator: "\n").filter { $0.contains("\"funding\":\"\(funding)\"") && $0.contains("European Commission") }
        #expect(devco.count == 1)
        #expect(devco.first?.contains("\"role\":\"1\"") == true)
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var name: String
        var xml: String
        var mentions: [String]
        var testDescription: String { name }
    }

    static func activity(_ transaction: String, currency: String? = "EUR") -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <iati-activities version="2.03">
         <iati-activity\(currency.map { " default-currency=\"\($0)\"" } ?? "")>
          <iati-identifier>XI-TEST-1</iati-identifier>
          <reporting-org ref="XI-TEST"><narrative>Test</narrative></reporting-org>
          <transaction>
        \(transaction)
          </transaction>
         </iati-activity>
        </iati-activities>
        """
    }

    static let goodTransaction = """
           <transaction-type code="2"/><transaction-date iso-date="2021-01-01"/><value value-date="2021-01-01">100</value>
        """

    static let badInputs: [BadInput] = [
        BadInput(name: "not XML", xml: "This is a CSV file, not XML\n1,2,3\n", mentions: ["input.xml:1", "not a well-formed XML document"]),
        BadInput(name: "another root element", xml: "<?xml version=\"1.0\"?>\n<iati-organisations version=\"2.03\"></iati-organisations>\n",
                 mentions: ["input.xml:2", "<iati-organisations>", "<iati-activities>"]),
        BadInput(name: "IATI 1.x", xml: "<iati-activities version=\"1.05\"></iati-activities>", mentions: ["1.05"]),
        BadInput(name: "unknown transaction type", xml: activity(#"<transaction-type code="14"/><transaction-date iso-date="2021-01-01"/><value>5</value>"#),
                 mentions: ["input.xml:6", "transaction 1 of activity XI-TEST-1", "'14'", "TransactionType"]),
        BadInput(name: "no currency anywhere", xml: activity(goodTransaction, currency: nil), mentions: ["input.xml:6", "no currency"]),
        BadInput(name: "unparseable value", xml: activity(#"<transaction-type code="3"/><transaction-date iso-date="2021-01-01"/><value>1,000.00</value>"#),
                 mentions: ["input.xml:6", "'1,000.00'", "decimal"]),
        BadInput(name: "unparseable date", xml: activity(#"<transaction-type code="3"/><transaction-date iso-date="31/12/2021"/><value>10</value>"#),
                 mentions: ["input.xml:6", "'31/12/2021'", "YYYY-MM-DD"]),
        BadInput(name: "unknown currency", xml: activity(#"<transaction-type code="3"/><transaction-date iso-date="2021-01-01"/><value currency="EURO">10</value>"#),
                 mentions: ["'EURO'", "ISO 4217"]),
        BadInput(name: "missing value", xml: activity(#"<transaction-type code="3"/><transaction-date iso-date="2021-01-01"/>"#), mentions: ["no value"]),
        BadInput(name: "empty file", xml: "", mentions: ["not a well-formed XML document"]),
    ]

    @Test(arguments: badInputs)
    func badOrSurprisingInputIsRefusedPerItemWithFileAndLineAndNothingIsWritten(_ bad: BadInput) throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        #expect(try accord(["import", "iati", Self.eu], journal: journal).status == 0)
        let before = try FileDamage.snapshot(of: journal)
        let file = temp.child("input.xml")
        try FileDamage.write(file, Array(bad.xml.utf8))
        let result = try accord(["import", "iati", file], journal: journal)
        #expect(result.status == 2, "\(result.output) \(result.stderr)")
        for mention in bad.mentions { #expect(result.stderr.contains(mention), "'\(mention)' not in: \(result.stderr)") }
        #expect(result.output.contains("nothing of this file was imported"))
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func aMissingFileOrADirectoryIsRefusedSayingSo() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        let missing = try accord(["import", "iati", temp.child("no-such.xml")], journal: journal)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no-such.xml: cannot open it: No such file or directory"), "\(missing.stderr)")
        let directory = try accord(["import", "csv", "--map", Fixtures.repositoryRoot + "/Tools/mappings/iea-h2-projects.json", temp.path], journal: journal)
        #expect(directory.status == 2)
        #expect(directory.stderr.contains("it is a directory"), "\(directory.stderr)")
        #expect(!directory.stderr.contains("CoreFoundation"))
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func aTruncatedFileIsRefusedAtEveryCutAndNothingIsWritten() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        let bytes = try FileDamage.bytes(Self.eu)
        // Cuts through the header, an activity, a transaction's value, and just before the end tag.
        let end = bytes.count - "</iati-activities>\n".utf8.count
        for cut in [10, 4_000, bytes.count / 2, bytes.count - 200, end] {
            let file = temp.child("cut-\(cut).xml")
            try FileDamage.write(file, Array(bytes.prefix(cut)))
            let result = try accord(["import", "iati", file], journal: journal)
            #expect(result.status == 2, "cut at \(cut): \(result.output)")
            #expect(result.stderr.contains("cut-\(cut).xml:"), "\(result.stderr)")
            #expect(result.stderr.contains("not a well-formed XML document"), "\(result.stderr)")
        }
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func everyTransactionTypeOfTheCodelistHasADestination() throws {
        // The codelist as published (shared/data/iati/TransactionType.xml) against our table.
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: try Fixtures.sharedDataFile("iati/TransactionType.xml")), options: [])
        let codes = try document.nodes(forXPath: "//codelist-item/code").compactMap(\.stringValue)
        #expect(codes.count == 13)
        for code in codes {
            let type = try #require(IATITransactionType.eventType(for: code), "code \(code)")
            #expect(Catalogue.entries[type] != nil)
            #expect(IATITransactionType.names[code] != nil)
        }
        #expect(IATITransactionType.eventType(for: "14") == nil)
    }

    @Test func reimportingTheExportIntoTheOriginalJournalAddsNothing() throws {
        // The export keeps identifiers and refs exactly (77 refs of the EU file hold spaces), so
        // the source identities of a re-import match: nothing is counted twice.
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        #expect(try accord(["import", "iati", Self.eu], journal: journal).status == 0)
        let out = temp.child("export.xml")
        #expect(try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--out", out], journal: journal).status == 0)
        let again = try accord(["import", "iati", out], journal: journal)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.output.contains(" 0 new events"), "\(again.output)")
    }

    @Test func activitiesWhoseIdentifiersSlugAlikeStayApartAndNamesInAnyScriptAreKept() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        func activity(_ id: String) -> String {
            """
             <iati-activity default-currency="KZT">
              <iati-identifier>\(id)</iati-identifier>
              <reporting-org ref="KZ-GOV"><narrative>Kazakhstan</narrative></reporting-org>
              <participating-org role="1"><narrative>Қазақстан Республикасының Үкіметі</narrative></participating-org>
              <transaction><transaction-type code="2"/><transaction-date iso-date="2023-01-01"/><value>100</value>
               <receiver-org><narrative>Самұрық-Қазына</narrative></receiver-org></transaction>
             </iati-activity>
            """
        }
        let xml = "<iati-activities version=\"2.03\">\n" + ["КЗ-1", "ҚР-1", "XX_1", "XX-1"].map(activity).joined() + "</iati-activities>\n"
        try FileDamage.write(temp.child("kz.xml"), Array(xml.utf8))
        let result = try accord(["import", "iati", temp.child("kz.xml")], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.output.contains("skipped"), "\(result.output)")
        let rows = try stateRows(journal, view: "finance", keys: ["funding", "stage"])
        #expect(Set(rows.compactMap { $0["funding"] }).count == 4)
        #expect(rows.allSatisfy { $0["KZT"] == "100" && $0["receiver"] != "unspecified" })
        let log = try accord(["log", "--json", "--type", "stakeholder.participated.v1"], journal: journal)
        #expect(log.output.contains("Қазақстан Республикасының Үкіметі"))
    }

    @Test func aRetractedTransactionIsNotExported() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        let setup = [
            #"{"type":"stakeholder.registered.v1","subject":"stakeholder/eib","data":{"name":"EIB","kind":"financial","country":"EU"}}"#,
            #"{"type":"finance.committed.v1","subject":"funding/h2","data":{"provider":"eib","receiver":"eib","amount":"100.00","currency":"EUR","date":"2024-01-01"}}"#,
        ].joined(separator: "\n")
        #expect(try accord(["append", "--from", "-"], journal: journal, input: setup).status == 0)
        let wrong = try accord(["append", "finance.committed.v1", "--subject", "funding/h2", "--data", #"{"provider":"eib","receiver":"eib","amount":"777.00","currency":"EUR","date":"2024-01-02"}"#], journal: journal)
        let retract = #"{"event":"\#(wrong.output.prefix(64))","reason":"wrong amount"}"#
        #expect(try accord(["append", "event.retracted.v1", "--subject", "funding/h2", "--data", retract], journal: journal).status == 0)
        let out = temp.child("export.xml")
        let export = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--reporting-org-type", "40", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        let xml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(xml.contains("100.00"))
        #expect(!xml.contains("777.00"))
    }

    @Test func exportedIATIReimportsToTheSameFinanceState() throws {
        let temp = TemporaryDirectory("iati")
        let journal = try newJournal(temp)
        #expect(try accord(["import", "iati", Self.eu], journal: journal).status == 0)
        let out = temp.child("export.xml")
        let export = try accord(["export", "iati", "--reporting-org", "XI-IATI-EC_INTPA", "--out", out], journal: journal)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.output.contains("164 transactions"))
        let roundTrip = try IATIExpectation(file: out)
        let original = try IATIExpectation(file: Self.eu)
        #expect(roundTrip.transactions == original.transactions)
        for (code, byCurrency) in original.byTypeAndCurrency {
            for (currency, entry) in byCurrency {
                #expect(roundTrip.byTypeAndCurrency[code]?[currency]?.sum == entry.sum)
            }
        }
        // Imported into another journal, the export gives the same sums per stage.
        let other = try newJournal(temp, name: "other", site: "astana")
        #expect(try accord(["import", "iati", out], journal: other).status == 0)
        let a = try stateRows(journal, view: "finance", keys: ["stage", "transactions"], without: ["funding"])
        let b = try stateRows(other, view: "finance", keys: ["stage", "transactions"], without: ["funding"])
        #expect(a == b)
    }
}

@Suite("Imports at two offices", .serialized)
struct TwoOfficeImportTests {
    @Test func theSameFileImportedAtTwoOfficesBeforeTheySyncIsCountedOnce() throws {
        let temp = TemporaryDirectory("iati-two")
        let brussels = try newJournal(temp, name: "brussels", site: "brussels")
        let astana = try newJournal(temp, name: "astana", site: "astana")
        for (here, there, site) in [(brussels, astana, "astana"), (astana, brussels, "brussels")] {
            let key = try accord(["keys", "show"], journal: there).output.split(separator: "\n").first { $0.contains("public key") }?.split(separator: " ").last
            #expect(try accord(["peer", "add", site, "--key", String(try #require(key))], journal: here).status == 0)
        }
        #expect(try accord(["import", "iati", IATIImportTests.eu], journal: brussels).status == 0)
        let single = try stateRows(brussels, view: "finance", keys: ["stage", "transactions"], without: ["funding"])
        #expect(try accord(["import", "iati", IATIImportTests.eu], journal: astana).status == 0)
        let sync = try accord(["sync", "--with", astana], journal: brussels)
        #expect(sync.status == 0, "\(sync.stderr)")
        for journal in [brussels, astana] {
            #expect(try stateRows(journal, view: "finance", keys: ["stage", "transactions"], without: ["funding"]) == single)
        }
        #expect(try accord(["state", "--digest"], journal: brussels).output == (try accord(["state", "--digest"], journal: astana)).output)
    }
}

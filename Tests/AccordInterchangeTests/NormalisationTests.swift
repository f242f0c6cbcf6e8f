import AccordInterchange
import AccordModel
import AccordTesting
import Foundation
import Testing

/// Text is bytes (DESIGN): two spellings of one text that differ only by Unicode normalisation
/// (NFC "é" = U+00E9, NFD "é" = "e" + U+0301) stay two texts in imports and views, where Swift's
/// `String` equality, `Set` and `Dictionary` would merge them.
@Suite("NFC and NFD text stay apart", .serialized)
struct NormalisationTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    @Test func theSpellingsDifferAsBytesButNotAsSwiftStrings() {
        #expect(Self.nfc == Self.nfd)  // the trap
        #expect(!sameBytes(Self.nfc, Self.nfd))
        #expect(BytewiseText(Self.nfc) != BytewiseText(Self.nfd))
        #expect(Set([BytewiseText(Self.nfc), BytewiseText(Self.nfd)]).count == 2)
    }

    /// Two CloudEvents whose sources differ only by normalisation are two events, in one file
    /// and across imports.
    @Test func cloudEventsWhoseSourcesDifferOnlyByNormalisationAreTwoEvents() throws {
        let temp = TemporaryDirectory("nf-ce")
        let journal = try newJournal(temp)
        func event(_ source: String, _ subject: String) -> String {
            #"{"specversion":"1.0","id":"evt-1","source":"https://example.org/\#(source)","type":"stakeholder.registered.v1","subject":"stakeholder/\#(subject)","data":{"name":"Caf\u00e9 association","kind":"civil-society","country":"KZ"}}"#
        }
        try FileDamage.write(temp.child("both.ndjson"), Array((event(Self.nfc, "cafe-nfc") + "\n" + event(Self.nfd, "cafe-nfd") + "\n").utf8))
        let result = try accord(["import", "cloudevents", temp.child("both.ndjson")], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("2 new events"), "\(result.output)")
        // One spelling at a time, into a fresh journal: the second file is not "already known".
        let other = try newJournal(temp, name: "other")
        try FileDamage.write(temp.child("nfc.ndjson"), Array((event(Self.nfc, "cafe-nfc") + "\n").utf8))
        try FileDamage.write(temp.child("nfd.ndjson"), Array((event(Self.nfd, "cafe-nfd") + "\n").utf8))
        #expect(try accord(["import", "cloudevents", temp.child("nfc.ndjson")], journal: other).output.contains("1 new events"))
        let second = try accord(["import", "cloudevents", temp.child("nfd.ndjson")], journal: other)
        #expect(second.output.contains("1 new events in 1 batch, 0 already known"), "\(second.output)")
    }

    /// A CSV mapping's column names and `map` keys match header and cell bytes exactly.
    @Test func csvColumnsAndMappedValuesMatchByBytes() throws {
        let temp = TemporaryDirectory("nf-csv")
        let journal = try newJournal(temp)
        func mapping(column: String, mapKey: String) -> String {
            """
            {"format": "accord-csv-mapping/1", "source": "nf-test",
             "subject": {"kind": "project", "name": "\(column)"},
             "events": [{"type": "industry.project.registered.v1", "fields": {
               "name": {"column": "\(column)"}, "sponsor": {"value": "unspecified"},
               "valueChain": {"value": "renewable-hydrogen"},
               "country": {"column": "Country", "map": {"\(mapKey)": "KZ"}}}}]}
            """
        }
        try FileDamage.write(temp.child("t.csv"), Array("\(Self.nfd),Country\nPlant one,\(Self.nfd)\n".utf8))
        // The header says NFD "café"; a mapping that reads NFC "café" does not find it.
        try FileDamage.write(temp.child("nfc.json"), Array(mapping(column: Self.nfc, mapKey: Self.nfd).utf8))
        let refused = try accord(["import", "csv", "--map", temp.child("nfc.json"), temp.child("t.csv")], journal: journal)
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.stderr.contains("which the header does not have"), "\(refused.stderr)")
        // The column found, but the cell (NFD) is not the mapped value (NFC): not listed.
        try FileDamage.write(temp.child("nfd.json"), Array(mapping(column: Self.nfd, mapKey: Self.nfc).utf8))
        let unlisted = try accord(["import", "csv", "--map", temp.child("nfd.json"), temp.child("t.csv")], journal: journal)
        #expect(unlisted.status == 2, "\(unlisted.output)")
        #expect(try eventCount(journal) == 0)
        // Both by the same bytes: imported.
        try FileDamage.write(temp.child("same.json"), Array(mapping(column: Self.nfd, mapKey: Self.nfd).utf8))
        let imported = try accord(["import", "csv", "--map", temp.child("same.json"), temp.child("t.csv")], journal: journal)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try eventCount(journal) == 1)
    }

    /// Offtakes of one commodity spelled in NFC and in NFD are two rows of the industry view.
    @Test func offtakesOfCommoditiesSpelledDifferentlyAreTwoRows() throws {
        let temp = TemporaryDirectory("nf-offtake")
        let journal = try newJournal(temp)
        func stakeholder(_ id: String) -> String {
            #"{"type":"stakeholder.registered.v1","subject":"stakeholder/\#(id)","data":{"name":"\#(id)","kind":"industrial","country":"KZ"}}"#
        }
        func offtake(_ id: String, _ commodity: String) -> String {
            #"{"type":"industry.offtake.signed.v1","subject":"offtake/\#(id)","data":{"buyer":"buyer","seller":"seller","commodity":"\#(commodity)","quantity":"10","unit":"t"}}"#
        }
        let batch = [stakeholder("buyer"), stakeholder("seller"), offtake("one", "lithium " + Self.nfc), offtake("two", "lithium " + Self.nfd)]
        let appended = try accord(["append", "--from", "-"], journal: journal, input: batch.joined(separator: "\n"))
        #expect(appended.status == 0, "\(appended.stderr)")
        let rows = try stateRows(journal, view: "industry", keys: ["commodity", "deals"])
        #expect(rows.count == 2, "\(rows)")
        #expect(Set(rows.compactMap { $0["commodity"].map { Array($0.utf8) } }).count == 2)
    }

    /// A comma or a quote followed by a combining mark is still a comma or a quote in CSV.
    @Test func csvOutputQuotesACommaOrQuoteFollowedByACombiningMark() throws {
        let temp = TemporaryDirectory("nf-csv-out")
        let journal = try newJournal(temp)
        let line = #"{"type":"stakeholder.registered.v1","subject":"stakeholder/mark","data":{"name":"A,\u0301 and \"\u0301 B","kind":"industrial","country":"KZ"}}"#
        #expect(try accord(["append", "--from", "-"], journal: journal, input: line).status == 0)
        let csv = try accord(["state", "stakeholders", "--csv"], journal: journal)
        #expect(csv.status == 0, "\(csv.stderr)")
        let quoted = Array("\"A,\u{301} and \"\"\u{301} B\"".utf8)
        #expect((0...max(0, csv.stdout.count - quoted.count)).contains { csv.stdout[$0...].starts(with: quoted) }, "\(csv.output)")
    }
}

/// The number of events `accord log --json` prints.
private func eventCount(_ journal: String) throws -> Int {
    let result = try accord(["log", "--json"], journal: journal)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout.split(separator: 0x0a).count
}

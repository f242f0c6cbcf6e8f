import AccordTesting
import Foundation
import Testing

@Suite("Bad input changes nothing")
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: [UInt8]
        /// Words the error must contain (the line, the field).
        var mentions: [String]
        var testDescription: String { name }
    }

    static let good = Array((line("action.proposed.v1", "action/fine", #"{"title":"A valid line","pillar":"supply-chain-resilience"}"#) + "\n").utf8)

    static let cases: [Case] = [
        Case(name: "unknown type", input: good + Array((line("finance.promised.v1", "funding/x", "{}") + "\n").utf8), mentions: ["Line 2", "type", "finance.promised.v1"]),
        Case(name: "missing required field", input: good + Array((line("stakeholder.registered.v1", "stakeholder/x", #"{"name":"X","kind":"research"}"#) + "\n").utf8), mentions: ["Line 2", "data.country"]),
        Case(name: "malformed date", input: good + Array((line("agreement.signed.v1", "agreement/x", #"{"title":"T","parties":["eib"],"date":"07/11/2022"}"#) + "\n").utf8), mentions: ["Line 2", "data.date"]),
        Case(name: "unknown currency", input: good + Array((line("finance.committed.v1", "funding/x", #"{"provider":"eib","receiver":"kz","amount":"1.00","currency":"KZD","date":"2023-01-01"}"#) + "\n").utf8), mentions: ["Line 2", "data.currency"]),
        Case(name: "JSON number as amount", input: Array((line("finance.committed.v1", "funding/x", #"{"provider":"eib","receiver":"kz","amount":80.60,"currency":"USD","date":"2023-01-01"}"#) + "\n").utf8), mentions: ["Line 1", "data.amount"]),
        Case(name: "empty file", input: [], mentions: ["no events"]),
        Case(name: "blank file", input: Array("\n  \n".utf8), mentions: ["no events"]),
        Case(name: "non-JSON line", input: good + Array("this is not json\n".utf8), mentions: ["Line 2", "not valid JSON"]),
        Case(name: "byte-order mark", input: [0xEF, 0xBB, 0xBF] + good, mentions: ["Line 1", "byte-order mark"]),
        Case(name: "invalid UTF-8", input: Array(#"{"type":"stakeholder.registered.v1","subject":"stakeholder/x","data":{"name":""#.utf8) + [0xC3, 0x28] + Array(#"","kind":"research","country":"FR"}}"#.utf8), mentions: ["Line 1", "UTF-8"]),
        Case(name: "10 MB line", input: good + Array(#"{"type":"stakeholder.registered.v1","subject":"stakeholder/x","data":{"name":""#.utf8) + [UInt8](repeating: 0x61, count: 10 << 20) + Array(#""}}"#.utf8), mentions: ["Line 2", "bytes"]),
        Case(name: "unknown line field", input: Array(#"{"type":"stakeholder.registered.v1","subject":"stakeholder/x","data":{},"site":"astana"}"#.utf8), mentions: ["Line 1", "site"]),
        Case(name: "bad subject", input: Array((line("stakeholder.registered.v1", "Stakeholder/X", #"{"name":"X","kind":"research","country":"FR"}"#)).utf8), mentions: ["Line 1", "subject"]),
    ]

    @Test(arguments: cases)
    func badBatchInputIsRefusedNamingLineAndFieldAndLeavesTheJournalUnchanged(_ testCase: Case) throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: stakeholder).status == 0)
        let before = try FileDamage.snapshot(of: journal)
        let file = temp.child("input.jsonl")
        try FileDamage.write(file, testCase.input)
        let result = try accord(["append", "--from", file], journal: journal)
        #expect(result.status == 2)
        for word in testCase.mentions {
            #expect(result.stderr.contains(word), "stderr: \(result.stderr.prefix(300))")
        }
        #expect(result.stderr.count < 1000, "the message must not echo the payload")
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func badSingleEventsAreRefusedWithTheFieldNamed() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        let cases: [([String], String)] = [
            (["append", "stakeholder.registered.v1", "--subject", "stakeholder/x", "--data", "{not json"], "--data"),
            (["append", "stakeholder.registered.v1", "--subject", "stakeholder/x", "--data", "[]"], "JSON object"),
            (["append", "stakeholder.registered.v1", "--subject", "stakeholder/x", "--data", #"{"name":"X","kind":"research","country":"FR"}"#, "--time", "7 Nov 2022"], "--time"),
            (["append", "stakeholder.registered.v1", "--subject", "stakeholder/x"], "--data"),
            (["append", "--from", temp.child("missing.jsonl")], "missing.jsonl"),
            (["init", "--site", "Brussels"], "site"),
        ]
        for (arguments, mention) in cases {
            let result = try accord(arguments, journal: journal)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
        }
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func aJournalThatDoesNotExistIsReportedClearly() throws {
        let temp = TemporaryDirectory()
        let result = try accord(["log"], journal: temp.child("nowhere"))
        #expect(result.status == 2)
        #expect(result.stderr.contains("accord init"))
    }
}

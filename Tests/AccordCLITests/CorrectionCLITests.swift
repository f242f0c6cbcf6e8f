import AccordTesting
import Foundation
import Testing

@Suite("accord: back-filled events and corrections")
struct CorrectionCLITests {
    @Test func aNoteEnteredLateShowsFromItsDateAndDoesNotOverrideTheLaterRename() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        func append(_ type: String, _ subject: String, _ data: String, time: String) throws -> AccordExecutable.Result {
            try accord(["append", type, "--subject", subject, "--data", data, "--time", time], journal: journal)
        }
        #expect(try append("stakeholder.registered.v1", "stakeholder/eib", #"{"name":"EIB","kind":"financial","country":"EU"}"#, time: "2022-01-10T09:00:00Z").status == 0)
        #expect(try append("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"European Investment Bank"}"#, time: "2024-06-01T09:00:00Z").status == 0)
        #expect(try append("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB (2023)"}"#, time: "2023-01-01T00:00:00Z").status == 0)
        func name(_ extra: [String]) throws -> String {
            try accord(["state", "stakeholders", "--json", "--no-snapshot"] + extra, journal: journal).output
        }
        #expect(try name([]).contains(#""name":"European Investment Bank""#))
        #expect(try name(["--as-of", "2024-12-31"]).contains(#""name":"European Investment Bank""#))
        #expect(try name(["--as-of", "2023-06-30"]).contains(#""name":"EIB (2023)""#))
    }

    @Test func aStepBackFilledBeforeTheStepItFollowsIsRefusedNamingBothTimes() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let setup = [
            #"{"type":"action.proposed.v1","subject":"action/x","data":{"title":"T","pillar":"supply-chain-resilience"},"time":"2024-01-01T00:00:00Z"}"#,
            #"{"type":"action.agreed.v1","subject":"action/x","data":{},"time":"2024-05-01T00:00:00Z"}"#,
        ].joined(separator: "\n")
        #expect(try accord(["append", "--from", "-"], journal: journal, input: setup).status == 0)
        let before = try FileDamage.snapshot(of: journal)
        let started = try accord(["append", "action.started.v1", "--subject", "action/x", "--data", "{}", "--time", "2024-03-01T00:00:00Z"], journal: journal)
        #expect(started.status == 2)
        #expect(started.stderr.contains("Action 'x' became 'agreed' at 2024-05-01T00:00:00Z; it cannot become 'started' at 2024-03-01T00:00:00Z, before that."))
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func aRetractedCommitmentLeavesTheFinanceViewWithItsReasonListed() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: stakeholder).status == 0)
        let data = #"{"provider":"eib","receiver":"eib","amount":"100.00","currency":"EUR","date":"2024-01-01"}"#
        #expect(try accord(["append", "finance.committed.v1", "--subject", "funding/h2", "--data", data], journal: journal).status == 0)
        let wrong = try accord(["append", "finance.committed.v1", "--subject", "funding/h2", "--data", data], journal: journal)
        let id = String(wrong.output.prefix(64))
        let retract = try accord(["append", "event.retracted.v1", "--subject", "funding/h2", "--data", #"{"event":"\#(id)","reason":"entered twice"}"#], journal: journal)
        #expect(retract.status == 0)
        let finance = try accord(["state", "finance", "--no-snapshot"], journal: journal)
        #expect(finance.output.contains("Corrected transactions (1)"))
        #expect(finance.output.contains("entered twice"))
        let csv = try accord(["state", "finance", "--csv", "--no-snapshot"], journal: journal).output
        #expect(csv.contains("h2,eib,eib,committed,1,100.00"))
        let report = temp.child("report.md")
        #expect(try accord(["report", "--markdown", report], journal: journal).status == 0)
        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        #expect(markdown.contains("## Corrections"))
        #expect(markdown.contains("entered twice"))
        let again = try accord(["append", "event.retracted.v1", "--subject", "funding/h2", "--data", #"{"event":"\#(id)","reason":"r"}"#], journal: journal)
        #expect(again.status == 2)
        #expect(again.stderr.contains("already retracted"))
    }
}

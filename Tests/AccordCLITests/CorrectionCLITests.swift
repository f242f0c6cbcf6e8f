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

    /// The EU's IATI file names no receiver for some commitments, which the import records as
    /// `unspecified` (Journal/Import.md); a disbursement of such a funding, naming the same
    /// parties, is accepted by `accord append` (Format.md §9.6). `unspecified` stays refused
    /// in a list of stakeholders, and an unregistered stakeholder anywhere.
    @Test func aDisbursementToAnImportedFundingWithAnUnspecifiedReceiverIsRecorded() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let imported = try accord(["import", "iati", try Fixtures.sharedDataFile("iati/eu-intpa-activities-2021-05-26.xml")], journal: journal)
        try #require(imported.status == 0, "\(imported.stderr)")
        let log = try accord(["log", "--json"], journal: journal).output
        let commitments = log.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "finance.committed.v2",
                  (object["data"] as? [String: Any])?["receiver"] as? String == "unspecified" else { return nil }
            return object
        }
        let commitment = try #require(commitments.first, "the EU file has a commitment without a receiver")
        let subject = try #require(commitment["subject"] as? String)
        let provider = try #require((commitment["data"] as? [String: Any])?["provider"] as? String)
        let data = #"{"provider":"\#(provider)","receiver":"unspecified","amount":"1000000.50","currency":"EUR","date":"2021-03-01"}"#
        let row = { () throws -> String? in
            // CSV lines end in CRLF, one Character in Swift: split on any line break.
            try accord(["state", "finance", "--csv", "--no-snapshot"], journal: journal).output.split(whereSeparator: \.isNewline)
                .first { $0.hasPrefix(subject.dropFirst("funding/".count) + ",\(provider),unspecified,disbursed,") }.map(String.init)
        }
        let before = try row()
        let disbursed = try accord(["append", "finance.disbursed.v1", "--subject", subject, "--data", data], journal: journal)
        #expect(disbursed.status == 0, "\(disbursed.stderr)")
        let after = try #require(try row())
        #expect(after != before, "\(after)")
        // Still refused: an unregistered stakeholder, and `unspecified` among an action's leads.
        let stranger = data.replacingOccurrences(of: #""receiver":"unspecified""#, with: #""receiver":"nobody""#)
        let refused = try accord(["append", "finance.disbursed.v1", "--subject", subject, "--data", stranger], journal: journal)
        #expect(refused.status == 2 && refused.stderr.contains("Stakeholder 'nobody' is not registered"))
        let leads = try accord(["append", "action.proposed.v1", "--subject", "action/x", "--data", #"{"title":"T","pillar":"supply-chain-resilience","leads":["unspecified"]}"#], journal: journal)
        #expect(leads.status == 2 && leads.stderr.contains("Stakeholder 'unspecified' is not registered"))
    }
}

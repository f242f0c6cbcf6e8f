import AccordTesting
import Foundation
import FoundationXML
import Testing

/// Counts sections and the SVG elements inside each, while checking the document is well-formed.
final class ReportStructure: NSObject, XMLParserDelegate {
    var chartSections: [Int] = []  // SVGs per chart section
    var inChart = false
    var headings: [String] = []
    var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "section" {
            inChart = attributes["class"] == "chart"
            if inChart { chartSections.append(0) }
        }
        if name == "svg", inChart { chartSections[chartSections.count - 1] += 1 }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}

@Suite("accord state and accord report")
struct StateAndReportTests {
    static let sample = Fixtures.repositoryRoot + "/Journal/sample"

    @Test func stateActionsOnTheSampleShowsTheThreePillarsWithTheirActions() throws {
        let result = try accord(["state", "actions", "--no-snapshot"], journal: Self.sample)
        #expect(result.status == 0, "\(result.stderr)")
        for pillar in ["value-chain-integration", "supply-chain-resilience", "skills-research-innovation"] {
            #expect(result.output.contains(pillar))
        }
        #expect(result.output.contains("roadmap-2023-2024"))
        #expect(result.output.contains("agreed"))
        let csv = try accord(["state", "actions", "--csv", "--no-snapshot"], journal: Self.sample)
        #expect(csv.output.hasPrefix("# Roadmap actions by pillar"))  // several tables: each under its title
        #expect(csv.output.contains("\r\npillar,action,title,status,due,overdue\r\n"))
        #expect(csv.output.contains("\r\n\r\n# Actions by pillar and status\r\n"))
        let one = try accord(["state", "actions", "--csv", "--table", "1", "--no-snapshot"], journal: Self.sample)
        #expect(one.output.hasPrefix("pillar,action,title,status,due,overdue\r\n"))  // one table: plain CSV
        #expect(!one.output.contains("# Actions by pillar"))
        let json = try accord(["state", "stakeholders", "--json", "--no-snapshot"], journal: Self.sample)
        #expect(json.output.split(separator: "\n").count == 7)
    }

    @Test func timeTravelShowsTheStateAsItWas() throws {
        let before = try accord(["state", "actions", "--as-of", "2023-05-01", "--json", "--no-snapshot"], journal: Self.sample)
        #expect(before.output.contains(#""action":"roadmap-2023-2024""#))
        #expect(!before.output.contains(#""overdue":"OVERDUE""#))  // the roadmap was not due yet
        let agreed = try accord(["state", "actions", "--as-of", "2023-05-22", "--json", "--no-snapshot"], journal: Self.sample)
        #expect(agreed.output.contains(#""action":"roadmap-2023-2024","due":"2023-05-07","overdue":"OVERDUE","pillar":"value-chain-integration","status":"agreed""#))
        let early = try accord(["state", "summary", "--as-of", "2022-11-07", "--no-snapshot"], journal: Self.sample)
        #expect(early.output.contains("agreements                   1"))
        let log = try accord(["log", "--json", "--type", "agreement"], journal: Self.sample)
        let firstAgreement = String(log.output.dropFirst(7).prefix(64))
        let at = try accord(["state", "--at", String(firstAgreement.prefix(12)), "--digest", "--no-snapshot"], journal: Self.sample)
        let asOf = try accord(["state", "--as-of", "2022-11-07", "--digest", "--no-snapshot"], journal: Self.sample)
        #expect(at.status == 0)
        #expect(at.output == asOf.output)  // nothing else was recorded that day after the agreement
    }

    @Test func theHTMLReportIsWellFormedWithOneSVGChartPerChartSection() throws {
        let temp = TemporaryDirectory()
        let html = temp.child("status.html"), markdown = temp.child("status.md")
        let result = try accord(["report", "--html", html, "--markdown", markdown, "--title", "EU–Kazakhstan partnership"], journal: Self.sample)
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: html))
        let parser = XMLParser(data: data)
        let structure = ReportStructure()
        parser.delegate = structure
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        // Finance over time, by value chain, by funder (one chart per currency; "no data" on the
        // sample, which has no finance), the roadmap and the pipeline.
        #expect(structure.chartSections == [1, 1, 1, 1, 1])
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("<script"))
        #expect(!text.contains("http://") || text.contains("xmlns=\"http://www.w3.org/"))
        #expect(text.contains("EU–Kazakhstan partnership"))
        #expect(text.contains("Қазақстан") || text.contains("agreement/eu-kz-mou-2022"))
        let md = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(md.hasPrefix("# EU–Kazakhstan partnership"))
        #expect(md.contains("## Finance by funder"))
    }

    @Test func lifecycleViolationsAreRefusedAndTheJournalIsUnchanged() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let setup = [
            line("action.proposed.v1", "action/raw-materials-04", #"{"title":"Pilot","pillar":"supply-chain-resilience"}"#),
            line("action.cancelled.v1", "action/raw-materials-04", #"{"reason":"merged"}"#),
        ].joined(separator: "\n")
        #expect(try accord(["append", "--from", "-"], journal: journal, input: setup).status == 0)
        let before = try FileDamage.snapshot(of: journal)
        let complete = try accord(["append", "action.completed.v1", "--subject", "action/raw-materials-04", "--data", "{}"], journal: journal)
        #expect(complete.status == 2)
        #expect(complete.stderr.contains("Action 'raw-materials-04' is 'cancelled'; it cannot become 'completed'."))
        let disburse = try accord(["append", "--from", "-"], journal: journal, input: stakeholder + "\n" + line("finance.disbursed.v1", "funding/unknown", #"{"provider":"eib","receiver":"eib","amount":"1.00","currency":"EUR","date":"2024-01-01"}"#))
        #expect(disburse.status == 2)
        #expect(disburse.stderr.contains("Line 2"))
        #expect(disburse.stderr.contains("Funding 'unknown' has no commitment"))
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func snapshotsAreWrittenAndUsedWithTheSameResult() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Self.sample, to: temp.child("j"))
        let journal = temp.child("j")
        let full = try accord(["state", "--digest", "--no-snapshot"], journal: journal)
        let snapshot = try accord(["snapshot"], journal: journal)
        #expect(snapshot.status == 0)
        #expect(snapshot.output.contains("covering 24 events"))
        #expect(try accord(["state", "--digest"], journal: journal).output == full.output)
        let proposal = line("action.proposed.v1", "action/new-study", #"{"title":"Study","pillar":"skills-research-innovation"}"#)
        #expect(try accord(["append", "--from", "-"], journal: journal, input: proposal).status == 0)
        #expect(try accord(["state", "--digest"], journal: journal).output == (try accord(["state", "--digest", "--no-snapshot"], journal: journal)).output)
    }
}

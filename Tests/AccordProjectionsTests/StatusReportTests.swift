import AccordModel
import AccordProjections
import AccordTesting
import Foundation
import FoundationXML
import Testing

/// The status report (issue 18): names instead of slugs, grouped exact amounts, the value chain
/// shown, every section, long tables summarised, and time-axis charts from ``SVGChart``.
@Suite("Status report")
struct StatusReportTests {
    static let reference = try! CalendarDate(parsing: "2025-01-15")

    static func report(_ state: PartnershipState) -> StatusReport {
        StatusReport(title: "Test report", state: state, reference: reference, recent: [], digest: "d")
    }

    /// The text of `<section id="ID">…</section>` in `html`, or "" when there is none.
    static func section(_ id: String, in html: String) -> String {
        guard let start = html.range(of: " id=\"\(id)\">"),
              let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return "" }
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func financeEvents(_ office: Office) throws -> [Event] {
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("finance.committed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1943137390.50","currency":"EUR","date":"2023-03-01","valueChain":"renewable-hydrogen"}"#),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1000000.25","currency":"EUR","date":"2024-06-01"}"#),
            // No value chain of its own: its receiver (eib) has exactly one.
            Fixtures.draft("finance.committed.v1", "funding/grant", #"{"provider":"ebrd","receiver":"eib","amount":"2500.00","currency":"EUR","date":"2024-02-01"}"#),
            // No value chain anywhere: "not stated".
            Fixtures.draft("finance.committed.v1", "funding/kzt", #"{"provider":"ebrd","receiver":"kz-miid","amount":"1234567.89","currency":"KZT","date":"2024-05-01"}"#),
        ])
        return events
    }

    @Test func amountsHaveThousandsSeparatorsAndStayExact() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        let report = Self.report(fold(try Self.financeEvents(office)))
        let html = report.html(), markdown = report.markdown()
        #expect(html.contains("1,943,137,390.50 EUR"))
        #expect(markdown.contains("1,943,137,390.50 EUR"))
        #expect(html.contains("1,234,567.89 KZT"))
        #expect(!html.contains("1943137390.50"))
        #expect(!markdown.contains("1943137390.50"))
        // Exact sums, not binary floating point: committed − nothing, disbursed to the cent.
        #expect(html.contains("1,000,000.25 EUR"))
    }

    @Test func groupingIsExactDecimalTextNeverDouble() {
        #expect(SVGChart.grouped("1943137390.50") == "1,943,137,390.50")
        #expect(SVGChart.grouped("-1234") == "-1,234")
        #expect(SVGChart.grouped("999") == "999")
        #expect(SVGChart.grouped("1000") == "1,000")
        #expect(SVGChart.grouped("0.123456789") == "0.123456789")
        #expect(SVGChart.grouped("123456789012345678.999999999") == "123,456,789,012,345,678.999999999")  // beyond Double's 15–17 digits
        #expect(SVGChart.grouped(ExactDecimal("1234567.10")!) == "1,234,567.10")  // the scale kept
        for text in ["", "-", "2024-03-01", "12a", "1.", ".5", "1,000"] { #expect(SVGChart.grouped(text) == text) }
    }

    @Test func fundersAreShownByNameNotBySlug() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        let report = Self.report(fold(try Self.financeEvents(office)))
        let funders = Self.section("finance-by-funder", in: report.html())
        #expect(funders.contains("European Investment Bank · committed"))
        #expect(funders.contains("EBRD · committed"))
        #expect(!funders.contains(">eib "))
        let stakeholders = Self.section("stakeholders", in: report.html())
        #expect(stakeholders.contains("<td>European Investment Bank</td>"))
        #expect(!stakeholders.contains("<td>eib</td>"))
    }

    @Test func theValueChainIsShownFromTheFundingItsActionOrItsReceiverElseNotStated() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        let report = Self.report(fold(try Self.financeEvents(office)))
        let chains = Self.section("finance-by-value-chain", in: report.html())
        #expect(chains.contains("renewable-hydrogen · committed"))
        #expect(chains.contains("renewable-hydrogen (by its receiver) · committed"))
        #expect(chains.contains("not stated · committed"))
        #expect(!report.html().contains("(none) committed"))
    }

    @Test func everySectionIsInTheHTMLAndTheMarkdown() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        var events = try Self.financeEvents(office)
        events += try office.record([
            Fixtures.draft("action.proposed.v1", "action/roadmap", #"{"title":"Roadmap","pillar":"value-chain-integration","due":"2023-05-07"}"#),
            Fixtures.draft("industry.project.registered.v1", "project/h2", #"{"name":"Hyrasia One","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#),
            Fixtures.draft("industry.offtake.signed.v1", "offtake/li-1", #"{"buyer":"eib","seller":"kz-miid","commodity":"lithium","quantity":"12500.5","unit":"t"}"#),
            Fixtures.draft("research.project.started.v1", "research/recycling", #"{"title":"Battery recycling","partners":["eib"]}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/h2-skills", #"{"title":"Hydrogen skills","provider":"eib","participants":40,"date":"2024-03-01"}"#),
        ])
        let report = Self.report(fold(events))
        let html = report.html(), markdown = report.markdown()
        for id in ["headline", "finance-over-time", "finance-by-value-chain", "finance-by-funder", "roadmap", "stakeholders", "pipeline", "offtakes", "research", "programmes"] {
            #expect(!Self.section(id, in: html).isEmpty, "no section \(id)")
        }
        for heading in ["## Finance over time", "## Roadmap", "## Stakeholders", "## Industrial pipeline", "## Offtakes", "## Research", "## Skills programmes"] {
            #expect(markdown.contains(heading), "no \(heading)")
        }
        #expect(Self.section("offtakes", in: html).contains("12,500.5 t"))
        #expect(Self.section("offtakes", in: html).contains("European Investment Bank"))  // the buyer by name
        #expect(Self.section("research", in: html).contains("Battery recycling"))
        #expect(Self.section("programmes", in: html).contains("Hydrogen skills"))
        #expect(Self.section("roadmap", in: html).contains("OVERDUE"))
    }

    @Test func longTablesAreSummarisedWithCountsAndTheTopRows() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        var drafts = register
        for n in 0..<40 {
            drafts.append(Fixtures.draft("industry.project.registered.v1", "project/p\(n)", #"{"name":"Plant \#(n)","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#))
        }
        drafts.append(Fixtures.draft("industry.milestone.reached.v1", "project/p39", #"{"milestone":"operational","date":"2024-01-01"}"#))
        let report = Self.report(fold(try office.record(drafts)))
        let pipeline = Self.section("pipeline", in: report.html())
        #expect(pipeline.contains("Industrial projects: \(StatusReport.tableRowLimit) of 40 shown"))
        #expect(pipeline.components(separatedBy: "<td>Plant ").count - 1 == StatusReport.tableRowLimit)
        #expect(pipeline.contains("<td>Plant 39</td>"))  // the most advanced first
        #expect(pipeline.contains("40 projects"))
        drafts = (40..<1_469).map { n in
            Fixtures.draft("industry.project.registered.v1", "project/p\(n)", #"{"name":"Plant \#(n)","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#)
        }
        let many = Self.report(fold(try office.record(register + (0..<40).map { n in
            Fixtures.draft("industry.project.registered.v1", "project/p\(n)", #"{"name":"Plant \#(n)","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#)
        } + drafts)))
        let html = many.html()
        #expect(Self.section("pipeline", in: html).contains("Industrial projects: 25 of 1,469 shown"))
        #expect(Self.section("headline", in: html).contains("<td>1,469 (0 at final investment decision or beyond)</td>"))
        #expect(html.utf8.count <= 200 * 1024)  // the page budget of the browser checks
    }

    @Test func financeOverTimeIsAnAccessibleLineChartPerCurrencyWithoutRetractedTransactions() throws {
        let office = try Office(TemporaryDirectory(), site: "brussels")
        var events = try Self.financeEvents(office)
        let wrong = try office.record("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz-miid","amount":"777.00","currency":"EUR","date":"2024-07-01"}"#)
        events.append(wrong)
        events.append(try office.record("event.retracted.v1", "funding/h2", #"{"event":"\#(wrong.id)","reason":"entered twice"}"#))
        let html = Self.report(fold(events)).html()
        let section = Self.section("finance-over-time", in: html)
        #expect(section.components(separatedBy: "<svg ").count - 1 == 2)  // EUR and KZT
        #expect(section.contains("role=\"img\""))
        #expect(section.contains("<title id=\"chart-finance-over-time--eur-t\">Finance over time, EUR</title>"))
        #expect(section.contains("<desc"))
        #expect(section.contains("committed 1,943,139,890.50 EUR"))  // 1,943,137,390.50 + 2,500.00 (the grant)
        #expect(section.contains("disbursed 1,000,000.25 EUR"))  // the retracted 777.00 left out
        #expect(section.contains(">2024-01<"))  // a month tick on the time axis (the span is under two years)
        #expect(section.contains(">committed<") && section.contains(">disbursed<"))  // the legend
        #expect(section.contains("<path d=\"M"))
        // The whole report still parses as XML.
        let parser = XMLParser(data: Data(html.utf8))
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
    }

    @Test func aTimeSeriesChartHasAxesTicksALegendAndSaysWhenItHasNoData() throws {
        let points = [("2022-11-07", "100"), ("2023-06-30", "250.5"), ("2025-01-01", "1000000")].map {
            SVGChart.Point(date: try! CalendarDate(parsing: $0.0), value: ExactDecimal($0.1)!)
        }
        let svg = SVGChart.timeSeries(title: "Commitments, EUR", description: "Cumulative.", series: [.init(name: "committed", points: points), .init(name: "spent", points: [])], unit: "EUR")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""))
        for tick in [">2023<", ">2024<", ">2025<", ">1 M<", ">0<", ">EUR<", ">committed<", ">spent<"] { #expect(svg.contains(tick), "no \(tick)") }
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        // Thousands of dates are thinned to at most maxPoints per series: the chart stays small.
        var running = 0
        var many: [SVGChart.Point] = []
        for year in 2000...2024 { for month in 1...12 { for day in [1, 8, 15, 22] {
            running += 1
            let text = "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
            many.append(SVGChart.Point(date: try CalendarDate(parsing: text), value: ExactDecimal(units: Int128(running), scale: 0)))
        } } }
        let thinned = SVGChart.timeSeries(title: "Many", description: "", series: [.init(name: "committed", points: many)], unit: "EUR")
        #expect(many.count == 1_200)
        #expect(thinned.components(separatedBy: " V").count - 1 < SVGChart.maxPoints)
        #expect(thinned.utf8.count < 20_000)
        let empty = SVGChart.timeSeries(title: "Nothing", description: "", series: [], unit: "EUR")
        #expect(empty.contains("No dated data yet."))
        let bars = SVGChart.bars(title: "Bars", bars: [.init(label: "European Investment Bank", value: ExactDecimal("1234.5")!, text: "1,234.5 EUR"), .init(label: "negative", value: ExactDecimal("-3")!, text: "-3")])
        #expect(bars.contains(">European Investment Bank<") && bars.contains(">1,234.5 EUR<"))
        #expect(bars.contains("<desc id=\"chart-bars-d\">European Investment Bank: 1,234.5 EUR; negative: -3</desc>"))
        #expect(bars.contains("width=\"0\""))  // a negative value draws no bar
        #expect(XMLParser(data: Data(bars.utf8)).parse())
    }
}

import AccordModel
import AccordProjections
import AccordTesting
import Foundation
import Testing

/// The status report's finance figures against the fold (issue 18): however the report computes
/// them, its charts' totals and its table of corrected transactions are what the state's sums and
/// the events themselves say, for journals with several currencies, back-dated events,
/// corrections, retractions, imported copies and retirements.
@Suite("Status report figures")
struct StatusReportFigureTests {
    /// The rows of table `caption` in `html` (each `<tr>` line after its caption, up to the
    /// end of that table).
    static func rows(of caption: String, in html: String) -> [String] {
        guard let start = html.range(of: "<caption>\(caption)") else { return [] }
        let rest = html[start.upperBound...]
        let table = rest[..<(rest.range(of: "</table>")?.lowerBound ?? rest.endIndex)]
        return table.split(separator: "\n").filter { $0.hasPrefix("<tr><td") }.map(String.init)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func financeTotalsAndCorrectedTransactionsAreThoseOfTheFold(seed: UInt64) throws {
        let (temp, events) = try FinanceSeriesTests.randomEvents(seed: seed)
        defer { temp.remove() }
        let state = fold(events)
        let html = StatusReport(title: "Figures", state: state, reference: try CalendarDate(parsing: "2025-01-15"), recent: [], digest: "d").html()

        // Cumulative totals of dated transactions: per currency and stage, the visible fundings' sum.
        let totals = Self.rows(of: "Cumulative totals of dated transactions", in: html)
        #expect(totals.count >= 4, "seed \(seed): the comparison is not empty")
        let visible = Views.visible(state)
        for currency in ["EUR", "KZT"] {
            for stage in FinanceStage.allCases {
                let expected = visible.fundings.values.reduce(CurrencySums()) { $0 + $1.total(stage) }[currency]
                let row = totals.first { $0.hasPrefix("<tr><td>\(currency)</td><td>\(stage.rawValue)</td>") }
                guard let row else {
                    #expect(expected.isZero, "seed \(seed): \(currency) \(stage) has no row but sums to \(expected)")
                    continue
                }
                // The last cell, commas taken out, read back exactly.
                let cell = row.components(separatedBy: "<td class=\"n\">").last!.replacingOccurrences(of: "</td></tr>", with: "")
                #expect(ExactDecimal(cell.replacingOccurrences(of: ",", with: "")) == expected, "seed \(seed): \(currency) \(stage): \(cell)")
            }
        }

        // Corrected transactions: each finance event retracted, naming what it corrects, or
        // named by another, once; counted from the events, not from the state.
        let finance = events.filter { $0.type.rawValue.hasPrefix("finance.") }
        func field(_ event: Event, _ key: String) -> String? {
            if case .string(let text)? = event.data[key] { return text }
            return nil
        }
        let retracted = Set(events.filter { $0.type.rawValue == "event.retracted.v1" }.compactMap { field($0, "event") })
        let named = Set(finance.compactMap { field($0, "corrects") })
        let expected = finance.filter { retracted.contains($0.id.hex) || field($0, "corrects") != nil || named.contains($0.id.hex) }
        #expect(!expected.isEmpty, "seed \(seed): the comparison is not empty")
        let listed = Self.rows(of: "Corrected transactions", in: html)
        #expect(listed.count == expected.count, "seed \(seed)")
        #expect(html.contains("<caption>Corrected transactions (\(expected.count))</caption>"), "seed \(seed)")
        for event in expected {
            #expect(listed.contains { $0.contains("<td>\(event.id.hex.prefix(12))</td>") }, "seed \(seed): \(event.id.hex) not listed")
        }
    }
}

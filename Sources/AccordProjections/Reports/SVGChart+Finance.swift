import AccordModel

extension SVGChart {
    /// Each finance stage's colour, the same in every chart (``palette``'s first four).
    public static let stageColours: [FinanceStage: String] = [
        .committed: palette[0], .disbursed: palette[1], .spent: palette[2], .pledged: palette[3],
    ]

    /// The chart "Finance over time" of one currency (Journal/UI.md §3), as both the web view's
    /// dashboard and the status report draw it: the cumulative sum of each stage that has a dated
    /// transaction, as filled steps over time, with the exact final sums and the date span in its
    /// `<desc>`.
    ///
    /// - Parameters:
    ///   - series: the kept series (``FinanceSeries``).
    ///   - currency: an ISO 4217 code among `series.currencies`.
    /// - Returns: one `<svg role="img">` element, ending in a newline; with no dated transaction
    ///   in `currency`, the empty chart that says so.
    /// - Complexity: O(d log d) for the d dates of the currency's series.
    public static func financeOverTime(_ series: FinanceSeries, currency: String) -> String {
        let drawn = series.series(currency: currency)
        let totals = drawn.map { "\($0.name) \(grouped($0.points.last?.value ?? .zero)) \(currency)" }.joined(separator: ", ")
        let first = drawn.compactMap { $0.points.first?.date }.min(), last = drawn.compactMap { $0.points.last?.date }.max()
        let range = first.flatMap { first in last.map { " from \(first) to \($0)" } } ?? ""
        let description = drawn.isEmpty ? "No dated finance in \(currency) yet." : "Cumulative \(totals)\(range)."
        return timeSeries(title: "Finance over time, \(currency)", description: description, series: drawn, unit: currency, area: true)
    }
}

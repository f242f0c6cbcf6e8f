import AccordProjections

/// An SVG line chart of cumulative sums over time (Journal/UI.md §3): axes, tick labels, a
/// legend, `role="img"` and a `<title>`. Positions are computed in `Double` for drawing only;
/// every number shown as text is the exact decimal.
enum Chart {
    struct Series {
        var name: String
        var colour: String
        /// (date `YYYY-MM-DD`, cumulative sum), in date order.
        var points: [(date: String, total: ExactDecimal)]
    }

    static let width = 680.0, height = 320.0, left = 110.0, right = 50.0, top = 20.0, bottom = 110.0
    /// Points drawn per series at most; a longer series is thinned to its last point per step.
    static let maxPoints = 200

    static func days(_ date: String) -> Double {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return 0 }
        // Days since 0000-03-01 (civil calendar), enough for positions.
        let y = parts[1] <= 2 ? parts[0] - 1 : parts[0]
        let m = parts[1] <= 2 ? parts[1] + 9 : parts[1] - 3
        return Double(365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + parts[2] - 1)
    }

    static func svg(currency: String, series: [Series]) -> String {
        let all = series.flatMap(\.points)
        let title = "Committed, disbursed and spent in \(currency) over time (cumulative)"
        guard let first = all.map(\.date).min(), let last = all.map(\.date).max() else { return "" }
        let x0 = days(first), x1 = max(days(last), x0 + 1)
        let values = all.map { Double($0.total.description) ?? 0 } + [0]
        let y0 = values.min() ?? 0, y1 = max(values.max() ?? 1, y0 + 1)
        func x(_ date: String) -> Double { left + (days(date) - x0) / (x1 - x0) * (width - left - right) }
        func y(_ value: Double) -> Double { top + (1 - (value - y0) / (y1 - y0)) * (height - top - bottom) }
        let id = "chart-" + HTML.escape(currency)
        var out = "<figure>\n<svg role=\"img\" aria-labelledby=\"\(id)-title\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        out += "<title id=\"\(id)-title\">\(HTML.escape(title))</title>\n"
        // Axes.
        out += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#1a1a1a\"/>\n"
        out += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#1a1a1a\"/>\n"
        // Y ticks: 0, the middle and the top, labelled with whole units.
        for fraction in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let value = y0 + fraction * (y1 - y0)
            let label = HTML.grouped(String(Int64(value.rounded())))
            out += "<line x1=\"\(left - 4)\" y1=\"\(y(value))\" x2=\"\(left)\" y2=\"\(y(value))\" stroke=\"#1a1a1a\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\" font-size=\"11\" fill=\"#1a1a1a\">\(label)</text>\n"
        }
        // X ticks: the first and last date, and 1 January of each year between them.
        var ticks = [first, last]
        if let y0 = Int(first.prefix(4)), let y1 = Int(last.prefix(4)), y1 - y0 <= 20, y1 > y0 {
            for year in (y0 + 1)...y1 { ticks.append("\(year)-01-01") }
        }
        for date in Set(ticks).sorted() {
            let near = (date != first && date != last) && [first, last].contains { abs(days($0) - days(date)) < (x1 - x0) / 12 }
            out += "<line x1=\"\(x(date))\" y1=\"\(height - bottom)\" x2=\"\(x(date))\" y2=\"\(height - bottom + 4)\" stroke=\"#1a1a1a\"/>"
            if !near {
                let label = (date != first && date != last) ? String(date.prefix(4)) : date
                out += "<text x=\"\(x(date))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1a1a1a\">\(HTML.escape(label))</text>\n"
            }
        }
        out += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - bottom + 32)\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1a1a1a\">date</text>\n"
        for item in series where !item.points.isEmpty {
            var points = item.points
            if points.count > maxPoints {
                let step = (points.count + maxPoints - 1) / maxPoints
                points = stride(from: step - 1, to: points.count, by: step).map { points[$0] } + [points[points.count - 1]]
            }
            var path = "M\(x(points[0].date)),\(y(0)) "
            for point in points { path += "L\(x(point.date)),\(y(Double(point.total.description) ?? 0)) " }
            out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(item.colour)\" stroke-width=\"2\"/>\n"
        }
        // Legend.
        for (index, item) in series.enumerated() {
            let ly = height - bottom + 44 + Double(index) * 18
            let final = item.points.last.map { HTML.grouped($0.total) } ?? "0"
            out += "<rect x=\"\(left)\" y=\"\(ly - 10)\" width=\"12\" height=\"12\" fill=\"\(item.colour)\"/>"
            out += "<text x=\"\(left + 16)\" y=\"\(ly)\" font-size=\"12\" fill=\"#1a1a1a\">\(HTML.escape(item.name)): \(final)</text>\n"
        }
        out += "</svg>\n<figcaption>\(HTML.escape(title)).</figcaption>\n</figure>\n"
        return out
    }
}

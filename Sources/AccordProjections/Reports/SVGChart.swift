import AccordModel

/// Small, self-contained SVG charts for the status report and the web view: lines or areas over
/// time (one chart per currency, one series per finance stage) and labelled horizontal bars.
///
/// Every chart is one `<svg role="img">` element with a `<title>` and a `<desc>` (the exact
/// figures, for screen readers and for anyone who copies them), axes with tick labels, and a
/// legend. Values are ``ExactDecimal``: they are converted to binary floating point only to
/// place a point or size a bar; every number *printed* is exact, grouped by
/// ``SVGChart/grouped(_:)`` (`1,943,137,390.50`). The output has no scripts, no external
/// references and no fonts to fetch, so it renders offline and parses as XML.
///
/// ```swift
/// let chart = SVGChart.timeSeries(title: "Finance over time, EUR", description: "…",
///                                 series: [.init(name: "committed", points: points)], unit: "EUR")
/// ```
///
/// - Complexity: O(n log n) in the number of points (they are sorted by date).
public enum SVGChart {
    /// One point of a series: a calendar date and the value at that date.
    public struct Point: Sendable, Equatable {
        /// The date on the time axis.
        public var date: CalendarDate
        /// The value; exact, drawn through ``ExactDecimal/approximate``.
        public var value: ExactDecimal

        /// A point at `date` with `value`.
        public init(date: CalendarDate, value: ExactDecimal) {
            self.date = date
            self.value = value
        }
    }

    /// A named series of points, drawn as one line (or area) in one colour of ``palette``.
    public struct Series: Sendable, Equatable {
        /// The name in the legend (e.g. `committed`).
        public var name: String
        /// The points, in any order: they are sorted by date before drawing.
        public var points: [Point]
        /// Its colour (`#rrggbb`); nil: the colour of its position in ``palette``.
        public var colour: String?

        /// A series called `name` through `points`, in `colour` (nil: by its position).
        public init(name: String, points: [Point], colour: String? = nil) {
            self.name = name
            self.points = points
            self.colour = colour
        }
    }

    /// One bar of a bar chart: its label, its exact value, and the text printed after it.
    public struct Bar: Sendable, Equatable {
        /// The label left of the bar (a name, never a slug, where a name is known).
        public var label: String
        /// The value that sets the bar's length (negative values draw no bar).
        public var value: ExactDecimal
        /// The text printed after the bar (e.g. `1,234.50 EUR` or `12`).
        public var text: String

        /// A bar labelled `label`, as long as `value`, followed by `text`.
        public init(label: String, value: ExactDecimal, text: String) {
            self.label = label
            self.value = value
            self.text = text
        }
    }

    /// The series colours, in order: dark enough on white for WCAG AA contrast of the legend text
    /// beside them.
    public static let palette = ["#1f4e9c", "#b3261e", "#1b6e3a", "#7a4b00", "#5b2a86", "#00606e"]

    /// The most points drawn per series: beyond it, the series is thinned to the last point of
    /// each of `maxPoints` equal spans of its dates (for cumulative sums, the value at the end of
    /// each span), so a chart stays small however many dates the journal holds.
    public static let maxPoints = 200

    /// `points` sorted by date, thinned to at most ``maxPoints`` (the first and last kept).
    static func thinned(_ points: [Point]) -> [Point] {
        let sorted = points.sorted { dayNumber($0.date) < dayNumber($1.date) }
        guard sorted.count > maxPoints else { return sorted }
        let first = dayNumber(sorted[0].date), span = max(1, dayNumber(sorted[sorted.count - 1].date) - first + 1)
        var kept: [Point] = [sorted[0]]
        var lastBucket = -1
        for (index, point) in sorted.enumerated() where index > 0 {
            let bucket = (dayNumber(point.date) - first) * (maxPoints - 1) / span
            let isLast = index == sorted.count - 1
            if bucket == lastBucket, !isLast, kept.count > 1 { kept[kept.count - 1] = point } else { kept.append(point) }
            lastBucket = bucket
        }
        return kept.count > maxPoints ? Array(kept.prefix(maxPoints - 1)) + [sorted[sorted.count - 1]] : kept
    }

    /// Plot geometry, in SVG user units.
    static let width = 720.0, height = 300.0, left = 120.0, right = 20.0, top = 20.0, bottom = 60.0

    /// Lines (or filled areas) over time, with a date axis (ticks on years, or months for spans
    /// under two years), a value axis from zero with rounded ticks, and a legend.
    ///
    /// A series that is empty is named in the legend and drawn as nothing. With no points at
    /// all the chart says "No dated data yet." inside the frame.
    ///
    /// - Parameters:
    ///   - title: the chart's accessible name (`<title>`), e.g. `Finance over time, EUR`.
    ///   - description: the exact figures in words (`<desc>`).
    ///   - series: the series, drawn in ``palette`` order.
    ///   - unit: printed after the value axis' tick labels' header (e.g. `EUR`).
    ///   - area: fill under each line (lightly, so overlapping series stay visible).
    /// - Returns: one `<svg>` element, ending in a newline.
    public static func timeSeries(title: String, description: String, series: [Series], unit: String, area: Bool = false) -> String {
        let all = series.flatMap(\.points)
        var body = ""
        let plotRight = width - right, plotBottom = height - bottom
        body += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotRight - left))\" height=\"\(f(plotBottom - top))\" fill=\"#fafafa\" stroke=\"#888\"/>\n"
        if all.isEmpty {
            body += "<text x=\"\(f(left + 12))\" y=\"\(f(top + 24))\">No dated data yet.</text>\n"
        } else {
            let days = all.map { dayNumber($0.date) }
            var minDay = days.min()!, maxDay = days.max()!
            if minDay == maxDay { minDay -= 15; maxDay += 15 }
            let maxValue = max(all.map { $0.value.approximate }.max() ?? 0, 0)
            let step = niceStep(maxValue / 4)
            let topValue = max(step * (maxValue / step).rounded(.up), step)
            func x(_ day: Int) -> Double { left + (plotRight - left) * Double(day - minDay) / Double(maxDay - minDay) }
            func y(_ value: Double) -> Double { plotBottom - (plotBottom - top) * max(value, 0) / topValue }
            // Value axis: ticks at multiples of the step, labelled exactly.
            var tick = 0.0
            while tick <= topValue * 1.0000001 {
                let ty = y(tick)
                body += "<line x1=\"\(f(left - 4))\" y1=\"\(f(ty))\" x2=\"\(f(plotRight))\" y2=\"\(f(ty))\" stroke=\"#ddd\"/>"
                body += "<text x=\"\(f(left - 8))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(escape(tickLabel(tick)))</text>\n"
                tick += step
            }
            body += "<text x=\"\(f(left - 8))\" y=\"\(f(top - 6))\" text-anchor=\"end\">\(escape(unit))</text>\n"
            // Date axis: years, or months when the span is short.
            let first = dateOf(day: minDay), last = dateOf(day: maxDay)
            var ticks: [CalendarDate] = []
            if last.year - first.year >= 2 {
                let stride = max(1, (last.year - first.year) / 8 + ((last.year - first.year) % 8 == 0 ? 0 : 1))
                var year = first.year + (first.month == 1 && first.day == 1 ? 0 : 1)
                while year <= last.year { ticks.append(date(year, 1, 1)); year += stride }
            } else {
                var (year, month) = first.day == 1 ? (first.year, first.month) : (first.month == 12 ? (first.year + 1, 1) : (first.year, first.month + 1))
                let months = (last.year - year) * 12 + (last.month - month)
                let stride = max(1, months / 8 + 1)
                while (year, month) <= (last.year, last.month) {
                    ticks.append(date(year, month, 1))
                    month += stride
                    while month > 12 { month -= 12; year += 1 }
                }
            }
            for tickDate in ticks {
                let tx = x(dayNumber(tickDate))
                body += "<line x1=\"\(f(tx))\" y1=\"\(f(plotBottom))\" x2=\"\(f(tx))\" y2=\"\(f(plotBottom + 5))\" stroke=\"#444\"/>"
                let label = last.year - first.year >= 2 ? String(tickDate.year) : String(tickDate.text.prefix(7))
                body += "<text x=\"\(f(tx))\" y=\"\(f(plotBottom + 18))\" text-anchor=\"middle\">\(label)</text>\n"
            }
            // Series, as steps (a sum changes on the day of a transaction and holds until the next).
            for (index, item) in series.enumerated() where !item.points.isEmpty {
                let colour = item.colour ?? palette[index % palette.count]
                let points = thinned(item.points)
                var path = "M\(f(x(dayNumber(points[0].date)))),\(f(y(points[0].value.approximate)))"
                for (i, point) in points.enumerated() where i > 0 {
                    path += " H\(f(x(dayNumber(point.date)))) V\(f(y(point.value.approximate)))"
                }
                path += " H\(f(plotRight))"
                if area {
                    let fillPath = path + " V\(f(plotBottom)) H\(f(x(dayNumber(points[0].date)))) Z"
                    body += "<path d=\"\(fillPath)\" fill=\"\(colour)\" fill-opacity=\"0.12\" stroke=\"none\"/>\n"
                }
                body += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            }
        }
        body += legend(series.enumerated().map { ($1.name, $1.colour ?? palette[$0 % palette.count]) }, y: height - 18)
        return frame(title: title, description: description, width: width, height: height, body: body)
    }

    /// Horizontal bars, scaled to the largest value, each labelled on its left and followed by
    /// its exact text; a value axis with ticks under them.
    ///
    /// - Parameters:
    ///   - title: the chart's accessible name (`<title>`).
    ///   - description: the figures in words (`<desc>`); when empty, built from the bars' labels and texts.
    ///   - bars: the bars, top to bottom.
    ///   - colour: the bars' fill (default the first of ``palette``).
    /// - Returns: one `<svg>` element, ending in a newline.
    public static func bars(title: String, description: String = "", bars: [Bar], colour: String = palette[0]) -> String {
        let labelWidth = 280.0, barWidth = 300.0, rowHeight = 22.0
        let chartWidth = labelWidth + barWidth + 160
        var body = ""
        var y = 8.0
        let largest = max(bars.map { $0.value.approximate }.max() ?? 0, 0)
        let step = niceStep(largest / 4)
        let topValue = max(step * (largest / step).rounded(.up), step)
        for bar in bars {
            let length = bar.value.approximate <= 0 ? 0 : max(1, barWidth * bar.value.approximate / topValue)
            let label = bar.label.count > 42 ? String(bar.label.prefix(41)) + "…" : bar.label
            body += "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(escape(label))</text>"
            body += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 4))\" width=\"\(f(length))\" height=\"\(f(rowHeight - 8))\" fill=\"\(colour)\"/>"
            body += "<text x=\"\(f(labelWidth + length + 6))\" y=\"\(f(y + 15))\">\(escape(bar.text))</text>\n"
            y += rowHeight
        }
        if bars.isEmpty {
            body += "<text x=\"0\" y=\"\(f(y + 15))\">No data yet.</text>\n"
            y += rowHeight
        } else {
            body += "<line x1=\"\(f(labelWidth))\" y1=\"\(f(y + 2))\" x2=\"\(f(labelWidth + barWidth))\" y2=\"\(f(y + 2))\" stroke=\"#444\"/>\n"
            var tick = 0.0
            while tick <= topValue * 1.0000001 {
                let tx = labelWidth + barWidth * tick / topValue
                body += "<line x1=\"\(f(tx))\" y1=\"\(f(y + 2))\" x2=\"\(f(tx))\" y2=\"\(f(y + 6))\" stroke=\"#444\"/>"
                body += "<text x=\"\(f(tx))\" y=\"\(f(y + 19))\" text-anchor=\"middle\">\(escape(tickLabel(tick)))</text>\n"
                tick += step
            }
            y += 24
        }
        let describe = description.isEmpty ? bars.map { "\($0.label): \($0.text)" }.joined(separator: "; ") : description
        return frame(title: title, description: describe, width: chartWidth, height: y + 8, body: body)
    }

    /// `value`'s exact decimal text with its integer digits grouped in threes by commas:
    /// `1943137390.50` → `1,943,137,390.50`, `-1234` → `-1,234`. Never goes through `Double`.
    /// - Parameter value: any exact decimal.
    /// - Returns: the grouped text, with the value's own scale (trailing zeros kept).
    public static func grouped(_ value: ExactDecimal) -> String { grouped(value.description) }

    /// `text`, a decimal numeral (`-?[0-9]+(\.[0-9]+)?`), with its integer digits grouped in threes
    /// by commas; any other text is returned unchanged.
    /// - Parameter text: e.g. `1943137390.50`.
    /// - Returns: e.g. `1,943,137,390.50`.
    public static func grouped(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var sign: [UInt8] = []
        if bytes.first == UInt8(ascii: "-") { sign = [bytes.removeFirst()] }
        let dot = bytes.firstIndex(of: UInt8(ascii: "."))
        let integer = Array(bytes[..<(dot ?? bytes.count)])
        let fraction = dot.map { Array(bytes[$0...]) } ?? []
        guard !integer.isEmpty, integer.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              fraction.dropFirst().allSatisfy({ $0 >= 48 && $0 <= 57 }), fraction.count != 1 else { return text }
        var out: [UInt8] = sign
        for (i, digit) in integer.enumerated() {
            if i > 0 && (integer.count - i) % 3 == 0 { out.append(UInt8(ascii: ",")) }
            out.append(digit)
        }
        return String(decoding: out + fraction, as: UTF8.self)
    }

    // MARK: - Pieces

    static func frame(title: String, description: String, width: Double, height: Double, body: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"\(id(title))-t \(id(title))-d\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\">\n"
            + "<title id=\"\(id(title))-t\">\(escape(title))</title>\n<desc id=\"\(id(title))-d\">\(escape(description))</desc>\n" + body + "</svg>\n"
    }

    static func legend(_ entries: [(name: String, colour: String)], y: Double) -> String {
        var out = ""
        var x = left
        for (name, colour) in entries {
            out += "<rect x=\"\(f(x))\" y=\"\(f(y - 10))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
            out += "<text x=\"\(f(x + 18))\" y=\"\(f(y))\">\(escape(name))</text>\n"
            x += 30 + Double(name.count) * 7.5
        }
        return out
    }

    /// An id fragment from a title: ASCII letters and digits, others as `-`.
    static func id(_ title: String) -> String {
        let bytes = title.utf8.prefix(40).map { byte -> UInt8 in
            switch byte {
            case 48...57, 97...122: return byte
            case 65...90: return byte + 32
            default: return UInt8(ascii: "-")
            }
        }
        return "chart-" + String(decoding: bytes, as: UTF8.self)
    }

    /// A step of 1, 2 or 5 × 10ⁿ, at least `raw` (and at least 1).
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 1 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * magnitude >= raw { return factor * magnitude }
        return 10 * magnitude
    }

    /// A tick's label: a whole number (ticks are whole multiples of a step ≥ 1), grouped; with
    /// `k`/`M`/`bn` for large values, so the axis stays narrow.
    static func tickLabel(_ value: Double) -> String {
        let whole = Int64(value.rounded())
        for (divisor, suffix) in [(Int64(1_000_000_000), " bn"), (1_000_000, " M"), (1_000, " k")] where whole >= divisor && whole % (divisor / 10) == 0 {
            let tenths = whole / (divisor / 10)
            return grouped(String(tenths / 10)) + (tenths % 10 == 0 ? "" : "." + String(tenths % 10)) + suffix
        }
        return grouped(String(whole))
    }

    static func f(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : String(format10(tenths))
    }

    private static func format10(_ tenths: Int) -> String {
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return sign + String(magnitude / 10) + "." + String(magnitude % 10)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func dayNumber(_ date: CalendarDate) -> Int {
        let y = date.month <= 2 ? date.year - 1 : date.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (date.month + 9) % 12
        let doy = (153 * mp + 2) / 5 + date.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day number (civil_from_days).
    static func dateOf(day: Int) -> CalendarDate {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return date(yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// A date of valid parts: those of a day number converted back, or the first of a month or
    /// year between two valid dates.
    static func date(_ year: Int, _ month: Int, _ day: Int) -> CalendarDate {
        CalendarDate(year: year, month: month, day: day)
    }
}

import AccordModel

/// The status report a secretariat sends to its principals: headline figures, actions by pillar
/// and status, finance by value chain and by funder, the industrial pipeline, and a timeline of
/// recent events. Rendered as one self-contained HTML file (inline CSS and SVG charts; no
/// scripts, no network) or as Markdown.
public struct StatusReport: Sendable {
    /// The report's title, at its top.
    public var title: String
    /// The state it reports on.
    public var state: PartnershipState
    /// The date the report speaks of: overdue actions are counted against it.
    public var reference: CalendarDate
    /// The most recent events, newest first.
    public var recent: [Event]
    /// The state's digest, printed in the footer so two offices can compare.
    public var digest: String

    /// A report of `state` as of `reference`, with the `recent` events (newest first) and the state's `digest`.
    public init(title: String, state: PartnershipState, reference: CalendarDate, recent: [Event], digest: String) {
        self.title = title
        self.state = state
        self.reference = reference
        self.recent = recent
        self.digest = digest
    }

    /// A bar of a chart: a label, a length (for drawing only) and the exact text shown.
    struct Bar {
        var label: String
        var value: Double
        var text: String
    }

    /// A group of bars under a heading (one currency, one pillar …).
    struct BarGroup {
        var heading: String
        var bars: [Bar]
    }

    /// The chart sections, in order: each becomes one section with exactly one SVG.
    func charts() -> [(title: String, groups: [BarGroup])] {
        let state = Views.visible(self.state)
        var actionGroups: [BarGroup] = []
        for pillar in Catalogue.pillars {
            let actions = state.actions.values.filter { $0.pillar?.value == pillar }
            let bars = ActionStatus.allCases.map { status -> Bar in
                let n = actions.filter { $0.status?.value == status }.count
                return Bar(label: status.rawValue, value: Double(n), text: String(n))
            }
            actionGroups.append(BarGroup(heading: pillar, bars: bars))
        }
        func financeGroups(_ key: (Funding) -> String) -> [BarGroup] {
            var groups: [BarGroup] = []
            for currency in Views.currencies(state) {
                var sums: [String: (committed: ExactDecimal, disbursed: ExactDecimal)] = [:]
                for funding in state.fundings.values {
                    let group = key(funding)
                    let current = sums[group] ?? (.zero, .zero)
                    sums[group] = (current.committed + funding.total(.committed)[currency], current.disbursed + funding.total(.disbursed)[currency])
                }
                var bars: [Bar] = []
                for group in sums.keys.sorted() {
                    let value = sums[group]!
                    bars.append(Bar(label: "\(group) committed", value: value.committed.approximate, text: "\(value.committed) \(currency)"))
                    bars.append(Bar(label: "\(group) disbursed", value: value.disbursed.approximate, text: "\(value.disbursed) \(currency)"))
                }
                groups.append(BarGroup(heading: currency, bars: bars))
            }
            return groups
        }
        let pipeline = [BarGroup(heading: "projects", bars: Milestone.allCases.map { milestone in
            let n = state.projects.values.filter { $0.milestone?.value == milestone }.count
            return Bar(label: milestone.rawValue, value: Double(n), text: String(n))
        })]
        return [
            ("Actions by pillar and status", actionGroups),
            ("Finance by value chain", financeGroups { $0.valueChain?.value ?? "(none)" }),
            ("Finance by funder", financeGroups { $0.provider.value }),
            ("Industrial pipeline", pipeline),
        ]
    }

    /// The report as one self-contained, well-formed HTML document (it also parses as XML).
    public func html() -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en" xmlns="http://www.w3.org/1999/xhtml">
        <head>
        <meta charset="utf-8"/>
        <title>\(escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #1b1b1b; }
        h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
        table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .8em; border-bottom: 1px solid #eee; text-align: left; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; } .overdue { color: #b00020; font-weight: bold; }
        svg text { font-size: 12px; font-family: system-ui, sans-serif; } footer { margin-top: 3em; color: #666; font-size: .9em; }
        </style>
        </head>
        <body>
        <h1>\(escape(title))</h1>
        <p>Status as of \(reference). Figures are exact; sums are per currency and never converted.</p>

        """
        out += "<section id=\"headline\">\n<h2>Headline figures</h2>\n" + htmlTable(Views.summary(state, reference: reference)) + "</section>\n"
        for (index, chart) in charts().enumerated() {
            out += "<section class=\"chart\" id=\"chart-\(index + 1)\">\n<h2>\(escape(chart.title))</h2>\n"
            out += svg(chart.groups, title: chart.title)
            switch index {
            case 0: out += htmlTable(Views.actions(state, reference: reference)[0])
            case 3: out += htmlTable(Views.industry(state)[0])
            default: break
            }
            out += "</section>\n"
        }
        let corrections = correctionTables()
        if !corrections.isEmpty {
            out += "<section id=\"corrections\">\n<h2>Corrections</h2>\n" + corrections.map(htmlTable).joined() + "</section>\n"
        }
        out += "<section id=\"timeline\">\n<h2>Recent events</h2>\n<ol>\n"
        for event in recent {
            out += "<li><time datetime=\"\(event.time.text)\">\(event.time.date)</time> · \(escape(event.site.rawValue)) · <code>\(escape(event.type.rawValue))</code> · \(escape(event.subject.description))"
            let what = Self.what(event)
            if !what.isEmpty { out += " — " + escape(what) }
            out += "</li>\n"
        }
        out += "</ol>\n</section>\n"
        out += "<footer>State digest <code>\(digest)</code> over \(state.eventCount) events. Generated by accord; self-contained, no scripts.</footer>\n</body>\n</html>\n"
        return out
    }

    /// The report as Markdown (tables and lists; charts as bar lists).
    public func markdown() -> String {
        var out = "# \(title)\n\nStatus as of \(reference). Figures are exact; sums are per currency and never converted.\n\n## Headline figures\n\n"
        out += markdownTable(Views.summary(state, reference: reference))
        for chart in charts() {
            out += "\n## \(chart.title)\n\n"
            for group in chart.groups {
                out += "**\(group.heading)**\n\n"
                for bar in group.bars { out += "- \(bar.label): \(bar.text)\n" }
                out += "\n"
            }
        }
        let corrections = correctionTables()
        if !corrections.isEmpty {
            out += "## Corrections\n\n" + corrections.map { markdownTable($0) }.joined(separator: "\n") + "\n"
        }
        out += "## Recent events\n\n"
        for event in recent {
            out += "- \(event.time.date) · \(event.site) · `\(event.type)` · \(event.subject)" + (Self.what(event).isEmpty ? "" : " — \(Self.what(event))") + "\n"
        }
        out += "\nState digest `\(digest)` over \(state.eventCount) events.\n"
        return out
    }

    /// The corrections of every subject, and the corrected finance transactions (Decision 0011).
    func correctionTables() -> [Table] {
        let kinds = ["stakeholder", "agreement", "action", "funding", "project", "offtake", "research", "programme"]
        return [Views.corrections(state, kinds: kinds), Views.financeCorrections(state)].compactMap { $0 }
    }

    static func what(_ event: Event) -> String {
        let (_, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
        let fields = Fields(data)
        var parts: [String] = []
        for key in ["name", "title", "milestone", "note", "reason"] { if let text = fields.string(key) { parts.append(text) } }
        let money = fields.object("value").map(Fields.init) ?? fields
        if let amount = money.string("amount"), let currency = money.string("currency") { parts.append("\(amount) \(currency)") }
        return parts.joined(separator: " · ")
    }

    private func htmlTable(_ table: Table) -> String {
        var out = "<table>\n<caption>\(escape(table.title))</caption>\n<tr>" + table.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in table.rows + (table.totals.map { [$0] } ?? []) {
            out += "<tr>" + row.enumerated().map { index, cell in
                let cls = cell == "OVERDUE" ? " class=\"overdue\"" : (table.numeric.contains(index) ? " class=\"n\"" : "")
                return "<td\(cls)>\(escape(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</table>\n"
    }

    private func markdownTable(_ table: Table) -> String {
        func cell(_ text: String) -> String { text.replacingAll("|", with: "\\|") }
        var out = "| " + table.columns.map(cell).joined(separator: " | ") + " |\n|" + table.columns.map { _ in "---|" }.joined() + "\n"
        for row in table.rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    /// A horizontal bar chart: one panel per group, bars scaled within each group.
    private func svg(_ groups: [BarGroup], title: String) -> String {
        let labelWidth = 260.0, barWidth = 380.0, rowHeight = 20.0, headingHeight = 24.0
        var y = 10.0
        var body = ""
        for group in groups {
            body += "<text x=\"0\" y=\"\(fmt(y + 14))\" font-weight=\"bold\">\(escape(group.heading))</text>\n"
            y += headingHeight
            let largest = max(group.bars.map { abs($0.value) }.max() ?? 0, 1e-9)
            for bar in group.bars {
                let length = bar.value <= 0 ? 0 : max(1, barWidth * bar.value / largest)
                body += "<text x=\"0\" y=\"\(fmt(y + 14))\">\(escape(String(bar.label.prefix(40))))</text>"
                body += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(length))\" height=\"\(fmt(rowHeight - 6))\" fill=\"#3867d6\"/>"
                body += "<text x=\"\(fmt(labelWidth + length + 6))\" y=\"\(fmt(y + 14))\">\(escape(bar.text))</text>\n"
                y += rowHeight
            }
            y += 8
        }
        if groups.allSatisfy({ $0.bars.isEmpty }) {
            body += "<text x=\"0\" y=\"\(fmt(y + 14))\">No data yet.</text>\n"
            y += rowHeight
        }
        let width = labelWidth + barWidth + 200
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(fmt(width))\" height=\"\(fmt(y + 10))\" viewBox=\"0 0 \(fmt(width)) \(fmt(y + 10))\">\n<title>\(escape(title))</title>\n\(body)</svg>\n"
    }

    private func fmt(_ value: Double) -> String { String(Int(value.rounded())) }
}

/// Escapes text for HTML and XML content and attributes.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

extension ExactDecimal {
    /// A binary approximation, for drawing bar lengths only — never for sums or printed figures.
    var approximate: Double {
        var divisor = 1.0
        for _ in 0..<scale { divisor *= 10 }
        return Double(units) / divisor
    }
}

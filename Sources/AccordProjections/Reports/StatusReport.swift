import AccordModel

/// The status report a secretariat sends to its principals: headline figures; finance over time
/// per currency (``SVGChart`` line/area charts), by value chain and by funder (by name); the
/// roadmap by due date; stakeholders, the industrial pipeline, offtakes, research and skills
/// programmes, each long table summarised to its first ``tableRowLimit`` rows with counts; and a
/// timeline of recent events. Amounts are exact with grouped digits (`1,943,137,390.50 EUR`). Rendered as one self-contained HTML file (inline CSS and SVG charts; no
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

    /// How many rows a long table shows before it is summarised (the rest counted, not listed).
    public static let tableRowLimit = 25

    /// A stakeholder's registered name in `state` (the visible state), or its id when it has
    /// none (never an empty label). A lookup: the visible state is made once per report, not per
    /// name (issue 18).
    static func name(_ id: String, in state: PartnershipState) -> String {
        if let name = state.stakeholders[id]?.name?.value, !name.isEmpty { return name }
        return id
    }

    /// The state without retired subjects and retracted events, as every view shows it; made
    /// once per report and passed to each part (it copies the state when anything is retired).
    var visibleState: PartnershipState { Views.visible(state) }

    /// The value chain a funding is reported under: its own `valueChain`; else the one value chain
    /// of the action it funds, or of its receiver; else "not stated" (e.g. an IATI import, which
    /// carries no value chain).
    static func valueChain(of funding: Funding, in state: PartnershipState) -> String {
        if let own = funding.valueChain?.value { return own }
        if let action = funding.action?.value, let chains = state.actions[action]?.valueChains?.value, chains.count == 1 { return chains[0] + " (by its action)" }
        if let chains = state.stakeholders[funding.receiver.value]?.valueChains?.value, chains.count == 1 { return chains[0] + " (by its receiver)" }
        return "not stated"
    }

    /// Exact sums per currency with grouped digits: `1,943,137,390.50 EUR + 80.60 USD`.
    static func text(_ sums: CurrencySums) -> String {
        sums.isEmpty ? "0" : sums.currencies.map { "\(SVGChart.grouped(sums[$0])) \($0)" }.joined(separator: " + ")
    }

    /// Committed and disbursed per group (value chain, funder …) and currency, largest first,
    /// of the visible `state`.
    static func financeBars(_ state: PartnershipState, _ key: (Funding) -> String, label: (String) -> String, limit: Int) -> [(currency: String, bars: [SVGChart.Bar], others: Int)] {
        var result: [(currency: String, bars: [SVGChart.Bar], others: Int)] = []
        for currency in Views.currencies(state) {
            var sums: [String: (committed: ExactDecimal, disbursed: ExactDecimal)] = [:]
            for funding in state.fundings.values {
                let committed = funding.total(.committed)[currency], disbursed = funding.total(.disbursed)[currency]
                guard !committed.isZero || !disbursed.isZero else { continue }
                let group = key(funding)
                let current = sums[group] ?? (.zero, .zero)
                sums[group] = (current.committed + committed, current.disbursed + disbursed)
            }
            let order = sums.keys.sorted { (sums[$0]!.committed, $1) > (sums[$1]!.committed, $0) }
            var bars: [SVGChart.Bar] = []
            for group in order.prefix(limit) {
                let value = sums[group]!
                bars.append(SVGChart.Bar(label: label(group) + " · committed", value: value.committed, text: "\(SVGChart.grouped(value.committed)) \(currency)"))
                bars.append(SVGChart.Bar(label: label(group) + " · disbursed", value: value.disbursed, text: "\(SVGChart.grouped(value.disbursed)) \(currency)"))
            }
            result.append((currency, bars, max(0, order.count - limit)))
        }
        return result
    }

    /// Actions by pillar and status in the visible `state`, as bars.
    static func actionBars(_ state: PartnershipState) -> [SVGChart.Bar] {
        var bars: [SVGChart.Bar] = []
        for pillar in Catalogue.pillars {
            let actions = state.actions.values.filter { $0.pillar?.value == pillar }
            for status in ActionStatus.allCases {
                let n = actions.filter { $0.status?.value == status }.count
                bars.append(SVGChart.Bar(label: "\(pillar) · \(status.rawValue)", value: ExactDecimal(units: Int128(n), scale: 0), text: String(n)))
            }
        }
        return bars
    }

    /// Projects by milestone in the visible `state`, as bars.
    static func pipelineBars(_ state: PartnershipState) -> [SVGChart.Bar] {
        let projects = state.projects.values
        return (["(none)"] + Milestone.allCases.map(\.rawValue)).compactMap { milestone in
            let n = projects.filter { ($0.milestone?.value.rawValue ?? "(none)") == milestone }.count
            return milestone == "(none)" && n == 0 ? nil : SVGChart.Bar(label: milestone, value: ExactDecimal(units: Int128(n), scale: 0), text: SVGChart.grouped(String(n)))
        }
    }

    /// A report section: its id, heading, charts and tables.
    struct Section {
        var id: String
        var title: String
        var intro: String = ""
        var charts: [String] = []
        var chartLists: [(heading: String, bars: [SVGChart.Bar])] = []
        var tables: [Table] = []
    }

    /// `table` cut to its first `limit` rows (after sorting by `order` when given), its title
    /// saying how many of how many are shown.
    static func summarised(_ table: Table, limit: Int = tableRowLimit, order: (([String], [String]) -> Bool)? = nil) -> Table {
        var cut = table
        if let order { cut.rows.sort(by: order) }
        guard table.rows.count > limit else { return cut }
        cut.rows = Array(cut.rows.prefix(limit))
        let base = table.title.range(of: " (").map { String(table.title[..<$0.lowerBound]) } ?? table.title
        cut.title = "\(base): \(limit) of \(SVGChart.grouped(String(table.rows.count))) shown"
        return cut
    }

    /// The headline figures, amounts grouped, the funders' and value chains' counts added;
    /// `state` is the visible state.
    func headline(_ state: PartnershipState) -> Table {
        var table = Views.summary(self.state, reference: reference)
        for (index, row) in table.rows.enumerated() {
            if row[0].hasPrefix("finance "), let stage = FinanceStage(rawValue: String(row[0].dropFirst(8))) {
                table.rows[index][1] = Self.text(state.fundings.values.reduce(CurrencySums()) { $0 + $1.total(stage) })
            } else {
                // Counts grouped too ("1,468 (609 at final investment decision or beyond)"); dates stay as they are.
                table.rows[index][1] = row[1].split(separator: " ", omittingEmptySubsequences: false).map { SVGChart.grouped(String($0)) }.joined(separator: " ")
            }
        }
        table.rows.append(["funders", SVGChart.grouped(String(Set(state.fundings.values.map(\.provider.value)).count))])
        return table
    }

    /// Every section of the report, in order; `state` is the visible state.
    func sections(_ state: PartnershipState) -> [Section] {
        func name(_ id: String) -> String { Self.name(id, in: state) }
        var sections: [Section] = []

        // The same series and chart as the web view's dashboard (Journal/UI.md §3).
        let overTime = FinanceSeries(state: self.state)
        var finance = Section(id: "finance-over-time", title: "Finance over time")
        finance.intro = "Cumulative sums of each stage by transaction date, one chart per currency (never converted)."
            + (overTime.undated > 0 ? " \(SVGChart.grouped(String(overTime.undated))) transactions without a date are in the sums but not on the charts." : "")
        let currencies = overTime.currencies
        finance.charts = currencies.map { SVGChart.financeOverTime(overTime, currency: $0) }
        if currencies.isEmpty {
            finance.charts = [SVGChart.timeSeries(title: "Finance over time", description: "No finance recorded yet.", series: [], unit: "")]
        }
        var summary: [[String]] = []
        for currency in currencies {
            for item in overTime.series(currency: currency) { summary.append([currency, item.name, String(item.points.count), SVGChart.grouped(item.points.last?.value ?? .zero)]) }
        }
        finance.tables = [Table(title: "Cumulative totals of dated transactions", columns: ["currency", "stage", "dates", "total"], numeric: [2, 3], rows: summary)]
        sections.append(finance)

        var chains = Section(id: "finance-by-value-chain", title: "Finance by value chain")
        chains.intro = "A funding without a value chain of its own is shown under its action's or its receiver's one value chain, else as not stated."
        for group in Self.financeBars(state, { Self.valueChain(of: $0, in: state) }, label: { $0 }, limit: 12) {
            chains.charts.append(SVGChart.bars(title: "Finance by value chain, \(group.currency)", bars: group.bars))
            chains.chartLists.append((group.currency, group.bars))
        }
        if chains.charts.isEmpty { chains.charts = [SVGChart.bars(title: "Finance by value chain", bars: [])] }
        sections.append(chains)

        var funders = Section(id: "finance-by-funder", title: "Finance by funder")
        let funderBars = Self.financeBars(state, { $0.provider.value }, label: name, limit: 10)
        funders.intro = "Funders by name, the ten largest commitments per currency."
        for group in funderBars {
            let more = group.others > 0 ? " (\(group.others) more funders not shown)" : ""
            funders.charts.append(SVGChart.bars(title: "Finance by funder, \(group.currency)\(more)", bars: group.bars))
            funders.chartLists.append((group.currency + more, group.bars))
        }
        if funders.charts.isEmpty { funders.charts = [SVGChart.bars(title: "Finance by funder", bars: [])] }
        sections.append(funders)

        var roadmap = Section(id: "roadmap", title: "Roadmap")
        let bars = Self.actionBars(state)
        roadmap.charts = [SVGChart.bars(title: "Actions by pillar and status", bars: bars)]
        roadmap.chartLists = [("actions", bars)]
        let actionTables = Views.actions(state, reference: reference)
        // The board by due date: overdue first among the open, then by date.
        var board = actionTables[0]
        board.rows.sort { ($0[4].isEmpty ? "9999" : $0[4], $0[1]) < ($1[4].isEmpty ? "9999" : $1[4], $1[1]) }
        board.title = "Roadmap by due date (overdue as of \(reference) marked)"
        roadmap.tables = [actionTables[1], Self.summarised(board)]
        sections.append(roadmap)

        var stakeholders = Section(id: "stakeholders", title: "Stakeholders")
        var byKind: [String: Int] = [:], byCountry: [String: Int] = [:]
        for s in state.stakeholders.values {
            byKind[s.kind?.value ?? "(not stated)", default: 0] += 1
            byCountry[s.country?.value ?? "(not stated)", default: 0] += 1
        }
        func counts(_ title: String, _ column: String, _ counts: [String: Int]) -> Table {
            let rows = counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }.map { [$0, SVGChart.grouped(String(counts[$0]!))] }
            return Self.summarised(Table(title: title, columns: [column, "stakeholders"], numeric: [1], integers: [1], rows: rows), limit: 12)
        }
        stakeholders.intro = "\(SVGChart.grouped(String(state.stakeholders.count))) stakeholders; the most active (by the events they appear in) listed by name."
        let people = Views.stakeholders(state)
        stakeholders.tables = [counts("Stakeholders by kind", "kind", byKind), counts("Stakeholders by country", "country", byCountry),
                               Self.summarised(Table(title: people.title, columns: ["name", "kind", "country", "value chains", "events"], numeric: [4], integers: [4],
                                                     rows: people.rows.map { [$0[1].isEmpty ? $0[0] : $0[1], $0[2], $0[3], $0[4], $0[5]] }),
                                               order: { (Int($0[4]) ?? 0, $1[0]) > (Int($1[4]) ?? 0, $0[0]) })]
        sections.append(stakeholders)

        var pipeline = Section(id: "pipeline", title: "Industrial pipeline")
        let pipelineBars = Self.pipelineBars(state)
        pipeline.charts = [SVGChart.bars(title: "Projects by milestone", bars: pipelineBars)]
        pipeline.chartLists = [("projects", pipelineBars)]
        let industry = Views.industry(state)
        let rank = ["(none)"] + Milestone.allCases.map(\.rawValue)
        pipeline.intro = "\(SVGChart.grouped(String(state.projects.count))) projects; the most advanced listed first."
        pipeline.tables = [industry[1], Self.summarised(industry[0], order: { (rank.firstIndex(of: $0[4]) ?? 0, $1[5], $1[0]) > (rank.firstIndex(of: $1[4]) ?? 0, $0[5], $0[0]) })]
        sections.append(pipeline)

        var offtakes = Section(id: "offtakes", title: "Offtakes")
        offtakes.intro = "\(SVGChart.grouped(String(state.offtakes.count))) offtake agreements, summed by commodity and unit."
        let deals = state.offtakes.values.sorted { $0.id < $1.id }.map { o in
            [o.id, name(o.buyer.value), name(o.seller.value), o.commodity.value, SVGChart.grouped(o.quantity.value) + " " + o.unit.value, [o.from?.value, o.to?.value].compactMap { $0 }.joined(separator: " – ")]
        }
        offtakes.tables = [industry[2], Self.summarised(Table(title: "Offtake agreements", columns: ["offtake", "buyer", "seller", "commodity", "quantity", "period"], rows: deals))]
        sections.append(offtakes)

        let research = Views.research(state)
        var researchSection = Section(id: "research", title: "Research")
        researchSection.tables = [Self.summarised(research[0]), Self.summarised(research[1], order: { $0[0] > $1[0] })]
        sections.append(researchSection)

        var programmes = Section(id: "programmes", title: "Skills programmes")
        programmes.tables = [Self.summarised(research[2])]
        sections.append(programmes)
        return sections
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
        caption { text-align: left; font-weight: bold; padding: .3em 0; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; } .overdue { color: #b00020; font-weight: bold; }
        svg { max-width: 100%; height: auto; } svg text { font-size: 12px; font-family: system-ui, sans-serif; fill: #1b1b1b; }
        footer { margin-top: 3em; color: #555; font-size: .9em; }
        </style>
        </head>
        <body>
        <main>
        <h1>\(escape(title))</h1>
        <p>Status as of \(reference). Figures are exact; sums are per currency and never converted.</p>

        """
        let shown = visibleState
        out += "<section id=\"headline\">\n<h2>Headline figures</h2>\n" + htmlTable(headline(shown)) + "</section>\n"
        for section in sections(shown) {
            out += "<section class=\"\(section.charts.isEmpty ? "tables" : "chart")\" id=\"\(section.id)\">\n<h2>\(escape(section.title))</h2>\n"
            if !section.intro.isEmpty { out += "<p>\(escape(section.intro))</p>\n" }
            out += section.charts.joined()
            out += section.tables.map(htmlTable).joined()
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
        out += "</ol>\n</section>\n</main>\n"
        out += "<footer>State digest <code>\(digest)</code> over \(state.eventCount) events. Generated by accord; self-contained, no scripts.</footer>\n</body>\n</html>\n"
        return out
    }

    /// The report as Markdown (tables and lists; charts as bar lists).
    public func markdown() -> String {
        var out = "# \(title)\n\nStatus as of \(reference). Figures are exact; sums are per currency and never converted.\n\n## Headline figures\n\n"
        let shown = visibleState
        out += markdownTable(headline(shown))
        for section in sections(shown) {
            out += "\n## \(section.title)\n\n"
            if !section.intro.isEmpty { out += section.intro + "\n\n" }
            for group in section.chartLists {
                out += "**\(group.heading)**\n\n"
                for bar in group.bars { out += "- \(bar.label): \(bar.text)\n" }
                out += "\n"
            }
            for table in section.tables { out += "**\(table.title)**\n\n" + markdownTable(table) + "\n" }
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
        if let amount = money.string("amount"), let currency = money.string("currency") { parts.append("\(SVGChart.grouped(amount)) \(currency)") }
        return parts.joined(separator: " · ")
    }

    /// A cell as shown: numbers in numeric columns grouped in threes (`1,234,567.89`).
    private func shown(_ cell: String, numeric: Bool) -> String { numeric ? SVGChart.grouped(cell) : cell }

    private func htmlTable(_ table: Table) -> String {
        var out = "<table>\n<caption>\(escape(table.title))</caption>\n<tr>" + table.columns.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in table.rows + (table.totals.map { [$0] } ?? []) {
            out += "<tr>" + row.enumerated().map { index, cell in
                let cls = cell == "OVERDUE" ? " class=\"overdue\"" : (table.numeric.contains(index) ? " class=\"n\"" : "")
                return "<td\(cls)>\(escape(shown(cell, numeric: table.numeric.contains(index))))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</table>\n"
    }

    private func markdownTable(_ table: Table) -> String {
        func cell(_ text: String) -> String { text.replacingAll("|", with: "\\|") }
        var out = "| " + table.columns.map(cell).joined(separator: " | ") + " |\n|" + table.columns.map { _ in "---|" }.joined() + "\n"
        for row in table.rows + (table.totals.map { [$0] } ?? []) {
            out += "| " + row.enumerated().map { cell(shown($1, numeric: table.numeric.contains($0))) }.joined(separator: " | ") + " |\n"
        }
        return out
    }
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

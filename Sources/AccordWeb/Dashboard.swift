import AccordModel
import AccordProjections
import AccordSegments

/// The dashboard `/` (Journal/UI.md §2): totals, charts over time (the kept ``FinanceSeries``,
/// drawn by ``SVGChart/financeOverTime(_:currency:)`` as the status report draws them, §3),
/// ratios, the roadmap, projects and offices.
enum Dashboard {
    /// Rows of a long list shown at most, the rest counted (each page stays under 200 KB).
    static let topN = 20
    /// The measures shown per currency, in order.
    static let measures: [FinanceStage] = [.committed, .disbursed, .spent]

    static func page(state full: PartnershipState, series: FinanceSeries, today: CalendarDate, facts: WebJournal.Facts, exchanges: [String: String], ownSite: String,
                     tornTail: Damage? = nil) -> String {
        let state = Views.visible(full)
        let names = Names(state: full, fundingTitles: facts.fundingTitles)
        let lastTimes = facts.lastTimes
        var out = "<h1>Dashboard</h1>\n"
        if let tornTail {
            // As `accord state` notes it: its events are not counted anywhere on these pages.
            out += "<p id=\"torn-tail\" role=\"status\"><strong>Note:</strong> \(HTML.escape(tornTail.description)) Its events are not shown; if no append is under way, run <code>accord verify</code>.</p>\n"
        }
        out += "<p>\(HTML.grouped(full.eventCount)) events from \(HTML.grouped(full.feeds.count)) offices; \(HTML.grouped(state.stakeholders.count)) stakeholders, \(HTML.grouped(state.fundings.count)) fundings, \(HTML.grouped(state.actions.count)) roadmap actions, \(HTML.grouped(state.projects.count)) projects. Today is \(today).</p>\n"

        // Totals per currency and measure, exact.
        var totals: [FinanceStage: CurrencySums] = [:]
        for funding in state.fundings.values {
            for stage in measures { totals[stage, default: CurrencySums()] = totals[stage, default: CurrencySums()] + funding.total(stage) }
        }
        let currencies = Set(measures.flatMap { totals[$0]?.currencies ?? [] }).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        out += "<section id=\"totals\" aria-labelledby=\"totals-h\">\n<h2 id=\"totals-h\">Totals</h2>\n"
        if currencies.isEmpty { out += "<p>No finance events yet.</p>\n" }
        for currency in currencies {
            let c = HTML.escape(currency)
            out += "<h3>\(c)</h3>\n<dl class=\"totals\">\n"
            for stage in measures {
                let value = totals[stage]?[currency] ?? .zero
                out += "<dt>\(stage.rawValue.capitalized)</dt><dd data-currency=\"\(c)\" data-measure=\"\(stage.rawValue)\">\(HTML.grouped(value))</dd>\n"
            }
            out += "</dl>\n"
        }
        out += "</section>\n"

        // Cumulative sums by date, per currency: the kept series, drawn as the report draws them.
        out += "<section id=\"finance-charts\" aria-labelledby=\"charts-h\">\n<h2 id=\"charts-h\">Finance over time</h2>\n"
        if series.undated > 0 {
            out += "<p>\(HTML.grouped(series.undated)) transactions without a date are in the totals but not on the charts.</p>\n"
        }
        for currency in series.currencies {
            out += "<h3>\(HTML.escape(currency))</h3>\n" + SVGChart.financeOverTime(series, currency: currency)
        }
        out += "</section>\n"

        // Disbursed ÷ committed per funding.
        out += "<section id=\"ratios\" aria-labelledby=\"ratios-h\">\n<h2 id=\"ratios-h\">Disbursed ÷ committed per funding</h2>\n"
        var ratios: [(funding: String, currency: String, committed: ExactDecimal, disbursed: ExactDecimal)] = []
        for funding in state.fundings.values {
            let committed = funding.total(.committed), disbursed = funding.total(.disbursed)
            for currency in committed.currencies where committed[currency] > .zero {
                ratios.append((funding.id, currency, committed[currency], disbursed[currency]))
            }
        }
        // The largest commitments first (exact comparison), then by funding id as bytes; only
        // the first `topN` are kept, so 50,000 fundings are not all sorted on every request.
        let largest = Self.first(topN, of: ratios) { a, b in
            a.committed != b.committed ? a.committed > b.committed : a.funding.utf8.lexicographicallyPrecedes(b.funding.utf8)
        }
        out += "<p>\(HTML.grouped(ratios.count)) fundings with a commitment; the \(min(topN, ratios.count)) largest commitments:</p>\n"
        out += "<table><caption>Disbursed as a share of committed</caption><thead><tr><th scope=\"col\">Funding</th><th scope=\"col\">Currency</th><th scope=\"col\">Committed</th><th scope=\"col\">Disbursed</th><th scope=\"col\">Disbursed ÷ committed</th></tr></thead><tbody>\n"
        for item in largest {
            out += "<tr><th scope=\"row\"><a href=\"/fundings/\(HTML.urlEncode(item.funding))\">\(HTML.escape(names.funding(item.funding)))</a></th><td>\(HTML.escape(item.currency))</td><td class=\"num\">\(HTML.grouped(item.committed))</td><td class=\"num\">\(HTML.grouped(item.disbursed))</td><td class=\"num\">\(percent(item.disbursed, of: item.committed))</td></tr>\n"
        }
        out += "</tbody></table>\n</section>\n"

        // The roadmap by due date.
        out += "<section id=\"roadmap\" aria-labelledby=\"roadmap-h\">\n<h2 id=\"roadmap-h\">Roadmap by due date</h2>\n"
        // By due date (no date last), then id, compared as bytes; only the first `topN × 5` are
        // kept (a journal of 1M events held 250,000 actions, and sorting them all took 1.5 s).
        // One pass that keeps each action's due date and id only: filtering or keeping whole
        // `Action` values copied all 250,000 of them on each request (by perf, most of `/`).
        let actions = state.actions
        var overdue = 0
        var keys: [(due: String, id: String)] = []
        keys.reserveCapacity(actions.count)
        for (id, action) in actions {
            if Views.isOverdue(action, at: today) { overdue += 1 }
            keys.append((action.due?.value ?? "9999", id))
        }
        let timeline = Self.first(topN * 5, of: keys) { a, b in
            a.due.utf8.elementsEqual(b.due.utf8) ? a.id.utf8.lexicographicallyPrecedes(b.id.utf8) : a.due.utf8.lexicographicallyPrecedes(b.due.utf8)
        }.compactMap { actions[$0.id] }
        out += "<p>\(HTML.grouped(actions.count)) actions, \(HTML.grouped(overdue)) overdue\(actions.count > topN * 5 ? "; the first \(topN * 5) by due date" : "").</p>\n<ol class=\"timeline\">\n"
        for action in timeline {
            let late = Views.isOverdue(action, at: today)
            out += "<li\(late ? " class=\"overdue\"" : "")><time>\(HTML.escape(action.due?.value ?? "no due date"))</time> — <a href=\"/actions/\(HTML.urlEncode(action.id))\">\(HTML.escape(action.title?.value ?? action.id))</a> (\(HTML.escape(action.status?.value.rawValue ?? "unknown")))\(late ? " <strong>overdue</strong>" : "")</li>\n"
        }
        out += "</ol>\n</section>\n"

        // Projects by milestone and by country.
        out += "<section id=\"projects\" aria-labelledby=\"projects-h\">\n<h2 id=\"projects-h\">Projects</h2>\n"
        var byMilestone: [String: Int] = [:], byCountry: [String: Int] = [:]
        for project in state.projects.values {
            byMilestone[project.milestone?.value.rawValue ?? "(none yet)", default: 0] += 1
            byCountry[project.country?.value ?? "(unknown)", default: 0] += 1
        }
        let milestoneOrder = Milestone.allCases.map(\.rawValue) + ["(none yet)"]
        out += countTable(caption: "Projects by milestone", header: "Milestone", rows: milestoneOrder.compactMap { key in byMilestone[key].map { (key, $0) } })
        let countries = byCountry.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        out += countTable(caption: "Projects by country" + (countries.count > topN ? " (the \(topN) with most projects of \(countries.count))" : ""), header: "Country", rows: Array(countries.prefix(topN)))
        out += "</section>\n"

        // Offices.
        out += "<section id=\"offices\" aria-labelledby=\"offices-h\">\n<h2 id=\"offices-h\">Offices</h2>\n"
        out += "<table><caption>Each known office: its last event, what this journal holds of it, its last exchange with this office</caption><thead><tr><th scope=\"col\">Office</th><th scope=\"col\">Last event recorded</th><th scope=\"col\">Held here (sequence, last id)</th><th scope=\"col\">Last synced</th></tr></thead><tbody>\n"
        let sites = Set(full.feeds.keys).union(exchanges.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for site in sites {
            let feed = full.feeds[site]
            let held = feed.map { "\($0.lastSeq) (\(HTML.escape(String($0.lastID.prefix(12))))…)" } ?? "nothing"
            let synced = sameBytes(site, ownSite) ? "this office" : exchanges[site].map(HTML.escape) ?? "not known"
            out += "<tr><th scope=\"row\">\(HTML.escape(site))</th><td>\(lastTimes[site].map(HTML.escape) ?? "none")</td><td>\(held)</td><td>\(synced)</td></tr>\n"
        }
        out += "</tbody></table>\n</section>\n"
        return out
    }

    static func countTable(caption: String, header: String, rows: [(String, Int)]) -> String {
        var out = "<table><caption>\(HTML.escape(caption))</caption><thead><tr><th scope=\"col\">\(HTML.escape(header))</th><th scope=\"col\">Projects</th></tr></thead><tbody>\n"
        for (key, count) in rows { out += "<tr><th scope=\"row\">\(HTML.escape(key))</th><td class=\"num\">\(HTML.grouped(count))</td></tr>\n" }
        return out + "</tbody></table>\n"
    }

    /// `part ÷ whole` as a percentage with one decimal, computed exactly on the decimals' units.
    /// The first `count` elements of `elements` in the order `precedes` (a strict weak order),
    /// in that order: what `elements.sorted(by: precedes).prefix(count)` gives, in
    /// O(n log count) time and O(count) memory instead of sorting all of them.
    static func first<Elements: Sequence>(_ count: Int, of elements: Elements, by precedes: (Elements.Element, Elements.Element) -> Bool) -> [Elements.Element] {
        guard count > 0 else { return [] }
        var kept: [Elements.Element] = []
        kept.reserveCapacity(count + 1)
        for element in elements {
            if kept.count == count, let last = kept.last, !precedes(element, last) { continue }
            // After every kept element that does not come after it: equal ones keep their order.
            var low = 0, high = kept.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(element, kept[middle]) { high = middle } else { low = middle + 1 }
            }
            kept.insert(element, at: low)
            if kept.count > count { kept.removeLast() }
        }
        return kept
    }

    static func percent(_ part: ExactDecimal, of whole: ExactDecimal) -> String {
        let scale = max(part.scale, whole.scale)
        let p = part.rescaled(to: scale).units, w = whole.rescaled(to: scale).units
        guard w != 0 else { return "—" }
        // Tenths of a percent, rounded half up; Int128 holds 18 digits × 1000 with room to spare.
        let tenths = (p * 2000 / w + (p >= 0 ? 1 : -1)) / 2
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths < 0 ? -tenths : tenths
        return sign + HTML.grouped(String(magnitude / 10)) + "." + String(magnitude % 10) + " %"
    }
}

import AccordModel
import AccordProjections

/// `/stakeholders/ID`, `/fundings/ID`, `/actions/ID`, `/projects/ID`: current state and history.
enum SubjectPages {
    /// Events of one subject listed at most (the rest are counted, and found through the log).
    static let maxHistory = 200

    /// The page, or nil when the state does not know the subject.
    static func page(kind: String, id: String, state: PartnershipState, fundingTitles: [String: String], history: (events: [WebJournal.Summary], total: Int)) -> (title: String, body: String)? {
        guard let (title, rows) = rows(kind: kind, id: id, state: state, fundingTitles: fundingTitles) else { return nil }
        return page(kind: kind, id: id, title: title, rows: rows, state: state, history: history)
    }

    /// Whether `kind` has a page and a state of its own.
    static let kinds: Set<String> = ["stakeholder", "funding", "action", "project"]

    /// The subject's title and its current state as rows of (label, escaped HTML), or nil when
    /// the state does not know it. `fundings`, when given, is a stakeholder's count of fundings
    /// that name it (else counted in `state`).
    static func rows(kind: String, id: String, state: PartnershipState, fundingTitles: [String: String], fundings count: Int? = nil) -> (String, [(String, String)])? {
        let names = Names(state: state, fundingTitles: fundingTitles)
        var rows: [(String, String)] = []
        let title: String
        switch kind {
        case "stakeholder":
            guard let s = state.stakeholders[id] else { return nil }
            title = s.name?.value ?? id
            rows = [("Name", HTML.escape(s.name?.value ?? "")), ("Kind", HTML.escape(s.kind?.value ?? "")), ("Country", HTML.escape(s.country?.value ?? "")),
                    ("Value chains", HTML.escape((s.valueChains?.value ?? []).joined(separator: ", "))), ("IATI reference", HTML.escape(s.iatiRef?.value ?? ""))]
            let fundings = count ?? state.fundings.values.filter { sameBytes($0.provider.value, id) || sameBytes($0.receiver.value, id) }.count
            rows.append(("Fundings it provides or receives", HTML.grouped(fundings)))
        case "funding":
            guard let f = state.fundings[id] else { return nil }
            title = names.funding(id)
            rows = [("Provider", "<a href=\"/stakeholders/\(HTML.urlEncode(f.provider.value))\">\(HTML.escape(names.stakeholder(f.provider.value)))</a>"),
                    ("Receiver", "<a href=\"/stakeholders/\(HTML.urlEncode(f.receiver.value))\">\(HTML.escape(names.stakeholder(f.receiver.value)))</a>"),
                    ("Value chain", HTML.escape(f.valueChain?.value ?? "")), ("Instrument", HTML.escape(f.instrument?.value ?? "")),
                    ("Action", f.action.map { "<a href=\"/actions/\(HTML.urlEncode($0.value))\">\(HTML.escape(state.actions[$0.value]?.title?.value ?? $0.value))</a>" } ?? "")]
            for stage in FinanceStage.allCases {
                let sums = f.total(stage)
                let text = sums.currencies.map { HTML.grouped(sums[$0]) + " " + HTML.escape($0) }.joined(separator: "; ")
                rows.append((stage.rawValue.capitalized, text.isEmpty ? "—" : text))
            }
        case "action":
            guard let a = state.actions[id] else { return nil }
            title = a.title?.value ?? id
            rows = [("Title", HTML.escape(a.title?.value ?? "")), ("Pillar", HTML.escape(a.pillar?.value ?? "")), ("Status", HTML.escape(a.status?.value.rawValue ?? "")),
                    ("Due", HTML.escape(a.due?.value ?? "") + (Views.isOverdue(a, at: Timestamp.now().date) ? " <strong class=\"overdue\">overdue</strong>" : "")),
                    ("Leads", (a.leads?.value ?? []).map { "<a href=\"/stakeholders/\(HTML.urlEncode($0))\">\(HTML.escape(names.stakeholder($0)))</a>" }.joined(separator: ", ")),
                    ("Note", HTML.escape(a.note?.value ?? ""))]
        case "project":
            guard let p = state.projects[id] else { return nil }
            title = p.name?.value ?? id
            rows = [("Name", HTML.escape(p.name?.value ?? "")),
                    ("Sponsor", p.sponsor.map { "<a href=\"/stakeholders/\(HTML.urlEncode($0.value))\">\(HTML.escape(names.stakeholder($0.value)))</a>" } ?? ""),
                    ("Value chain", HTML.escape(p.valueChain?.value ?? "")), ("Country", HTML.escape(p.country?.value ?? "")),
                    ("Capacity", HTML.escape([p.capacity?.value, p.capacityUnit?.value].compactMap { $0 }.joined(separator: " "))),
                    ("Milestone", HTML.escape(p.milestone?.value.rawValue ?? "") + (p.milestoneDate.map { " (" + HTML.escape($0.value) + ")" } ?? ""))]
        default:
            return nil
        }
        return (title, rows)
    }

    static func page(kind: String, id: String, title: String, rows: [(String, String)], state: PartnershipState, history: (events: [WebJournal.Summary], total: Int)) -> (title: String, body: String) {
        let subject = kind + "/" + id
        var out = "<h1>\(HTML.escape(title))</h1>\n<p class=\"hint\">\(HTML.escape(subject))\(state.isRetired(subject) ? " — retired" : "")</p>\n"
        out += "<section aria-labelledby=\"current-h\"><h2 id=\"current-h\">Current state</h2>\n<table><caption>Current state</caption><tbody>\n"
        for (name, value) in rows { out += "<tr><th scope=\"row\">\(name)</th><td>\(value)</td></tr>\n" }
        out += "</tbody></table></section>\n"
        out += "<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">History</h2>\n"
        out += "<p>\(HTML.grouped(history.total)) events\(history.total > history.events.count ? "; the first \(history.events.count) shown, all in <a href=\"/events?subject=\(HTML.urlEncode(subject))\">the log</a>" : ""), oldest first.</p>\n"
        out += "<table id=\"history\"><caption>Events about this subject</caption><thead><tr><th scope=\"col\">Recorded</th><th scope=\"col\">Type</th><th scope=\"col\">Actor</th><th scope=\"col\">Event</th></tr></thead><tbody>\n"
        for summary in history.events {
            out += "<tr data-event-id=\"\(HTML.escape(summary.id))\"><td>\(HTML.escape(summary.time))</td><td>\(HTML.escape(summary.type))</td><td>\(HTML.escape(summary.actor))</td><td><a href=\"/events/\(HTML.escape(summary.id))\">\(HTML.escape(String(summary.id.prefix(12))))…</a></td></tr>\n"
        }
        out += "</tbody></table></section>\n"
        return (title, out)
    }
}

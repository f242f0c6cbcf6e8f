import AccordModel
import AccordProjections

/// The log `/events` and one event `/events/ID` (Journal/UI.md §2).
enum EventPages {
    /// Events per page of the log.
    static let pageSize = 50
    /// The longest filter value read, in bytes.
    static let maxFilterBytes = 256
    /// Bytes of a stored record shown on its page, and of each field's value; the rest is cut
    /// (at a character boundary) and counted, so that a page stays under ``WebServer/maxPageBytes``.
    static let maxRecordShown = 64 * 1024
    static let maxFieldShown = 4 * 1024

    /// At most `limit` bytes of `text`, cut before a whole Unicode scalar, with a note of what was cut.
    static func cut(_ text: String, limit: Int) -> String {
        guard text.utf8.count > limit else { return HTML.escape(text) }
        let bytes = Array(text.utf8)
        var end = limit
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        let shown = String(decoding: bytes[..<end], as: UTF8.self)
        return HTML.escape(shown) + " <em>(\(HTML.grouped(text.utf8.count - shown.utf8.count)) more bytes not shown; 'accord show' prints them)</em>"
    }

    struct Filter {
        var type: String?
        var subject: String?
        var site: String?
        var from: String?
        var to: String?
        var q: String?
        var page = 1

        init(_ query: FormData) {
            func value(_ name: String) -> String? {
                query.nonEmpty(name).flatMap { $0.utf8.count <= EventPages.maxFilterBytes ? $0 : nil }
            }
            type = value("type"); subject = value("subject"); site = value("site")
            from = value("from"); to = value("to"); q = value("q")
            page = max(1, Int(query["page"] ?? "1") ?? 1)
        }

        func accepts(_ summary: WebJournal.Summary) -> Bool {
            if let type, !sameBytes(type, summary.type) { return false }
            if let subject, !sameBytes(subject, summary.subject) { return false }
            if let site, !sameBytes(site, summary.site) { return false }
            let day = Array(summary.time.utf8.prefix(10))
            if let from, day.lexicographicallyPrecedes(Array(from.utf8)) { return false }
            if let to, Array(to.utf8).lexicographicallyPrecedes(day) { return false }
            if let q {
                let needle = Array(q.utf8)
                let haystacks = [summary.label ?? "", summary.subject]
                guard haystacks.contains(where: { contains(Array($0.utf8), needle) }) else { return false }
            }
            return true
        }

        /// The query string of this filter on `page`.
        func query(page: Int) -> String {
            var parts: [String] = []
            for (name, value) in [("type", type), ("subject", subject), ("site", site), ("from", from), ("to", to), ("q", q)] {
                if let value { parts.append(name + "=" + HTML.urlEncode(value)) }
            }
            parts.append("page=\(page)")
            return "?" + parts.joined(separator: "&")
        }
    }

    /// Whether `needle` occurs in `haystack`, as bytes.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// The log's page: `shown`, the events of page `page` of the `total` that `filter` accepts.
    static func log(_ shown: [WebJournal.Summary], total: Int, page: Int, filter: Filter, names: Names) -> String {
        let pages = max(1, (total + pageSize - 1) / pageSize)
        var out = "<h1>Events</h1>\n"
        out += "<form method=\"get\" action=\"/events\" class=\"filters\" role=\"search\" aria-label=\"filter events\">\n"
        for (name, label, value, hint) in [("type", "Type", filter.type, "e.g. finance.disbursed.v1"), ("subject", "Subject", filter.subject, "kind/id"),
                                           ("site", "Office", filter.site, "site name"), ("from", "From", filter.from, "YYYY-MM-DD"),
                                           ("to", "To", filter.to, "YYYY-MM-DD"), ("q", "Search names and titles", filter.q, "text")] {
            out += "<div><label for=\"filter-\(name)\">\(label) <span class=\"hint\">(\(hint))</span></label><input type=\"text\" id=\"filter-\(name)\" name=\"\(name)\" value=\"\(HTML.escape(value ?? ""))\"></div>\n"
        }
        out += "<div><button type=\"submit\" id=\"filter-submit\">Filter</button></div>\n</form>\n"
        out += "<p id=\"events-count\">\(HTML.grouped(total)) events, newest first; page \(page) of \(pages).</p>\n"
        out += "<table id=\"events\"><caption>Events, newest first</caption><thead><tr><th scope=\"col\">Recorded</th><th scope=\"col\">Type</th><th scope=\"col\">Subject</th><th scope=\"col\">Office</th><th scope=\"col\">Actor</th><th scope=\"col\">Event</th></tr></thead><tbody>\n"
        for summary in shown {
            out += "<tr data-event-id=\"\(HTML.escape(summary.id))\"><td>\(HTML.escape(summary.time))</td><td>\(HTML.escape(summary.type))</td><td>\(names.link(summary.subject))</td><td>\(HTML.escape(summary.site)):\(summary.seq)</td><td>\(HTML.escape(summary.actor))</td><td><a href=\"/events/\(HTML.escape(summary.id))\">\(HTML.escape(String(summary.id.prefix(12))))…</a></td></tr>\n"
        }
        out += "</tbody></table>\n<nav aria-label=\"pages\"><ul>\n"
        if page > 1 { out += "<li><a rel=\"prev\" href=\"/events\(HTML.escape(filter.query(page: page - 1)))\">Previous page</a></li>\n" }
        if page < pages { out += "<li><a rel=\"next\" href=\"/events\(HTML.escape(filter.query(page: page + 1)))\">Next page</a></li>\n" }
        out += "</ul></nav>\n"
        return out
    }

    static func event(_ found: WebJournal.Found, around: WebJournal.Around?, names: Names) -> String {
        let event = found.event
        var out = "<h1>Event \(HTML.escape(event.type.rawValue))</h1>\n"
        out += "<dl>\n<dt>Id</dt><dd>\(HTML.escape(event.id.hex))</dd>\n<dt>Subject</dt><dd>\(names.link(event.subject.description))</dd>\n"
        out += "<dt>Office and sequence</dt><dd>\(HTML.escape(event.site.rawValue)):\(event.seq)</dd>\n<dt>Recorded</dt><dd>\(HTML.escape(event.time.text))</dd>\n"
        out += "<dt>Actor</dt><dd>\(HTML.escape(event.actor))</dd>\n</dl>\n"
        out += "<section aria-labelledby=\"sig-h\"><h2 id=\"sig-h\">Signature</h2><p id=\"signature\">\(HTML.escape(found.signature))</p></section>\n"
        out += "<section aria-labelledby=\"changed-h\"><h2 id=\"changed-h\">What it changed</h2>\n"
        out += "<table><caption>The fields it records</caption><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Value</th><th scope=\"col\">Meaning</th></tr></thead><tbody>\n"
        for member in event.data.members {
            var text = member.value.description
            if case .string(let s) = member.value { text = s }
            var meaning = ""
            if case .string(let s) = member.value, ["provider", "receiver", "sponsor", "buyer", "seller"].contains(member.key) { meaning = HTML.escape(names.stakeholder(s)) }
            out += "<tr><th scope=\"row\">\(HTML.escape(member.key))</th><td>\(cut(text, limit: maxFieldShown))</td><td>\(meaning)</td></tr>\n"
        }
        out += "</tbody></table>\n"
        let subject = event.subject
        if let around, SubjectPages.kinds.contains(subject.kind) {
            let before = SubjectPages.rows(kind: subject.kind, id: subject.id, state: around.before, fundingTitles: names.fundingTitles, fundings: around.fundings)
            let after = SubjectPages.rows(kind: subject.kind, id: subject.id, state: around.after, fundingTitles: names.fundingTitles, fundings: around.fundings)
            out += "<table id=\"changes\"><caption>The subject before and after this event (the events recorded before it, then this one)</caption><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Before</th><th scope=\"col\">After</th><th scope=\"col\">Changed</th></tr></thead><tbody>\n"
            for (index, row) in (after?.1 ?? before?.1 ?? []).enumerated() {
                let old = before.map { $0.1[index].1 } ?? "(did not exist)"
                let new = after.map { $0.1[index].1 } ?? "(does not exist)"
                out += "<tr><th scope=\"row\">\(row.0)</th><td>\(old)</td><td>\(new)</td><td>\(sameBytes(old, new) ? "" : "changed")</td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        out += "</section>\n"
        out += "<section aria-labelledby=\"record-h\"><h2 id=\"record-h\">Stored record</h2><pre id=\"record\">\(cut(String(decoding: event.record, as: UTF8.self), limit: maxRecordShown))</pre></section>\n"
        // Corrections: a retraction of this event, then the same event recorded again.
        var again = "subject=" + HTML.urlEncode(event.subject.description)
        for member in event.data.members {
            switch member.value {
            case .string(let s): again += "&" + HTML.urlEncode(member.key) + "=" + HTML.urlEncode(s)
            case .number(let n): again += "&" + HTML.urlEncode(member.key) + "=" + HTML.urlEncode(n)
            case .array(let items): again += "&" + HTML.urlEncode(member.key) + "=" + HTML.urlEncode(items.compactMap(\.stringValue).joined(separator: ","))
            default: again += "&" + HTML.urlEncode(member.key) + "=" + HTML.urlEncode(member.value.description)
            }
        }
        out += "<section aria-labelledby=\"correct-h\"><h2 id=\"correct-h\">Correct this event</h2><ol>\n"
        out += "<li><a id=\"correct\" href=\"/record/event.retracted.v1?subject=\(HTML.urlEncode(event.subject.description))&amp;event=\(event.id.hex)\">Correct this event: retract it</a></li>\n"
        if RecordForm.entry(event.type.rawValue) != nil {
            out += "<li><a id=\"rerecord\" href=\"/record/\(HTML.escape(event.type.rawValue))?\(HTML.escape(again))\">then record it again, corrected</a></li>\n"
        }
        out += "</ol></section>\n"
        return out
    }
}

import AccordProjections

/// Names instead of slugs: what the state knows a subject or a stakeholder by.
struct Names {
    let state: PartnershipState
    /// Fundings' titles from their `funding.described.v1` events (``WebJournal/Facts``).
    var fundingTitles: [String: String] = [:]

    /// A stakeholder's name, else its id.
    func stakeholder(_ id: String) -> String { state.stakeholders[id]?.name?.value ?? id }

    /// A funding's name: its title, else provider → receiver (their names), else its id.
    func funding(_ id: String) -> String {
        if let title = fundingTitles[id] { return title }
        guard let funding = state.fundings[id] else { return id }
        return stakeholder(funding.provider.value) + " → " + stakeholder(funding.receiver.value)
    }

    /// The name of a subject `kind/id`, when the state knows one.
    func subject(_ subject: String) -> String? {
        guard let slash = subject.firstIndex(of: "/") else { return nil }
        let kind = subject[..<slash], id = String(subject[subject.index(after: slash)...])
        switch kind {
        case "stakeholder": return state.stakeholders[id]?.name?.value
        case "funding": return state.fundings[id] == nil ? nil : funding(id)
        case "action": return state.actions[id]?.title?.value
        case "project": return state.projects[id]?.name?.value
        case "agreement": return state.agreements[id]?.title.value
        case "research": return state.research[id]?.title?.value
        default: return nil
        }
    }

    /// The page of a subject in the web view, for the kinds that have one.
    static func path(of subject: String) -> String? {
        guard let slash = subject.firstIndex(of: "/") else { return nil }
        let kind = subject[..<slash], id = subject[subject.index(after: slash)...]
        switch kind {
        case "stakeholder": return "/stakeholders/" + HTML.urlEncode(String(id))
        case "funding": return "/fundings/" + HTML.urlEncode(String(id))
        case "action": return "/actions/" + HTML.urlEncode(String(id))
        case "project": return "/projects/" + HTML.urlEncode(String(id))
        default: return nil
        }
    }

    /// A link to a subject's page labelled with its name (and the subject), escaped.
    func link(_ subject: String) -> String {
        let label = self.subject(subject).map { HTML.escape($0) + " <span class=\"hint\">(\(HTML.escape(subject)))</span>" } ?? HTML.escape(subject)
        guard let path = Self.path(of: subject) else { return label }
        return "<a href=\"\(path)\">\(label)</a>"
    }
}

import AccordModel

extension Views {
    /// The state as the views show it (Decision 0011): without retired subjects, and without
    /// retracted research outputs and programme deliveries (retracted finance transactions are
    /// already out of the sums).
    /// - Complexity: O(state) when anything is retired or retracted, else O(1).
    public static func visible(_ state: PartnershipState) -> PartnershipState {
        guard state.retirements != nil || state.retractions != nil else { return state }
        var shown = state
        shown.stakeholders = state.stakeholders.filter { !state.isRetired("stakeholder/" + $0.key) }
        shown.agreements = state.agreements.filter { !state.isRetired("agreement/" + $0.key) }
        shown.actions = state.actions.filter { !state.isRetired("action/" + $0.key) }
        shown.fundings = state.fundings.filter { !state.isRetired("funding/" + $0.key) }
        shown.projects = state.projects.filter { !state.isRetired("project/" + $0.key) }
        shown.offtakes = state.offtakes.filter { !state.isRetired("offtake/" + $0.key) }
        shown.research = state.research.filter { !state.isRetired("research/" + $0.key) }
        shown.outputs = state.outputs.filter { id, output in
            let subject = "research/" + output.research
            return !state.isRetracted(id, subject: subject) && !state.isRetired(subject)
        }
        shown.deliveries = state.deliveries.filter { id, delivery in
            let subject = "programme/" + delivery.programme
            return !state.isRetracted(id, subject: subject) && !state.isRetired(subject)
        }
        return shown
    }

    /// The corrections of subjects of `kinds` (`stakeholder`, `action` …), one per row, by
    /// subject and date: retirements, retractions (with the id of the event retracted) and
    /// reopened actions, each with its reason; nil when there are none.
    public static func corrections(_ state: PartnershipState, kinds: [String]) -> Table? {
        func ofKinds(_ subject: String) -> Bool {
            kinds.contains { subject.utf8.starts(with: ($0 + "/").utf8) }
        }
        var rows: [[String]] = []
        for (subject, retirements) in state.retirements ?? [:] where ofKinds(subject) {
            for (id, retirement) in retirements {
                rows.append([subject, retirement.date, "retired", String(id.prefix(12)), retirement.reason])
            }
        }
        for retraction in (state.retractions ?? [:]).values.map(\.value) where ofKinds(retraction.subject) {
            rows.append([retraction.subject, retraction.date, "retracted", String(retraction.event.prefix(12)), retraction.reason])
        }
        if kinds.contains("action") {
            for action in state.actions.values {
                guard let reason = action.reopened?.value else { continue }
                rows.append(["action/" + action.id, action.statusDate?.value ?? "", "reopened", "", reason])
            }
        }
        guard !rows.isEmpty else { return nil }
        rows.sort { $0.lexicographicallyPrecedes($1) { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        return Table(title: "Corrections (\(rows.count))", columns: ["subject", "date", "correction", "event", "reason"], rows: rows)
    }

    /// The finance transactions that were corrected, one per row by funding and date: those
    /// retracted (left out of every sum, with the retraction's reason), those that name what they
    /// correct (`corrects`), and those corrected by another; nil when there are none.
    public static func financeCorrections(_ state: PartnershipState) -> Table? {
        var rows: [[String]] = []
        let anyRetraction = state.retractions != nil
        for funding in state.fundings.values {
            let subject = "funding/" + funding.id
            // The ledger read once (not merged with what was folded since on every pass), and
            // passed over only for what it can note: with no retraction in the state and no
            // entry that corrects another, a funding has nothing to note (issue 18).
            let ledger = funding.ledger.entries
            var correctedBy: [String: [String]] = [:]
            for (id, entry) in ledger { if let target = entry.corrects { correctedBy[target, default: []].append(id) } }
            guard anyRetraction || !correctedBy.isEmpty else { continue }
            for (id, entry) in ledger {
                var notes: [String] = []
                if state.isRetracted(id, subject: subject), let retraction = state.retractions?[Retraction.key(event: id, subject: subject)]?.value {
                    notes.append("retracted \(retraction.date): \(retraction.reason)")
                }
                if let target = entry.corrects { notes.append("corrects \(target.prefix(12))") }
                if let by = correctedBy[id] { notes.append("corrected by " + by.sorted().map { String($0.prefix(12)) }.joined(separator: " ")) }
                guard !notes.isEmpty else { continue }
                rows.append([funding.id, entry.date ?? "", String(id.prefix(12)), entry.stage, entry.amount + " " + entry.currency, notes.joined(separator: "; ")])
            }
        }
        guard !rows.isEmpty else { return nil }
        rows.sort { $0.lexicographicallyPrecedes($1) { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        return Table(title: "Corrected transactions (\(rows.count))", columns: ["funding", "date", "event", "stage", "amount", "correction"], rows: rows)
    }
}

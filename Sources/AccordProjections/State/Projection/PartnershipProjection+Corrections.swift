import AccordModel

extension PartnershipProjection {
    /// `event.retracted.v1` (Decision 0011): records the retraction under the retracted event's
    /// id and the retraction's subject, and takes out what the event added where that can be
    /// taken out: a finance transaction leaves its funding's sums, a retirement ends. Research
    /// outputs and programme deliveries stay in the state and the views leave them out. A
    /// retraction folded before its event is honoured when the event comes, so the order does
    /// not matter. Registers are never rolled back: a retraction of an event that only set
    /// registers has no effect (the command check refuses it). A retraction without a text
    /// `event` and `reason` is left out.
    static func applyRetraction(_ change: Change, to state: inout PartnershipState) {
        guard let target = change.fields.string("event"), let reason = change.fields.string("reason") else { return }
        let subject = change.event.subject.description
        let retraction = Retraction(event: target, subject: subject, reason: reason, by: change.event.id.hex, date: change.event.time.date.text)
        var retractions = state.retractions ?? [:]
        let key = Retraction.key(event: target, subject: subject)
        let first = retractions[key] == nil
        retractions[key].offer(retraction, change.stamp)
        state.retractions = retractions
        guard first else { return }
        if change.event.subject.kind == "funding", state.fundings[change.id]?.ledger[target] != nil {
            recomputeSums(of: change.id, in: &state)
        }
        if var retirements = state.retirements, retirements[subject]?[target] != nil {
            retirements[subject]?[target] = nil
            if retirements[subject]?.isEmpty == true { retirements[subject] = nil }
            state.retirements = retirements.isEmpty ? nil : retirements
        }
    }

    /// `subject.retired.v1`: the subject is retired (the views leave it out) until every
    /// retirement of it is retracted. A retirement without a text `reason` is left out.
    static func applyRetirement(_ change: Change, to state: inout PartnershipState) {
        guard let reason = change.fields.string("reason") else { return }
        let subject = change.event.subject.description
        let id = change.event.id.hex
        guard !state.isRetracted(id, subject: subject) else { return }
        var retirements = state.retirements ?? [:]
        retirements[subject, default: [:]][id] = Retirement(reason: reason, date: change.event.time.date.text)
        state.retirements = retirements
    }
}

import AccordModel

extension PartnershipProjection {
    /// `action.proposed.v1`: the action's registers, and status `proposed`.
    static func applyProposal(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        var action = state.actions[id] ?? Action(id: id)
        if let title = fields.string("title") { action.title.offer(title, stamp) }
        if let pillar = fields.string("pillar") { action.pillar.offer(pillar, stamp) }
        if let chains = fields.strings("valueChains") { action.valueChains.offer(chains, stamp) }
        if let leads = fields.strings("leads") { action.leads.offer(leads, stamp) }
        if let due = fields.string("due") { action.due.offer(due, stamp) }
        action.status.offer(.proposed, stamp)
        action.statusDate.offer(change.event.time.date.text, stamp)
        state.actions[id] = action
    }

    /// `action.agreed.v1`, `.started`, `.completed`, `.cancelled`: the status its type sets, the
    /// date it was recorded and its note (or reason).
    static func applyLifecycle(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        let status = ActionStatus(eventType: change.type) ?? .cancelled
        var action = state.actions[id] ?? Action(id: id)
        action.status.offer(status, stamp)
        action.statusDate.offer(change.event.time.date.text, stamp)
        action.note.offer(fields.string("note") ?? fields.string("reason") ?? "", stamp)
        state.actions[id] = action
    }
}

extension Action {
    init(id: String) { self.id = id }
}

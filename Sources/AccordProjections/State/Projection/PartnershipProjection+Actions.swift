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
        action.statusTime.offer(change.event.time.text, stamp)
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
        action.statusTime.offer(change.event.time.text, stamp)
        action.note.offer(fields.string("note") ?? fields.string("reason") ?? "", stamp)
        state.actions[id] = action
    }

    /// `action.reopened.v1`: a lifecycle step back to an open status — `data.status`, or
    /// `started` without one — with its reason as the note, and the reason kept in
    /// ``Action/reopened``. Like every lifecycle step it sets the status register, so it wins
    /// over the completion or cancellation it was written after seeing (§9.1).
    static func applyReopening(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        let status = fields.string("status").flatMap(ActionStatus.init(rawValue:)).flatMap { $0.isOpen ? $0 : nil } ?? .started
        let reason = fields.string("reason") ?? ""
        var action = state.actions[id] ?? Action(id: id)
        action.status.offer(status, stamp)
        action.statusDate.offer(change.event.time.date.text, stamp)
        action.statusTime.offer(change.event.time.text, stamp)
        action.note.offer(reason, stamp)
        action.reopened.offer(reason, stamp)
        state.actions[id] = action
    }
}

extension Action {
    init(id: String) { self.id = id }
}

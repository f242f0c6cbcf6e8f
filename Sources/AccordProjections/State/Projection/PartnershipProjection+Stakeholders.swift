import AccordModel

extension PartnershipProjection {
    /// `stakeholder.registered.v1`, `stakeholder.updated.v1`: the stakeholder's registers; a
    /// registration also keeps the least stamp as ``Stakeholder/registered``.
    static func applyStakeholder(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        var stakeholder = state.stakeholders[id] ?? Stakeholder(id: id)
        if let name = fields.string("name") { stakeholder.name.offer(name, stamp) }
        if let kind = fields.string("kind") { stakeholder.kind.offer(kind, stamp) }
        if let country = fields.string("country") { stakeholder.country.offer(country, stamp) }
        if let chains = fields.strings("valueChains") { stakeholder.valueChains.offer(chains, stamp) }
        if let ref = fields.string("iatiRef") { stakeholder.iatiRef.offer(ref, stamp) }
        if change.type == "stakeholder.registered.v1", stakeholder.registered.map({ stamp < $0 }) ?? true {
            stakeholder.registered = stamp
        }
        state.stakeholders[id] = stakeholder
    }

    /// `stakeholder.participated.v1`: the stakeholder (registered by taking part), and its role
    /// in the funding, kept once in ``PartnershipState/participants`` with the roles sorted.
    static func applyParticipation(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        var stakeholder = state.stakeholders[id] ?? Stakeholder(id: id)
        if let name = fields.string("name") { stakeholder.name.offer(name, stamp) }
        if let ref = fields.string("iatiRef") { stakeholder.iatiRef.offer(ref, stamp) }
        if stakeholder.registered.map({ stamp < $0 }) ?? true { stakeholder.registered = stamp }
        state.stakeholders[id] = stakeholder
        guard let funding = fields.string("funding"), let role = fields.string("role") else { return }
        var participants = state.participants ?? [:]
        var roles = participants[funding]?[id] ?? []
        if !roles.contains(role) {
            roles.append(role)
            roles.sort()
        }
        participants[funding, default: [:]][id] = roles
        state.participants = participants
    }

    /// `agreement.signed.v1`: the agreement's registers; an event without title, parties or
    /// date is left out.
    static func applyAgreement(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        guard let title = fields.string("title"), let parties = fields.strings("parties"), let date = fields.string("date") else { return }
        var agreement = state.agreements[id] ?? Agreement(id: id, title: Register(title, stamp), parties: Register(parties, stamp), date: Register(date, stamp))
        agreement.title.offer(title, stamp)
        agreement.parties.offer(parties, stamp)
        agreement.date.offer(date, stamp)
        if let place = fields.string("place") { agreement.place.offer(place, stamp) }
        state.agreements[id] = agreement
    }
}

extension Stakeholder {
    init(id: String) { self.id = id }
}

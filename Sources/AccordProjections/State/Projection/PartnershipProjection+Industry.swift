import AccordModel

extension PartnershipProjection {
    /// `industry.project.registered.v1`: the project's registers.
    static func applyProject(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        var project = state.projects[id] ?? IndustrialProject(id: id)
        if let name = fields.string("name") { project.name.offer(name, stamp) }
        if let sponsor = fields.string("sponsor") { project.sponsor.offer(sponsor, stamp) }
        if let chain = fields.string("valueChain") { project.valueChain.offer(chain, stamp) }
        if let country = fields.string("country") { project.country.offer(country, stamp) }
        if let capacity = fields.string("capacity") { project.capacity.offer(capacity, stamp) }
        if let unit = fields.string("capacityUnit") { project.capacityUnit.offer(unit, stamp) }
        state.projects[id] = project
    }

    /// `industry.milestone.reached.v1`: the project's milestone and its date; an unknown
    /// milestone is left out.
    static func applyMilestone(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        guard let milestone = fields.string("milestone").flatMap(Milestone.init(rawValue:)) else { return }
        var project = state.projects[id] ?? IndustrialProject(id: id)
        project.milestone.offer(milestone, stamp)
        if let date = fields.string("date") { project.milestoneDate.offer(date, stamp) }
        state.projects[id] = project
    }

    /// `industry.offtake.signed.v1`: the offtake's registers; an event without buyer, seller,
    /// commodity, quantity or unit is left out.
    static func applyOfftake(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        guard let buyer = fields.string("buyer"), let seller = fields.string("seller"), let commodity = fields.string("commodity"),
              let quantity = fields.string("quantity"), let unit = fields.string("unit") else { return }
        var offtake = state.offtakes[id] ?? Offtake(id: id, buyer: Register(buyer, stamp), seller: Register(seller, stamp), commodity: Register(commodity, stamp), quantity: Register(quantity, stamp), unit: Register(unit, stamp))
        offtake.buyer.offer(buyer, stamp)
        offtake.seller.offer(seller, stamp)
        offtake.commodity.offer(commodity, stamp)
        offtake.quantity.offer(quantity, stamp)
        offtake.unit.offer(unit, stamp)
        if let from = fields.string("from") { offtake.from.offer(from, stamp) }
        if let to = fields.string("to") { offtake.to.offer(to, stamp) }
        state.offtakes[id] = offtake
    }
}

extension IndustrialProject {
    init(id: String) { self.id = id }
}

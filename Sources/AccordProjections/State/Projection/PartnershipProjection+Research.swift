import AccordModel

extension PartnershipProjection {
    /// `research.project.started.v1`: the research project's registers.
    static func applyResearch(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        var project = state.research[id] ?? ResearchProject(id: id)
        if let title = fields.string("title") { project.title.offer(title, stamp) }
        if let partners = fields.strings("partners") { project.partners.offer(partners, stamp) }
        if let field = fields.string("field") { project.field.offer(field, stamp) }
        if let budget = fields.string("budget") { project.budget.offer(budget, stamp) }
        if let currency = fields.string("currency") { project.currency.offer(currency, stamp) }
        state.research[id] = project
    }

    /// `research.output.published.v1`: one output, keyed by the event id; an event without title
    /// or date is left out.
    static func applyOutput(_ change: Change, to state: inout PartnershipState) {
        let fields = change.fields
        guard let title = fields.string("title"), let date = fields.string("date") else { return }
        let output = ResearchOutput(research: change.id, title: title, date: date, url: fields.string("url"))
        state.outputs[change.event.id.hex] = output
        state.historyCounts?.count(output)
        state.historyEntriesFolded += 1
    }

    /// `skills.programme.delivered.v1`: one delivery, keyed by the event id; an event without
    /// title, provider, date or a whole number of participants (0 to 999,999,999) is left out.
    static func applyDelivery(_ change: Change, to state: inout PartnershipState) {
        let fields = change.fields
        guard let title = fields.string("title"), let provider = fields.string("provider"), let date = fields.string("date"),
              case .number(let literal)? = change.data["participants"], let participants = Int(literal),
              (0...999_999_999).contains(participants) else { return }
        let delivery = ProgrammeDelivery(programme: change.id, title: title, provider: provider, participants: participants, date: date)
        state.deliveries[change.event.id.hex] = delivery
        state.historyCounts?.count(delivery)
        state.historyEntriesFolded += 1
    }
}

extension ResearchProject {
    init(id: String) { self.id = id }
}

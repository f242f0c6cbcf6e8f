import AccordModel

/// The partnership projection: a pure fold of events into ``PartnershipState`` (Format.md §9).
///
/// ```swift
/// var state = PartnershipState()
/// for event in events { PartnershipProjection.apply(event, to: &state) }
/// ```
/// The result does not depend on the order events are applied in: last values are decided by
/// ``Stamp`` and sums commute. Events of types it does not know (a newer peer's) are counted in
/// ``PartnershipState/feeds`` and otherwise left alone.
public enum PartnershipProjection {
    /// Name of the projection, in snapshots.
    public static let name = "partnership"
    /// Its version: raised whenever ``apply(_:to:)`` changes what it computes, so that older
    /// snapshots are ignored and rebuilt.
    public static let version = 2

    /// Folds one event into `state`.
    /// - Complexity: O(1) dictionary updates, plus the size of the event's data.
    public static func apply(_ event: Event, to state: inout PartnershipState) {
        let stamp = Stamp(event)
        var feed = state.feeds[event.site.rawValue] ?? PartnershipState.Feed(events: 0, lastSeq: 0, lastID: "")
        feed.events += 1
        if event.seq.rawValue > feed.lastSeq {
            feed.lastSeq = event.seq.rawValue
            feed.lastID = event.id.hex
        }
        state.feeds[event.site.rawValue] = feed

        let (type, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
        let id = event.subject.id
        let fields = Fields(data)
        for reference in fields.stakeholderReferences(type: type) + (event.subject.kind == "stakeholder" ? [id] : []) {
            state.activity[reference, default: 0] += 1
        }

        switch type {
        case "stakeholder.registered.v1", "stakeholder.updated.v1":
            var stakeholder = state.stakeholders[id] ?? Stakeholder(id: id)
            if let name = fields.string("name") { stakeholder.name.offer(name, stamp) }
            if let kind = fields.string("kind") { stakeholder.kind.offer(kind, stamp) }
            if let country = fields.string("country") { stakeholder.country.offer(country, stamp) }
            if let chains = fields.strings("valueChains") { stakeholder.valueChains.offer(chains, stamp) }
            if let ref = fields.string("iatiRef") { stakeholder.iatiRef.offer(ref, stamp) }
            if type == "stakeholder.registered.v1", stakeholder.registered.map({ stamp < $0 }) ?? true {
                stakeholder.registered = stamp
            }
            state.stakeholders[id] = stakeholder

        case "agreement.signed.v1":
            guard let title = fields.string("title"), let parties = fields.strings("parties"), let date = fields.string("date") else { return }
            var agreement = state.agreements[id] ?? Agreement(id: id, title: Register(title, stamp), parties: Register(parties, stamp), date: Register(date, stamp))
            agreement.title.offer(title, stamp)
            agreement.parties.offer(parties, stamp)
            agreement.date.offer(date, stamp)
            if let place = fields.string("place") { agreement.place.offer(place, stamp) }
            state.agreements[id] = agreement

        case "action.proposed.v1":
            var action = state.actions[id] ?? Action(id: id)
            if let title = fields.string("title") { action.title.offer(title, stamp) }
            if let pillar = fields.string("pillar") { action.pillar.offer(pillar, stamp) }
            if let chains = fields.strings("valueChains") { action.valueChains.offer(chains, stamp) }
            if let leads = fields.strings("leads") { action.leads.offer(leads, stamp) }
            if let due = fields.string("due") { action.due.offer(due, stamp) }
            action.status.offer(.proposed, stamp)
            action.statusDate.offer(event.time.date.text, stamp)
            state.actions[id] = action

        case "action.agreed.v1", "action.started.v1", "action.completed.v1", "action.cancelled.v1":
            let status = ActionStatus(eventType: type) ?? .cancelled
            var action = state.actions[id] ?? Action(id: id)
            action.status.offer(status, stamp)
            action.statusDate.offer(event.time.date.text, stamp)
            action.note.offer(fields.string("note") ?? fields.string("reason") ?? "", stamp)
            state.actions[id] = action

        case "finance.pledged.v1", "finance.committed.v2", "finance.disbursed.v1", "finance.spent.v1", "finance.transaction.recorded.v1":
            let stage: String = switch type {
            case "finance.pledged.v1": FinanceStage.pledged.rawValue
            case "finance.committed.v2": FinanceStage.committed.rawValue
            case "finance.disbursed.v1": FinanceStage.disbursed.rawValue
            case "finance.spent.v1": FinanceStage.spent.rawValue
            // Other IATI transaction types are summed apart, under "iati-<code>".
            default: "iati-" + (fields.string("iatiType") ?? "unknown")
            }
            let value = fields.object("value").map(Fields.init) ?? fields
            guard let provider = fields.string("provider"), let receiver = fields.string("receiver"),
                  let amountText = value.string("amount"), let amount = ExactDecimal(amountText),
                  let currency = value.string("currency") else { return }
            var funding = state.fundings[id] ?? Funding(id: id, provider: Register(provider, stamp), receiver: Register(receiver, stamp))
            funding.provider.offer(provider, stamp)
            funding.receiver.offer(receiver, stamp)
            if let chain = fields.string("valueChain") { funding.valueChain.offer(chain, stamp) }
            if let instrument = fields.string("instrument") { funding.instrument.offer(instrument, stamp) }
            if let action = fields.string("action") { funding.action.offer(action, stamp) }
            // The same imported item recorded by two offices (each imported the same file before
            // they synced) is summed once: both carry the same source identity and, by
            // construction, the same amounts (Decision 0005). Registers above take both (their
            // stamps decide), the sums only the first: membership, so order does not matter.
            var counted = true
            if let source = fields.string(Catalogue.sourceField) {
                let key = String(Digest.sha256Hex(Array(source.utf8)).prefix(32))
                if state.financeSources?[key] != nil {
                    counted = false
                } else {
                    var sources = state.financeSources ?? [:]
                    sources[key] = id
                    state.financeSources = sources
                }
            }
            if counted {
                funding.totals[stage, default: CurrencySums()].add(amount, currency)
                funding.transactions[stage, default: 0] += 1
            }
            state.fundings[id] = funding

        case "stakeholder.participated.v1":
            var stakeholder = state.stakeholders[id] ?? Stakeholder(id: id)
            if let name = fields.string("name") { stakeholder.name.offer(name, stamp) }
            if let ref = fields.string("iatiRef") { stakeholder.iatiRef.offer(ref, stamp) }
            if stakeholder.registered.map({ stamp < $0 }) ?? true { stakeholder.registered = stamp }
            state.stakeholders[id] = stakeholder
            if let funding = fields.string("funding"), let role = fields.string("role") {
                var participants = state.participants ?? [:]
                var roles = participants[funding]?[id] ?? []
                if !roles.contains(role) {
                    roles.append(role)
                    roles.sort()
                }
                participants[funding, default: [:]][id] = roles
                state.participants = participants
            }

        case "industry.project.registered.v1":
            var project = state.projects[id] ?? IndustrialProject(id: id)
            if let name = fields.string("name") { project.name.offer(name, stamp) }
            if let sponsor = fields.string("sponsor") { project.sponsor.offer(sponsor, stamp) }
            if let chain = fields.string("valueChain") { project.valueChain.offer(chain, stamp) }
            if let country = fields.string("country") { project.country.offer(country, stamp) }
            if let capacity = fields.string("capacity") { project.capacity.offer(capacity, stamp) }
            if let unit = fields.string("capacityUnit") { project.capacityUnit.offer(unit, stamp) }
            state.projects[id] = project

        case "industry.milestone.reached.v1":
            guard let milestone = fields.string("milestone").flatMap(Milestone.init(rawValue:)) else { return }
            var project = state.projects[id] ?? IndustrialProject(id: id)
            project.milestone.offer(milestone, stamp)
            if let date = fields.string("date") { project.milestoneDate.offer(date, stamp) }
            state.projects[id] = project

        case "industry.offtake.signed.v1":
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

        case "research.project.started.v1":
            var project = state.research[id] ?? ResearchProject(id: id)
            if let title = fields.string("title") { project.title.offer(title, stamp) }
            if let partners = fields.strings("partners") { project.partners.offer(partners, stamp) }
            if let field = fields.string("field") { project.field.offer(field, stamp) }
            if let budget = fields.string("budget") { project.budget.offer(budget, stamp) }
            if let currency = fields.string("currency") { project.currency.offer(currency, stamp) }
            state.research[id] = project

        case "research.output.published.v1":
            guard let title = fields.string("title"), let date = fields.string("date") else { return }
            state.outputs[event.id.hex] = ResearchOutput(research: id, title: title, date: date, url: fields.string("url"))

        case "skills.programme.delivered.v1":
            guard let title = fields.string("title"), let provider = fields.string("provider"), let date = fields.string("date"),
                  case .number(let literal)? = data["participants"], let participants = Int(literal),
                  (0...999_999_999).contains(participants) else { return }
            state.deliveries[event.id.hex] = ProgrammeDelivery(programme: id, title: title, provider: provider, participants: participants, date: date)

        default:
            break
        }
    }
}

/// Typed access to an event's data.
struct Fields {
    let data: JSONObject
    init(_ data: JSONObject) { self.data = data }

    func string(_ key: String) -> String? { data[key]?.stringValue }

    func strings(_ key: String) -> [String]? {
        guard case .array(let items)? = data[key] else { return nil }
        return items.compactMap(\.stringValue)
    }

    func object(_ key: String) -> JSONObject? {
        guard case .object(let object)? = data[key] else { return nil }
        return object
    }

    /// The stakeholder ids an event of `type` refers to in its data.
    func stakeholderReferences(type: String) -> [String] {
        var ids: [String] = []
        for key in ["provider", "receiver", "sponsor", "buyer", "seller"] {
            if let id = string(key) { ids.append(id) }
        }
        for key in ["parties", "leads", "partners"] {
            ids += strings(key) ?? []
        }
        return ids
    }
}

extension Stakeholder {
    init(id: String) { self.id = id }
}

extension Action {
    init(id: String) { self.id = id }
}

extension IndustrialProject {
    init(id: String) { self.id = id }
}

extension ResearchProject {
    init(id: String) { self.id = id }
}

import AccordModel
import AccordProjections

/// The fold a mirror keeps (Mirror.md §3): the state of every event in the database, which
/// subjects the events folded since the last commit touched, and the COPY lines of the view
/// rows of any subject (Mirror.md §2).
///
/// The rows are those of `accord state`: retired subjects and retracted outputs and deliveries
/// are left out (as ``Views/visible(_:)`` does, subject by subject), sums are the exact decimals
/// of ``CurrencySums``. Every view row belongs to one subject (`kind/id`): a table's
/// ``MirrorSchema/Table/key`` column holds the subject's id, so the rows of a subject are
/// deleted and written again together.
struct MirrorFold {
    /// Every event folded so far.
    private(set) var state = PartnershipState()
    /// Research project id → the ids of its output events; programme id → its delivery events.
    private var outputsOf: [String: [String]] = [:]
    private var deliveriesOf: [String: [String]] = [:]
    /// Subject kind → ids touched since the last ``takeTouched()``.
    private var touched: [String: Set<String>] = [:]

    /// Folds `event`, noting the subjects whose rows it may change.
    /// - Complexity: that of ``PartnershipProjection/apply(_:to:touching:)``.
    mutating func apply(_ event: Event) {
        PartnershipProjection.apply(event, to: &state, touching: &touched)
        let id = event.id.hex
        if let output = state.outputs[id], outputsOf[output.research]?.last != id { outputsOf[output.research, default: []].append(id) }
        if let delivery = state.deliveries[id], deliveriesOf[delivery.programme]?.last != id { deliveriesOf[delivery.programme, default: []].append(id) }
    }

    /// The subjects touched since the last call (kind → ids), and forgets them.
    mutating func takeTouched() -> [String: Set<String>] {
        defer { touched = [:] }
        return touched
    }

    /// Every subject that has rows or may have: for a rewrite of every table.
    /// - Complexity: O(subjects).
    var allSubjects: [String: Set<String>] {
        var all: [String: Set<String>] = [:]
        all["stakeholder"] = Set(state.stakeholders.keys)
        all["agreement"] = Set(state.agreements.keys)
        all["action"] = Set(state.actions.keys)
        all["funding"] = Set(state.fundings.keys)
        all["project"] = Set(state.projects.keys)
        all["offtake"] = Set(state.offtakes.keys)
        all["research"] = Set(state.research.keys).union(outputsOf.keys)
        all["programme"] = Set(deliveriesOf.keys)
        return all
    }

    /// The COPY lines (without newlines) of the subjects `ids` of `kind`, by table: every table
    /// of that kind has an entry, empty when the subjects have no rows there (retired, gone).
    /// - Complexity: O(the subjects' rows).
    func rows(kind: String, ids: some Sequence<String>) -> [String: [[UInt8]]] {
        var tables: [String: [[UInt8]]] = [:]
        for table in MirrorSchema.views where table.kind == kind { tables[table.name] = [] }
        for id in ids where !state.isRetired(kind + "/" + id) {
            switch kind {
            case "stakeholder": stakeholder(id, into: &tables)
            case "agreement": agreement(id, into: &tables)
            case "action": action(id, into: &tables)
            case "funding": funding(id, into: &tables)
            case "project": project(id, into: &tables)
            case "offtake": offtake(id, into: &tables)
            case "research": research(id, into: &tables)
            case "programme": programme(id, into: &tables)
            default: break
            }
        }
        return tables
    }

    private func stakeholder(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let stakeholder = state.stakeholders[id] else { return }
        var line = CopyLine()
        line.text(stakeholder.id)
        line.text(stakeholder.name?.value)
        line.text(stakeholder.kind?.value)
        line.text(stakeholder.country?.value)
        line.array(stakeholder.valueChains?.value)
        line.text(stakeholder.iatiRef?.value)
        line.plain(String(state.activity[stakeholder.id] ?? 0))
        tables["stakeholders"]!.append(line.bytes)
    }

    private func agreement(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let agreement = state.agreements[id] else { return }
        var line = CopyLine()
        line.text(agreement.id)
        line.text(agreement.title.value)
        line.array(agreement.parties.value)
        line.text(agreement.date.value)
        line.text(agreement.place?.value)
        tables["agreements"]!.append(line.bytes)
    }

    private func action(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let action = state.actions[id] else { return }
        var line = CopyLine()
        line.text(action.id)
        line.text(action.pillar?.value)
        line.text(action.title?.value)
        line.text(action.status?.value.rawValue)
        line.text(action.statusDate?.value)
        line.text(action.due?.value)
        line.array(action.valueChains?.value)
        line.array(action.leads?.value)
        line.text(action.note?.value)
        tables["actions"]!.append(line.bytes)
    }

    private func funding(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let funding = state.fundings[id] else { return }
        var line = CopyLine()
        line.text(funding.id)
        line.text(funding.provider.value)
        line.text(funding.receiver.value)
        line.text(funding.valueChain?.value)
        line.text(funding.instrument?.value)
        line.text(funding.action?.value)
        tables["fundings"]!.append(line.bytes)
        for stage in funding.transactions.keys.sorted() {
            var row = CopyLine()
            row.text(funding.id)
            row.text(stage)
            row.plain(String(funding.transactions[stage]!))
            tables["funding_stages"]!.append(row.bytes)
        }
        for stage in funding.totals.keys.sorted() {
            let totals = funding.totals[stage]!
            for currency in totals.currencies {
                var row = CopyLine()
                row.text(funding.id)
                row.text(stage)
                row.text(currency)
                row.plain(totals[currency].description)
                tables["funding_sums"]!.append(row.bytes)
            }
        }
    }

    private func project(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let project = state.projects[id] else { return }
        var line = CopyLine()
        line.text(project.id)
        line.text(project.name?.value)
        line.text(project.sponsor?.value)
        line.text(project.valueChain?.value)
        line.text(project.country?.value)
        line.plain(project.capacity.flatMap { ExactDecimal($0.value) }?.description)
        line.text(project.capacityUnit?.value)
        line.text(project.milestone?.value.rawValue)
        line.text(project.milestoneDate?.value)
        tables["projects"]!.append(line.bytes)
        if let milestone = project.milestone?.value {
            var row = CopyLine()
            row.text(project.id)
            row.text(milestone.rawValue)
            row.text(project.milestoneDate?.value)
            tables["milestones"]!.append(row.bytes)
        }
    }

    private func offtake(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let offtake = state.offtakes[id] else { return }
        var line = CopyLine()
        line.text(offtake.id)
        line.text(offtake.buyer.value)
        line.text(offtake.seller.value)
        line.text(offtake.commodity.value)
        line.plain(ExactDecimal(offtake.quantity.value)?.description)
        line.text(offtake.unit.value)
        line.text(offtake.from?.value)
        line.text(offtake.to?.value)
        tables["offtakes"]!.append(line.bytes)
    }

    /// A research project's row (with its count of outputs shown) and its outputs' rows; the
    /// outputs have rows even when the project was never registered, as in `accord state research`.
    private func research(_ id: String, into tables: inout [String: [[UInt8]]]) {
        var shown = 0
        for event in outputsOf[id] ?? [] where !state.isRetracted(event, subject: "research/" + id) {
            guard let output = state.outputs[event] else { continue }
            shown += 1
            var line = CopyLine()
            line.text(event)
            line.text(output.research)
            line.text(output.title)
            line.text(output.date)
            line.text(output.url)
            tables["research_outputs"]!.append(line.bytes)
        }
        guard let research = state.research[id] else { return }
        var line = CopyLine()
        line.text(research.id)
        line.text(research.title?.value)
        line.array(research.partners?.value)
        line.text(research.field?.value)
        line.plain(research.budget.flatMap { ExactDecimal($0.value) }?.description)
        line.text(research.currency?.value)
        line.plain(String(shown))
        tables["research"]!.append(line.bytes)
    }

    /// A programme's row (from its deliveries shown) and its deliveries' rows; no row for a
    /// programme whose every delivery is retracted.
    private func programme(_ id: String, into tables: inout [String: [[UInt8]]]) {
        var deliveries: [ProgrammeDelivery] = []
        for event in deliveriesOf[id] ?? [] where !state.isRetracted(event, subject: "programme/" + id) {
            guard let delivery = state.deliveries[event] else { continue }
            deliveries.append(delivery)
            var line = CopyLine()
            line.text(event)
            line.text(delivery.programme)
            line.text(delivery.title)
            line.text(delivery.provider)
            line.plain(String(delivery.participants))
            line.text(delivery.date)
            tables["programme_deliveries"]!.append(line.bytes)
        }
        // As `accord state research`: the title and provider of the latest delivery.
        guard let latest = deliveries.max(by: { ($0.date, $0.title, $0.provider) < ($1.date, $1.title, $1.provider) }) else { return }
        var line = CopyLine()
        line.text(id)
        line.text(latest.title)
        line.text(latest.provider)
        line.plain(String(deliveries.count))
        line.plain(String(deliveries.reduce(0) { $0 + $1.participants }))
        tables["programmes"]!.append(line.bytes)
    }
}

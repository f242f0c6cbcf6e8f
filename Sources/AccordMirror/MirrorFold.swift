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
    /// Programme id → its deliveries' count, participants and latest delivery, summed as they
    /// are folded: the programme's row while no retraction names the programme.
    private var programmeTotals: [String: (count: Int, participants: Int, latest: ProgrammeDelivery)] = [:]
    /// The subjects (`kind/id`) of every retraction folded: only their outputs and deliveries
    /// need a look at the retractions.
    private var retractedSubjects: Set<String> = []
    /// Subject kind → ids touched since the last ``takeTouched()``.
    private var touched: [String: Set<String>] = [:]
    /// Research project or programme id → the output or delivery events added to it since the
    /// last ``takeTouched()`` (each a new row of `research_outputs` or `programme_deliveries`).
    private var appended: [String: [String: [String]]] = [:]
    /// Research projects and programmes touched since the last ``takeTouched()`` by anything
    /// other than a new output or delivery of their own (a retraction, a retirement, the
    /// project's own event): every row of theirs is rewritten.
    private var rewritten: [String: Set<String>] = [:]

    /// The kinds whose subjects own one row per event (an output, a delivery) in a second
    /// table, and that table (Mirror.md §3: those rows are added, not rewritten, when the only
    /// change to their subject is a new one).
    static let childTables = ["research": "research_outputs", "programme": "programme_deliveries"]

    /// Folds `event`, noting the subjects whose rows it may change.
    /// - Complexity: that of ``PartnershipProjection/apply(_:to:touching:)``.
    mutating func apply(_ event: Event) {
        var local: [String: Set<String>] = [:]
        let retractions = state.retractions?.count ?? 0
        PartnershipProjection.apply(event, to: &state, touching: &local)
        if state.retractions?.count ?? 0 != retractions { retractedSubjects.insert(event.subject.description) }
        var child: (kind: String, parent: String)?
        // Only an event that touches a research project (a programme) can add an output (a delivery).
        if local["research"] != nil || local["programme"] != nil {
            let id = event.id.hex
            if let output = state.outputs[id], outputsOf[output.research]?.last != id {
                outputsOf[output.research, default: []].append(id)
                child = ("research", output.research)
            }
            if let delivery = state.deliveries[id], deliveriesOf[delivery.programme]?.last != id {
                deliveriesOf[delivery.programme, default: []].append(id)
                child = ("programme", delivery.programme)
                var totals = programmeTotals[delivery.programme] ?? (0, 0, delivery)
                totals.count += 1
                totals.participants += delivery.participants
                if Self.isLater(delivery, than: totals.latest) { totals.latest = delivery }
                programmeTotals[delivery.programme] = totals
            }
        }
        guard !local.isEmpty else { return }
        let id = event.id.hex
        for (kind, ids) in local {
            touched[kind, default: []].formUnion(ids)
            guard Self.childTables[kind] != nil else { continue }
            for subject in ids {
                if let child, child.kind == kind, child.parent == subject {
                    appended[kind, default: [:]][subject, default: []].append(id)
                } else {
                    rewritten[kind, default: []].insert(subject)
                }
            }
        }
    }

    /// The subjects touched since the last call (kind → ids), and forgets them.
    mutating func takeTouched() -> [String: Set<String>] {
        defer { touched = [:]; appended = [:]; rewritten = [:] }
        return touched
    }

    /// What one transaction writes to one view table for the subjects touched since the last
    /// ``takeTouched()``: the subject ids whose rows it deletes first, then the COPY lines.
    struct TableChange {
        var table: MirrorSchema.Table
        var delete: [String]
        var lines: [[UInt8]]
    }

    /// The changes to the tables of `kind` for the subjects touched since the last
    /// ``takeTouched()`` (call before it): every row of each touched subject is deleted and
    /// written again, except the rows of outputs and deliveries of a research project or
    /// programme whose only change is new ones: those rows are added, and the project's or
    /// programme's own row is rewritten (Mirror.md §3).
    /// - Complexity: O(the touched subjects' rows), and O(new rows) for the outputs and
    ///   deliveries of subjects only added to (plus their count, in memory).
    func changes(kind: String) -> [TableChange] {
        let ids = touched[kind] ?? []
        guard !ids.isEmpty else { return [] }
        let onlyAdded = (appended[kind] ?? [:]).filter { !(rewritten[kind]?.contains($0.key) ?? false) }
        let whole = onlyAdded.isEmpty ? ids : ids.filter { onlyAdded[$0] == nil }
        var tables = rows(kind: kind, ids: whole)
        if !onlyAdded.isEmpty {
            for (parent, events) in onlyAdded where !state.isRetired(kind + "/" + parent) {
                switch kind {
                case "research": research(parent, outputs: events, into: &tables)
                case "programme": programme(parent, deliveries: events, into: &tables)
                default: break
                }
            }
        }
        let child = Self.childTables[kind]
        let wholeKeys = Array(whole)
        return MirrorSchema.views.filter { $0.kind == kind }.map { table in
            TableChange(table: table, delete: table.name == child ? wholeKeys : Array(ids), lines: tables[table.name] ?? [])
        }
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
        tables["stakeholders"]!.append(CopyLine(.text(stakeholder.id), .text(stakeholder.name?.value), .text(stakeholder.kind?.value),
            .text(stakeholder.country?.value), .array(stakeholder.valueChains?.value), .text(stakeholder.iatiRef?.value),
            .plain(String(state.activity[stakeholder.id] ?? 0))).bytes)
    }

    private func agreement(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let agreement = state.agreements[id] else { return }
        tables["agreements"]!.append(CopyLine(.text(agreement.id), .text(agreement.title.value), .array(agreement.parties.value),
            .text(agreement.date.value), .text(agreement.place?.value)).bytes)
    }

    private func action(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let action = state.actions[id] else { return }
        tables["actions"]!.append(CopyLine(.text(action.id), .text(action.pillar?.value), .text(action.title?.value),
            .text(action.status?.value.rawValue), .text(action.statusDate?.value), .text(action.due?.value), .array(action.valueChains?.value),
            .array(action.leads?.value), .text(action.note?.value)).bytes)
    }

    private func funding(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let funding = state.fundings[id] else { return }
        tables["fundings"]!.append(CopyLine(.text(funding.id), .text(funding.provider.value), .text(funding.receiver.value),
            .text(funding.valueChain?.value), .text(funding.instrument?.value), .text(funding.action?.value)).bytes)
        for stage in funding.transactions.keys.sorted() {
            tables["funding_stages"]!.append(CopyLine(.text(funding.id), .text(stage), .plain(String(funding.transactions[stage]!))).bytes)
        }
        for stage in funding.totals.keys.sorted() {
            let totals = funding.totals[stage]!
            for currency in totals.currencies {
                tables["funding_sums"]!.append(CopyLine(.text(funding.id), .text(stage), .text(currency), .plain(totals[currency].description)).bytes)
            }
        }
    }

    private func project(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let project = state.projects[id] else { return }
        tables["projects"]!.append(CopyLine(.text(project.id), .text(project.name?.value), .text(project.sponsor?.value),
            .text(project.valueChain?.value), .text(project.country?.value), .plain(project.capacity.flatMap { ExactDecimal($0.value) }?.description),
            .text(project.capacityUnit?.value), .text(project.milestone?.value.rawValue), .text(project.milestoneDate?.value)).bytes)
        if let milestone = project.milestone?.value {
            tables["milestones"]!.append(CopyLine(.text(project.id), .text(milestone.rawValue), .text(project.milestoneDate?.value)).bytes)
        }
    }

    private func offtake(_ id: String, into tables: inout [String: [[UInt8]]]) {
        guard let offtake = state.offtakes[id] else { return }
        tables["offtakes"]!.append(CopyLine(.text(offtake.id), .text(offtake.buyer.value), .text(offtake.seller.value),
            .text(offtake.commodity.value), .plain(ExactDecimal(offtake.quantity.value)?.description), .text(offtake.unit.value),
            .text(offtake.from?.value), .text(offtake.to?.value)).bytes)
    }

    /// A research project's row (with its count of outputs shown) and its outputs' rows (all,
    /// or only those of `outputs`); the outputs have rows even when the project was never
    /// registered, as in `accord state research`.
    private func research(_ id: String, outputs only: [String]? = nil, into tables: inout [String: [[UInt8]]]) {
        let retracted = retractedSubjects.contains("research/" + id)
        var shown = 0
        for event in outputsOf[id] ?? [] where !(retracted && state.isRetracted(event, subject: "research/" + id)) {
            guard state.outputs[event] != nil else { continue }
            shown += 1
        }
        for event in only ?? outputsOf[id] ?? [] where !(retracted && state.isRetracted(event, subject: "research/" + id)) {
            guard let output = state.outputs[event] else { continue }
            tables["research_outputs"]!.append(CopyLine(.text(event), .text(output.research), .text(output.title), .text(output.date),
                .text(output.url)).bytes)
        }
        guard let research = state.research[id] else { return }
        tables["research"]!.append(CopyLine(.text(research.id), .text(research.title?.value), .array(research.partners?.value),
            .text(research.field?.value), .plain(research.budget.flatMap { ExactDecimal($0.value) }?.description), .text(research.currency?.value),
            .plain(String(shown))).bytes)
    }

    /// A programme's row (from its deliveries shown) and its deliveries' rows (all, or only
    /// those of `deliveries`); no row for a programme whose every delivery is retracted.
    private func programme(_ id: String, deliveries only: [String]? = nil, into tables: inout [String: [[UInt8]]]) {
        let retracted = retractedSubjects.contains("programme/" + id)
        for event in only ?? deliveriesOf[id] ?? [] where !(retracted && state.isRetracted(event, subject: "programme/" + id)) {
            guard let delivery = state.deliveries[event] else { continue }
            tables["programme_deliveries"]!.append(CopyLine(.text(event), .text(delivery.programme), .text(delivery.title), .text(delivery.provider),
                .plain(String(delivery.participants)), .text(delivery.date)).bytes)
        }
        var shown: (count: Int, participants: Int, latest: ProgrammeDelivery)?
        if !retracted {
            shown = programmeTotals[id]
        } else {
            for event in deliveriesOf[id] ?? [] where !state.isRetracted(event, subject: "programme/" + id) {
                guard let delivery = state.deliveries[event] else { continue }
                var totals = shown ?? (0, 0, delivery)
                totals.count += 1
                totals.participants += delivery.participants
                if Self.isLater(delivery, than: totals.latest) { totals.latest = delivery }
                shown = totals
            }
        }
        // As `accord state research`: the title and provider of the latest delivery.
        guard let shown else { return }
        tables["programmes"]!.append(CopyLine(.text(id), .text(shown.latest.title), .text(shown.latest.provider), .plain(String(shown.count)),
            .plain(String(shown.participants))).bytes)
    }

    /// Whether `delivery` is later than `other` in the order `accord state research` takes the
    /// latest delivery by: date, then title, then provider.
    private static func isLater(_ delivery: ProgrammeDelivery, than other: ProgrammeDelivery) -> Bool {
        (other.date, other.title, other.provider) < (delivery.date, delivery.title, delivery.provider)
    }
}

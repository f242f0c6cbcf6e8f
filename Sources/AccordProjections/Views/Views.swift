import AccordModel

/// Builders of the views' tables. Rows are sorted so that equal states print equal tables.
/// Each shows the state without retired subjects and retracted events (``visible(_:)``).
public enum Views {
    static func names(_ ids: [String]?, _ state: PartnershipState) -> String {
        (ids ?? []).joined(separator: ", ")
    }

    /// One row per stakeholder, by id: name, kind, country, value chains, and the events it appears in.
    public static func stakeholders(_ state: PartnershipState) -> Table {
        let state = visible(state)
        let rows = state.stakeholders.values.sorted { $0.id < $1.id }.map { s in
            [s.id, s.name?.value ?? "", s.kind?.value ?? "", s.country?.value ?? "", (s.valueChains?.value ?? []).joined(separator: " "), String(state.activity[s.id] ?? 0)]
        }
        return Table(title: "Stakeholders (\(rows.count))", columns: ["id", "name", "kind", "country", "value chains", "events"], numeric: [5], integers: [5], rows: rows)
    }

    /// Whether an action is overdue at `reference`: open, with a due date before it.
    public static func isOverdue(_ action: Action, at reference: CalendarDate) -> Bool {
        guard let status = action.status?.value, status.isOpen, let due = action.due?.value,
              let date = try? CalendarDate(parsing: due) else { return false }
        return date < reference
    }

    /// The roadmap actions by pillar, with status and due date, those overdue at `reference`
    /// marked; and their counts by pillar and status, with totals.
    public static func actions(_ state: PartnershipState, reference: CalendarDate) -> [Table] {
        let state = visible(state)
        let pillarOrder = Catalogue.pillars
        let sorted = state.actions.values.sorted {
            let a = pillarOrder.firstIndex(of: $0.pillar?.value ?? "") ?? pillarOrder.count
            let b = pillarOrder.firstIndex(of: $1.pillar?.value ?? "") ?? pillarOrder.count
            return a != b ? a < b : $0.id < $1.id
        }
        let board = sorted.map { action in
            [action.pillar?.value ?? "?", action.id, action.title?.value ?? "", action.status?.value.rawValue ?? "?",
             action.due?.value ?? "", isOverdue(action, at: reference) ? "OVERDUE" : ""]
        }
        var counts: [[String]] = []
        var totals = [0, 0, 0, 0, 0, 0, 0]
        for pillar in pillarOrder + (sorted.contains { !pillarOrder.contains($0.pillar?.value ?? "") } ? ["?"] : []) {
            let inPillar = sorted.filter { ($0.pillar?.value ?? "?") == pillar }
            var row = [pillar]
            for (index, status) in ActionStatus.allCases.enumerated() {
                let n = inPillar.filter { $0.status?.value == status }.count
                totals[index] += n
                row.append(String(n))
            }
            let overdue = inPillar.filter { isOverdue($0, at: reference) }.count
            totals[5] += overdue
            totals[6] += inPillar.count
            counts.append(row + [String(overdue), String(inPillar.count)])
        }
        return [
            Table(title: "Roadmap actions by pillar (overdue as of \(reference))", columns: ["pillar", "action", "title", "status", "due", "overdue"], rows: board),
            Table(title: "Actions by pillar and status", columns: ["pillar"] + ActionStatus.allCases.map(\.rawValue) + ["overdue", "total"],
                  numeric: Set(1...7), integers: Set(1...7), rows: counts, totals: ["total"] + totals.map(String.init)),
        ]
    }

    /// All currencies that appear in any funding, in code order.
    static func currencies(_ state: PartnershipState) -> [String] {
        var set = Set<String>()
        for funding in state.fundings.values { for sums in funding.totals.values { set.formUnion(sums.currencies) } }
        return set.sorted()
    }

    /// Sums of each stage (and outstanding = committed − disbursed) grouped by `key`.
    /// - Parameters:
    ///   - names: when given, a `name` column after the key shows each key's name (a
    ///     stakeholder's registered name for a funder or receiver), so imported IATI
    ///     organisations read as names while the key stays the joinable id.
    public static func financeTable(_ state: PartnershipState, by dimension: String, names: ((String) -> String?)? = nil, key: (Funding) -> String) -> Table {
        let state = visible(state)
        let currencies = currencies(state)
        var groups: [String: [String: CurrencySums]] = [:]
        for funding in state.fundings.values {
            let group = key(funding)
            for stage in FinanceStage.allCases { groups[group, default: [:]][stage.rawValue, default: CurrencySums()] = (groups[group]?[stage.rawValue] ?? CurrencySums()) + funding.total(stage) }
        }
        let stages = FinanceStage.allCases.map(\.rawValue) + ["outstanding"]
        var rows: [[String]] = []
        var totals: [String: CurrencySums] = [:]
        for group in groups.keys.sorted() {
            var sums = groups[group]!
            sums["outstanding"] = (sums["committed"] ?? CurrencySums()) - (sums["disbursed"] ?? CurrencySums())
            for stage in stages {
                let value = sums[stage] ?? CurrencySums()
                totals[stage] = (totals[stage] ?? CurrencySums()) + value
                guard stage == "outstanding" || !value.isEmpty else { continue }
                let name = names.map { [$0(group) ?? ""] } ?? []
                rows.append([group] + name + [stage] + currencies.map { value.byCurrency[$0].map(\.description) ?? "" })
            }
        }
        let first = names == nil ? 2 : 3
        let numeric = Set(first..<(first + currencies.count))
        var table = Table(title: "Finance by \(dimension) (one column per currency; never converted)", columns: [dimension] + (names == nil ? [] : ["name"]) + ["stage"] + currencies,
                          numeric: numeric, rows: rows)
        if !rows.isEmpty {
            table.totals = nil
            table.rows += stages.map { stage in ["TOTAL"] + (names == nil ? [] : [""]) + [stage] + currencies.map { totals[stage]?.byCurrency[$0].map(\.description) ?? "" } }
        }
        return table
    }

    /// Fundings whose disbursements exceed their commitment, per currency.
    public static func overDisbursed(_ state: PartnershipState) -> [(funding: String, currency: String, committed: ExactDecimal, disbursed: ExactDecimal)] {
        // The flagged rows sorted, not the fundings (each a large value, copied to be sorted).
        unsortedOverDisbursed(visible(state)).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    }

    /// ``overDisbursed(_:)`` of a state already ``visible(_:)``, in no order.
    static func unsortedOverDisbursed(_ state: PartnershipState) -> [(funding: String, currency: String, committed: ExactDecimal, disbursed: ExactDecimal)] {
        var flags: [(String, String, ExactDecimal, ExactDecimal)] = []
        let fundings = state.fundings.values
        // Read through the subscript: iterating would copy every funding (a dozen references).
        for index in fundings.indices {
            guard let disbursed = fundings[index].totals[FinanceStage.disbursed.rawValue] else { continue }
            let committed = fundings[index].totals[FinanceStage.committed.rawValue] ?? CurrencySums()
            for currency in disbursed.currencies where committed[currency] < disbursed[currency] {
                flags.append((fundings[index].id, currency, committed[currency], disbursed[currency]))
            }
        }
        return flags
    }

    /// Finance by funder, receiver, value chain and instrument; fundings disbursed beyond their commitment; transactions by stage; each funding.
    public static func finance(_ state: PartnershipState) -> [Table] {
        let state = visible(state)
        let flags = overDisbursed(state).map { [$0.funding, $0.currency, $0.committed.description, $0.disbursed.description] }
        return [
            financeTable(state, by: "funder", names: { state.stakeholders[$0]?.name?.value }) { $0.provider.value },
            financeTable(state, by: "receiver", names: { state.stakeholders[$0]?.name?.value }) { $0.receiver.value },
            financeTable(state, by: "value chain") { $0.valueChain?.value ?? "(none)" },
            financeTable(state, by: "instrument") { $0.instrument?.value ?? "(none)" },
            Table(title: "Disbursed beyond commitment (flagged)", columns: ["funding", "currency", "committed", "disbursed"], numeric: [2, 3], rows: flags),
            transactionsByStage(state),
            fundings(state),
        ]
    }

    /// The stage keys present in `state`, the four stages first, then `iati-<code>` in code order.
    static func stageKeys(_ state: PartnershipState) -> [String] {
        var keys = Set<String>()
        for funding in state.fundings.values { keys.formUnion(funding.totals.keys) }
        let stages = FinanceStage.allCases.map(\.rawValue).filter(keys.contains)
        let others = keys.subtracting(stages).sorted { (Int($0.dropFirst(5)) ?? .max, $0) < (Int($1.dropFirst(5)) ?? .max, $1) }
        return stages + others
    }

    /// Transactions and exact sums per stage (and other IATI transaction type) and currency.
    public static func transactionsByStage(_ state: PartnershipState) -> Table {
        let state = visible(state)
        let currencies = currencies(state)
        let rows = stageKeys(state).map { stage -> [String] in
            var count = 0
            var sums = CurrencySums()
            for funding in state.fundings.values {
                count += funding.transactions[stage] ?? 0
                sums = sums + (funding.totals[stage] ?? CurrencySums())
            }
            return [stage, String(count)] + currencies.map { sums.byCurrency[$0].map(\.description) ?? "" }
        }
        return Table(title: "Transactions by stage (other IATI types as iati-<code>)", columns: ["stage", "transactions"] + currencies,
                     numeric: Set(1..<(2 + currencies.count)), integers: [1], rows: rows)
    }

    /// One row per funding and stage: its provider, receiver, count and sums per currency.
    public static func fundings(_ state: PartnershipState) -> Table {
        let state = visible(state)
        let currencies = currencies(state)
        var rows: [[String]] = []
        for funding in state.fundings.values.sorted(by: { $0.id < $1.id }) {
            for stage in stageKeys(state) where funding.transactions[stage] != nil {
                let sums = funding.totals[stage] ?? CurrencySums()
                rows.append([funding.id, funding.provider.value, funding.receiver.value, stage, String(funding.transactions[stage] ?? 0)]
                            + currencies.map { sums.byCurrency[$0].map(\.description) ?? "" })
            }
        }
        return Table(title: "Fundings", columns: ["funding", "provider", "receiver", "stage", "transactions"] + currencies,
                     numeric: Set(4..<(5 + currencies.count)), integers: [4], rows: rows)
    }

    /// The industrial projects, by id, with milestone and capacity; projects by milestone and
    /// value chain; offtakes by commodity.
    public static func industry(_ state: PartnershipState) -> [Table] {
        let state = visible(state)
        let projects = state.projects.values.sorted { $0.id < $1.id }.map { p in
            [p.id, p.name?.value ?? "", p.valueChain?.value ?? "", p.country?.value ?? "", p.milestone?.value.rawValue ?? "(none)",
             p.milestoneDate?.value ?? "", [p.capacity?.value, p.capacityUnit?.value].compactMap { $0 }.joined(separator: " ")]
        }
        var byMilestone: [[String]] = []
        let chains = Catalogue.valueChains
        for milestone in ["(none)"] + Milestone.allCases.map(\.rawValue) {
            let inMilestone = state.projects.values.filter { ($0.milestone?.value.rawValue ?? "(none)") == milestone }
            guard !inMilestone.isEmpty else { continue }
            byMilestone.append([milestone] + chains.map { chain in String(inMilestone.filter { $0.valueChain?.value == chain }.count) } + [String(inMilestone.count)])
        }
        // By bytes: "carbonate de lithium" in NFC and in NFD are two commodities, as stored.
        var commodities: [BytewiseText: (sum: ExactDecimal, deals: Int)] = [:]
        for offtake in state.offtakes.values {
            let key = BytewiseText(offtake.commodity.value + "\u{0}" + offtake.unit.value)
            let quantity = ExactDecimal(offtake.quantity.value) ?? .zero
            commodities[key] = ((commodities[key]?.sum ?? .zero) + quantity, (commodities[key]?.deals ?? 0) + 1)
        }
        let offtakes = commodities.keys.sorted().map { key -> [String] in
            let parts = key.text.utf8.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            return [parts[0], parts[1], commodities[key]!.sum.description, String(commodities[key]!.deals)]
        }
        return [
            Table(title: "Industrial projects (\(projects.count))", columns: ["project", "name", "value chain", "country", "milestone", "since", "capacity"], rows: projects),
            Table(title: "Projects by milestone and value chain", columns: ["milestone"] + chains + ["total"], numeric: Set(1...(chains.count + 1)), integers: Set(1...(chains.count + 1)), rows: byMilestone),
            Table(title: "Offtakes by commodity", columns: ["commodity", "unit", "quantity", "deals"], numeric: [2, 3], integers: [3], rows: offtakes),
        ]
    }

    /// The research projects, by id, with their outputs counted; the outputs; the skills
    /// programmes with their deliveries and participants.
    public static func research(_ state: PartnershipState) -> [Table] {
        let state = visible(state)
        // Each history read once: with events folded since the read model, every read of a
        // history map merges its file's entries with them (issue 18).
        let outputs = state.outputs.entries, deliveries = state.deliveries.entries
        let outputsByProject = Dictionary(grouping: outputs.values, by: \.research)
        let projects = state.research.values.sorted { $0.id < $1.id }.map { r in
            [r.id, r.title?.value ?? "", (r.partners?.value ?? []).joined(separator: " "), r.field?.value ?? "",
             [r.budget?.value, r.currency?.value].compactMap { $0 }.joined(separator: " "), String(outputsByProject[r.id]?.count ?? 0)]
        }
        let outputRows = outputs.values.sorted { ($0.date, $0.research, $0.title) < ($1.date, $1.research, $1.title) }.map { [$0.date, $0.research, $0.title, $0.url ?? ""] }
        let byProgramme = Dictionary(grouping: deliveries, by: \.value.programme)
        let programmes = byProgramme.keys.sorted().map { id -> [String] in
            // The latest delivery's title and provider; of deliveries on the same date, the one
            // whose event id is last in byte order, not whichever the dictionary yields last
            // (its order changes from process to process).
            let deliveries = byProgramme[id]!.sorted {
                $0.value.date != $1.value.date ? $0.value.date < $1.value.date : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8)
            }
            let latest = deliveries.last!.value
            return [id, latest.title, latest.provider, String(deliveries.count), String(deliveries.reduce(0) { $0 + $1.value.participants })]
        }
        let participants = deliveries.values.reduce(0) { $0 + $1.participants }
        return [
            Table(title: "Research projects (\(projects.count))", columns: ["research", "title", "partners", "field", "budget", "outputs"], numeric: [5], integers: [5], rows: projects),
            Table(title: "Research outputs (\(outputRows.count))", columns: ["date", "research", "title", "url"], rows: outputRows),
            Table(title: "Skills programmes", columns: ["programme", "title", "provider", "deliveries", "participants"], numeric: [3, 4], integers: [3, 4], rows: programmes,
                  totals: programmes.isEmpty ? nil : ["total", "", "", String(deliveries.count), String(participants)]),
        ]
    }

    /// Headline figures, one measure per row: events per site, stakeholders, agreements, actions
    /// by status, actions overdue at `reference`, finance per stage, fundings disbursed beyond
    /// commitment, industrial projects, offtakes, research and skills programmes.
    public static func summary(_ state: PartnershipState, reference: CalendarDate) -> Table {
        let state = visible(state)
        var rows: [[String]] = []
        let sites = state.feeds.keys.sorted().map { "\($0) \(state.feeds[$0]!.events)" }.joined(separator: ", ")
        rows.append(["events", "\(state.eventCount) from \(state.feeds.count) site\(state.feeds.count == 1 ? "" : "s") (\(sites))"])
        // Counted in place: filtering would copy every matching value into an array first.
        func count<Value>(_ values: Dictionary<String, Value>.Values, where matches: (Value) -> Bool) -> Int {
            var count = 0
            for index in values.indices where matches(values[index]) { count += 1 }
            return count
        }
        rows.append(["stakeholders", String(count(state.stakeholders.values) { $0.registered != nil })])
        rows.append(["agreements", String(state.agreements.count)])
        var byStatus: [ActionStatus: Int] = [:]
        let actions = state.actions.values
        for index in actions.indices {
            if let status = actions[index].status?.value { byStatus[status, default: 0] += 1 }
        }
        let statusCounts = ActionStatus.allCases.map { status in "\(byStatus[status] ?? 0) \(status.rawValue)" }
        rows.append(["actions", "\(state.actions.count): " + statusCounts.joined(separator: ", ")])
        rows.append(["overdue actions", String(count(actions) { isOverdue($0, at: reference) }) + " as of \(reference)"])
        let fundings = state.fundings.values
        for stage in FinanceStage.allCases {
            var total = CurrencySums()
            for index in fundings.indices {
                guard let sums = fundings[index].totals[stage.rawValue] else { continue }
                for (currency, amount) in sums.byCurrency { total.add(amount, currency) }
            }
            rows.append(["finance \(stage.rawValue)", total.isEmpty ? "0" : total.description])
        }
        rows.append(["disbursed beyond commitment", String(unsortedOverDisbursed(state).count)])
        let atFID = count(state.projects.values) { [.fid, .construction, .operational].contains($0.milestone?.value) }
        rows.append(["industrial projects", "\(state.projects.count) (\(atFID) at final investment decision or beyond)"])
        rows.append(["offtakes", String(state.offtakes.count)])
        // Nothing retired or retracted: every output and delivery is shown, and their counts are
        // the state's own (no history read).
        if state.retirements == nil, state.retractions == nil, let counts = state.historyCounts {
            rows.append(["research projects", "\(state.research.count), \(counts.outputCount) outputs"])
            rows.append(["skills programmes", "\(counts.programmes.count), \(counts.participants) participants"])
        } else {
            rows.append(["research projects", "\(state.research.count), \(state.outputs.count) outputs"])
            rows.append(["skills programmes", "\(Set(state.deliveries.values.map(\.programme)).count), \(state.deliveries.values.reduce(0) { $0 + $1.participants }) participants"])
        }
        return Table(title: "Summary", columns: ["measure", "value"], rows: rows)
    }
}

import AccordModel
import AccordProjections

/// The rows of the view tables for a state (Mirror.md §2): for each table, for each key, the COPY
/// lines of that key. The rows are those of `accord state`: retired subjects and retracted
/// outputs and deliveries are left out (``Views/visible(_:)``), sums are the exact decimals of
/// ``CurrencySums``.
struct MirrorRows: Equatable {
    /// table name → key → COPY lines (without newlines), in a stable order.
    var tables: [String: [String: [[UInt8]]]] = [:]

    init(_ fullState: PartnershipState) {
        let state = Views.visible(fullState)
        for table in MirrorSchema.views { tables[table.name] = [:] }

        for stakeholder in state.stakeholders.values {
            var line = CopyLine()
            line.text(stakeholder.id)
            line.text(stakeholder.name?.value)
            line.text(stakeholder.kind?.value)
            line.text(stakeholder.country?.value)
            line.array(stakeholder.valueChains?.value)
            line.text(stakeholder.iatiRef?.value)
            line.plain(String(state.activity[stakeholder.id] ?? 0))
            tables["stakeholders"]![stakeholder.id] = [line.bytes]
        }
        for agreement in state.agreements.values {
            var line = CopyLine()
            line.text(agreement.id)
            line.text(agreement.title.value)
            line.array(agreement.parties.value)
            line.text(agreement.date.value)
            line.text(agreement.place?.value)
            tables["agreements"]![agreement.id] = [line.bytes]
        }
        for action in state.actions.values {
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
            tables["actions"]![action.id] = [line.bytes]
        }
        for funding in state.fundings.values {
            var line = CopyLine()
            line.text(funding.id)
            line.text(funding.provider.value)
            line.text(funding.receiver.value)
            line.text(funding.valueChain?.value)
            line.text(funding.instrument?.value)
            line.text(funding.action?.value)
            tables["fundings"]![funding.id] = [line.bytes]
            var stages: [[UInt8]] = []
            for stage in funding.transactions.keys.sorted() {
                var row = CopyLine()
                row.text(funding.id)
                row.text(stage)
                row.plain(String(funding.transactions[stage]!))
                stages.append(row.bytes)
            }
            tables["funding_stages"]![funding.id] = stages
            var sums: [[UInt8]] = []
            for stage in funding.totals.keys.sorted() {
                let totals = funding.totals[stage]!
                for currency in totals.currencies {
                    var row = CopyLine()
                    row.text(funding.id)
                    row.text(stage)
                    row.text(currency)
                    row.plain(totals[currency].description)
                    sums.append(row.bytes)
                }
            }
            tables["funding_sums"]![funding.id] = sums
        }
        for project in state.projects.values {
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
            tables["projects"]![project.id] = [line.bytes]
            if let milestone = project.milestone?.value {
                var row = CopyLine()
                row.text(project.id)
                row.text(milestone.rawValue)
                row.text(project.milestoneDate?.value)
                tables["milestones"]![project.id] = [row.bytes]
            }
        }
        for offtake in state.offtakes.values {
            var line = CopyLine()
            line.text(offtake.id)
            line.text(offtake.buyer.value)
            line.text(offtake.seller.value)
            line.text(offtake.commodity.value)
            line.plain(ExactDecimal(offtake.quantity.value)?.description)
            line.text(offtake.unit.value)
            line.text(offtake.from?.value)
            line.text(offtake.to?.value)
            tables["offtakes"]![offtake.id] = [line.bytes]
        }
        var outputs: [String: Int] = [:]
        for (event, output) in state.outputs {
            outputs[output.research, default: 0] += 1
            var line = CopyLine()
            line.text(event)
            line.text(output.research)
            line.text(output.title)
            line.text(output.date)
            line.text(output.url)
            tables["research_outputs"]![event] = [line.bytes]
        }
        for research in state.research.values {
            var line = CopyLine()
            line.text(research.id)
            line.text(research.title?.value)
            line.array(research.partners?.value)
            line.text(research.field?.value)
            line.plain(research.budget.flatMap { ExactDecimal($0.value) }?.description)
            line.text(research.currency?.value)
            line.plain(String(outputs[research.id] ?? 0))
            tables["research"]![research.id] = [line.bytes]
        }
        var programmes: [String: [ProgrammeDelivery]] = [:]
        for (event, delivery) in state.deliveries {
            programmes[delivery.programme, default: []].append(delivery)
            var line = CopyLine()
            line.text(event)
            line.text(delivery.programme)
            line.text(delivery.title)
            line.text(delivery.provider)
            line.plain(String(delivery.participants))
            line.text(delivery.date)
            tables["programme_deliveries"]![event] = [line.bytes]
        }
        for (id, deliveries) in programmes {
            // As `accord state research`: the title and provider of the latest delivery.
            let latest = deliveries.sorted { ($0.date, $0.title, $0.provider) < ($1.date, $1.title, $1.provider) }.last!
            var line = CopyLine()
            line.text(id)
            line.text(latest.title)
            line.text(latest.provider)
            line.plain(String(deliveries.count))
            line.plain(String(deliveries.reduce(0) { $0 + $1.participants }))
            tables["programmes"]![id] = [line.bytes]
        }
    }

    /// What changed from `old` to `self`: for each table, the keys whose lines differ (added,
    /// changed or gone).
    func changedKeys(since old: MirrorRows) -> [String: [String]] {
        var changed: [String: [String]] = [:]
        for table in MirrorSchema.views {
            let new = tables[table.name] ?? [:], previous = old.tables[table.name] ?? [:]
            var keys: [String] = []
            for (key, lines) in new where previous[key] != lines { keys.append(key) }
            for key in previous.keys where new[key] == nil { keys.append(key) }
            changed[table.name] = keys
        }
        return changed
    }
}

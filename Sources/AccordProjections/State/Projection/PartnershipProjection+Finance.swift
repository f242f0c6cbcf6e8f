import AccordModel

extension PartnershipProjection {
    /// `finance.*`: the funding's registers, and the amount summed under its stage and currency
    /// (once per imported item, see ``countsSource(of:funding:in:)``). An event without
    /// provider, receiver, a decimal amount or a currency is left out.
    static func applyFinance(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        let stage = stage(of: change)
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
        if countsSource(of: change, funding: id, in: &state) {
            funding.totals[stage, default: CurrencySums()].add(amount, currency)
            funding.transactions[stage, default: 0] += 1
        }
        state.fundings[id] = funding
    }

    /// The key of ``Funding/totals`` a finance event sums under: its ``FinanceStage``, or
    /// `iati-<code>` for other IATI transaction types.
    private static func stage(of change: Change) -> String {
        switch change.type {
        case "finance.pledged.v1": FinanceStage.pledged.rawValue
        case "finance.committed.v2": FinanceStage.committed.rawValue
        case "finance.disbursed.v1": FinanceStage.disbursed.rawValue
        case "finance.spent.v1": FinanceStage.spent.rawValue
        // Other IATI transaction types are summed apart, under "iati-<code>".
        default: "iati-" + (change.fields.string("iatiType") ?? "unknown")
        }
    }

    /// Whether the event's amount is summed: true unless its `data.source` was counted already.
    ///
    /// The same imported item recorded by two offices (each imported the same file before they
    /// synced) is summed once: both carry the same source identity and, by construction, the
    /// same amounts (Decision 0005). Registers take both (their stamps decide), the sums only
    /// the first: membership, so order does not matter.
    private static func countsSource(of change: Change, funding id: String, in state: inout PartnershipState) -> Bool {
        guard let source = change.fields.string(Catalogue.sourceField) else { return true }
        let key = String(Digest.sha256Hex(Array(source.utf8)).prefix(32))
        if state.financeSources?[key] != nil { return false }
        var sources = state.financeSources ?? [:]
        sources[key] = id
        state.financeSources = sources
        return true
    }
}

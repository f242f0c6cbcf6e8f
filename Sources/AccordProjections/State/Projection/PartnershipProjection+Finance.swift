import AccordModel

extension PartnershipProjection {
    /// `finance.*`: the funding's registers, the event in the funding's ledger, and the amount
    /// summed under its stage and currency — once per imported item (see
    /// ``countsSource(of:funding:in:)``), and not when the event is retracted (Decision 0011).
    /// An event without provider, receiver, a decimal amount or a currency is left out.
    static func applyFinance(_ change: Change, to state: inout PartnershipState) {
        let (id, fields, stamp) = (change.id, change.fields, change.stamp)
        let stage = stage(of: change)
        let value = fields.object("value").map(Fields.init) ?? fields
        guard let provider = fields.string("provider"), let receiver = fields.string("receiver"),
              let amountText = value.string("amount"), let amount = ExactDecimal(amountText),
              let currency = value.string("currency") else { return }
        // Taken out while it changes, so that its ledger is changed in place rather than copied
        // (a copy per event made the fold of a funding's n events O(n²)).
        var funding = state.fundings.removeValue(forKey: id) ?? Funding(id: id, provider: Register(provider, stamp), receiver: Register(receiver, stamp))
        funding.provider.offer(provider, stamp)
        funding.receiver.offer(receiver, stamp)
        if let chain = fields.string("valueChain") { funding.valueChain.offer(chain, stamp) }
        if let instrument = fields.string("instrument") { funding.instrument.offer(instrument, stamp) }
        if let action = fields.string("action") { funding.action.offer(action, stamp) }
        let source = fields.string(Catalogue.sourceField).map(sourceKey)
        funding.ledger[change.event.id.hex] = FinanceEntry(
            stage: stage, amount: amountText, currency: currency, date: fields.string("date"), corrects: fields.string("corrects"), source: source)
        state.historyEntriesFolded += 1
        let retracted = state.isRetracted(change.event.id.hex, subject: change.event.subject.description)
        let firstOfItem = countsSource(of: change, funding: id, in: &state)
        if !retracted, firstOfItem {
            funding.totals[stage, default: CurrencySums()].add(amount, currency)
            funding.transactions[stage, default: 0] += 1
        }
        state.fundings[id] = funding
        // A retracted copy of an item already counted through another copy takes the item out.
        if retracted, source != nil, !firstOfItem { recomputeSums(of: id, in: &state) }
    }

    /// Sets a funding's sums and counts from its ledger: every entry that is not retracted,
    /// an imported item once, and not at all when any copy of it is retracted. Used when a
    /// retraction takes out an event already summed, so that the sums are exactly those of a
    /// fold that never summed it (the printed scale included).
    /// - Complexity: O(events of the funding).
    static func recomputeSums(of id: String, in state: inout PartnershipState) {
        guard var funding = state.fundings[id] else { return }
        let subject = "funding/" + id
        var retractedItems = Set<String>()
        for (eventID, entry) in funding.ledger where state.isRetracted(eventID, subject: subject) {
            if let source = entry.source { retractedItems.insert(source) }
        }
        var totals: [String: CurrencySums] = [:]
        var transactions: [String: Int] = [:]
        var countedItems = Set<String>()
        for (eventID, entry) in funding.ledger where !state.isRetracted(eventID, subject: subject) {
            if let source = entry.source {
                guard !retractedItems.contains(source), countedItems.insert(source).inserted else { continue }
            }
            guard let amount = ExactDecimal(entry.amount) else { continue }
            totals[entry.stage, default: CurrencySums()].add(amount, entry.currency)
            transactions[entry.stage, default: 0] += 1
        }
        funding.totals = totals
        funding.transactions = transactions
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
        let key = sourceKey(source)
        if state.financeSources?[key] != nil { return false }
        if state.financeSources == nil { state.financeSources = [:] }
        state.financeSources![key] = id  // in place: no copy of every source per event
        return true
    }

    /// The key an imported item is known by: the first 32 hex digits of the SHA-256 of its
    /// `data.source`.
    static func sourceKey(_ source: String) -> String {
        String(Digest.sha256Hex(Array(source.utf8)).prefix(32))
    }
}

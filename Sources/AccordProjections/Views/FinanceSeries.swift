import AccordModel

/// The finance charts' figures (Journal/UI.md §3): per currency and ``FinanceStage``, the sum of
/// the dated transactions on each date, kept beside the state and brought up to date event by
/// event, so that drawing a chart costs O(dates of the chart), not O(transactions).
///
/// What is summed is what the totals sum (``PartnershipProjection``'s `recomputeSums`): each
/// visible funding's (not retired) transactions of the four stages that are not retracted, an
/// imported item (`data.source`) once and not at all when a copy of it is retracted; a
/// transaction whose `data.date` does not begin with a `YYYY-MM-DD` date is counted in
/// ``undated`` instead. A series is therefore a function of the state alone: folding events one by
/// one through ``fold(_:into:)`` gives the same figures as ``init(state:)`` on the state they
/// make, in any order, with back-dated events, corrections and retractions (printed scale
/// included: a sum prints with the most decimals of the amounts it holds, as a fresh sum would).
///
/// ```swift
/// var series = FinanceSeries(state: state)
/// series.fold(event, into: &state)                         // instead of PartnershipProjection.apply
/// let chart = SVGChart.financeOverTime(series, currency: "EUR")
/// ```
///
/// Memory: one sum per currency, stage and date (a journal of 1M events spanning ten years holds
/// at most ~3,650 dates per series). Not persisted: built from the state when first needed.
public struct FinanceSeries: Sendable, Equatable {
    /// Currency (as bytes: text is compared as bytes) and stage of one series.
    struct Key: Hashable, Sendable {
        var currency: [UInt8]
        var stage: FinanceStage
    }

    /// The amounts of one series on one date: their sum in units of 10⁻⁹ (``ExactDecimal/maxScale``)
    /// and how many amounts of each scale it holds, so that taking one out leaves the scale a
    /// sum of the others would have.
    struct DaySum: Sendable, Equatable {
        var nanos: Int128 = 0
        var scales = [Int](repeating: 0, count: ExactDecimal.maxScale + 1)

        var isEmpty: Bool { scales.allSatisfy { $0 == 0 } }

        /// The sum, at the largest scale of the amounts it holds.
        var value: ExactDecimal {
            let scale = scales.lastIndex { $0 > 0 } ?? 0
            var divisor: Int128 = 1
            for _ in scale..<ExactDecimal.maxScale { divisor *= 10 }
            return ExactDecimal(units: nanos / divisor, scale: scale)
        }

        mutating func add(_ amount: ExactDecimal, sign: Int) {
            nanos += Int128(sign) * amount.rescaled(to: ExactDecimal.maxScale).units
            scales[amount.scale] += sign
        }
    }

    /// One transaction as it counts in a series.
    struct Counted {
        var key: Key
        var date: CalendarDate
        var amount: ExactDecimal
    }

    private var days: [Key: [CalendarDate: DaySum]] = [:]
    /// Undated transactions per funding that has any.
    private var undatedByFunding: [String: Int] = [:]

    /// No series.
    public init() {}

    /// The series of `state`, computed from every visible funding's ledger.
    /// - Complexity: O(transactions); with a read model of layout 2 this reads the ledgers from
    ///   the history file (Format.md §9.4.2).
    public init(state: PartnershipState) {
        for id in state.fundings.keys { add(Self.counted(funding: id, in: state), funding: id, sign: 1) }
    }

    /// Folds `event` into `state` (``PartnershipProjection/apply(_:to:)``) and brings the series
    /// up to date: an event about a funding (a transaction, a retraction, a retirement or its
    /// retraction) replaces what that funding counted before it by what it counts after it.
    /// - Complexity: O(transactions of the event's funding) for an event about a funding, else
    ///   that of the fold.
    public mutating func fold(_ event: Event, into state: inout PartnershipState) {
        guard sameBytes(event.subject.kind, "funding") else {
            PartnershipProjection.apply(event, to: &state)
            return
        }
        let id = event.subject.id
        let before = Self.counted(funding: id, in: state)
        PartnershipProjection.apply(event, to: &state)
        add(before, funding: id, sign: -1)
        add(Self.counted(funding: id, in: state), funding: id, sign: 1)
    }

    /// Transactions counted in the sums that have no date, left out of the series.
    public var undated: Int { undatedByFunding.values.reduce(0, +) }

    /// The currencies with at least one dated transaction, in byte order.
    public var currencies: [String] {
        Set(days.compactMap { $0.value.isEmpty ? nil : $0.key.currency })
            .sorted { $0.lexicographicallyPrecedes($1) }
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The cumulative sum of `stage` in `currency` at each date that has a transaction, in date
    /// order; empty when there is none.
    /// - Complexity: O(d log d) for the d dates of the series.
    public func cumulative(currency: String, stage: FinanceStage) -> [SVGChart.Point] {
        guard let byDate = days[Key(currency: Array(currency.utf8), stage: stage)] else { return [] }
        var running = ExactDecimal.zero
        return byDate.keys.sorted().map { date in
            running += byDate[date]!.value
            return SVGChart.Point(date: date, value: running)
        }
    }

    /// The series of `currency`, one per stage that has a transaction, in ``FinanceStage`` order,
    /// each coloured as ``SVGChart/stageColours`` says.
    public func series(currency: String) -> [SVGChart.Series] {
        FinanceStage.allCases.compactMap { stage in
            let points = cumulative(currency: currency, stage: stage)
            return points.isEmpty ? nil : SVGChart.Series(name: stage.rawValue, points: points, colour: SVGChart.stageColours[stage])
        }
    }

    // MARK: - Counting

    /// What funding `id` counts in the series of `state`: nothing when it is unknown or retired.
    ///
    /// One pass over the ledger that copies no entry (a status report counts every transaction
    /// of the journal, issue 18); a second only when the funding has imported items, which need
    /// their copies known before any is counted.
    static func counted(funding id: String, in state: PartnershipState) -> (dated: [Counted], undated: Int) {
        let subject = "funding/" + id
        guard let funding = state.fundings[id], !state.isRetired(subject) else { return ([], 0) }
        let ledger = funding.ledger.entries
        let anyRetraction = state.retractions != nil
        func isRetracted(_ eventID: String) -> Bool { anyRetraction && state.isRetracted(eventID, subject: subject) }
        // Imported items: the retracted ones, and one copy of each of the others, the one with
        // the smallest event id (all copies carry the same figures, Decision 0005; the choice
        // only makes the result independent of order).
        var retractedItems = Set<String>()
        var itemCopy: [String: String] = [:]
        for index in ledger.indices {
            guard let source = ledger[index].value.source else { continue }
            let eventID = ledger[index].key
            if isRetracted(eventID) {
                retractedItems.insert(source)
            } else if let kept = itemCopy[source], !eventID.utf8.lexicographicallyPrecedes(kept.utf8) {
                continue
            } else {
                itemCopy[source] = eventID
            }
        }
        var dated: [Counted] = []
        dated.reserveCapacity(ledger.count)
        var undated = 0
        var keys: [(stage: FinanceStage, currency: String, key: Key)] = []
        for index in ledger.indices {
            let eventID = ledger[index].key
            let entry = ledger[index].value
            guard !isRetracted(eventID) else { continue }
            if let source = entry.source {
                guard !retractedItems.contains(source), let kept = itemCopy[source], sameBytes(kept, eventID) else { continue }
            }
            guard let stage = FinanceStage(rawValue: entry.stage), let amount = ExactDecimal(entry.amount) else { continue }
            guard let text = entry.date, let date = Self.date(text) else { undated += 1; continue }
            // The key of the few stage-and-currency pairs a funding has, made once each.
            let key: Key
            if let known = keys.first(where: { $0.stage == stage && sameBytes($0.currency, entry.currency) }) {
                key = known.key
            } else {
                key = Key(currency: Array(entry.currency.utf8), stage: stage)
                keys.append((stage, entry.currency, key))
            }
            dated.append(Counted(key: key, date: date, amount: amount))
        }
        return (dated, undated)
    }

    /// The date a transaction's `data.date` begins with (`YYYY-MM-DD`), or nil.
    static func date(_ text: String) -> CalendarDate? {
        guard text.utf8.count >= 10 else { return nil }
        return try? CalendarDate(parsing: String(decoding: text.utf8.prefix(10), as: UTF8.self))
    }

    private mutating func add(_ counted: (dated: [Counted], undated: Int), funding id: String, sign: Int) {
        for item in counted.dated {
            if Self.add(item.amount, sign: sign, on: item.date, to: &days[item.key, default: [:]]) { days[item.key] = nil }
        }
        if counted.undated != 0 {
            let total = (undatedByFunding[id] ?? 0) + sign * counted.undated
            undatedByFunding[id] = total == 0 ? nil : total
        }
    }

    /// Adds `amount` × `sign` to the sum of `date` in place (a copy of the day's sum would copy
    /// its counts of scales too), removing the day when nothing is left in it.
    /// - Returns: whether the series has no day left.
    private static func add(_ amount: ExactDecimal, sign: Int, on date: CalendarDate, to byDate: inout [CalendarDate: DaySum]) -> Bool {
        byDate[date, default: DaySum()].add(amount, sign: sign)
        if byDate[date]!.isEmpty { byDate[date] = nil }
        return byDate.isEmpty
    }
}

import AccordModel
import AccordProjections
import AccordTesting
import Foundation
import Testing

/// The finance charts' kept series (Journal/UI.md §3): folded event by event, they are what a
/// fresh computation from the state gives.
@Suite("Finance series kept for the charts")
struct FinanceSeriesTests {
    /// Every point of every series, as text: the exact figures and their printed scale.
    static func figures(_ series: FinanceSeries) -> [String] {
        var out = ["undated \(series.undated)"]
        for currency in series.currencies {
            for stage in FinanceStage.allCases {
                for point in series.cumulative(currency: currency, stage: stage) {
                    out.append("\(currency) \(stage.rawValue) \(point.date) \(point.value)")
                }
            }
        }
        return out
    }

    /// Random finance events on three fundings of one office: every stage, amounts of 0–3
    /// decimals and negative ones naming what they correct, dates over five years in no order
    /// (back-dated), imported items recorded twice (as two offices importing one file), and
    /// retractions of transactions, of imported copies and of retirements; one funding retired
    /// now and then.
    static func randomEvents(seed: UInt64) throws -> (TemporaryDirectory, [Event]) {
        var random = SeededRandom(seed: seed)
        let temp = TemporaryDirectory("finance-series")
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        var transactions: [Event] = [], retirements: [Event] = []
        let types = ["finance.pledged.v1", "finance.committed.v1", "finance.disbursed.v1", "finance.spent.v1"]
        for n in 0..<160 {
            let funding = "funding/f\(Int.random(in: 0..<3, using: &random))"
            let date = String(format: "%04d-%02d-%02d", Int.random(in: 2020...2024, using: &random), Int.random(in: 1...12, using: &random), Int.random(in: 1...28, using: &random))
            let decimals = Int.random(in: 0...3, using: &random)
            let whole = Int.random(in: 1...90_000, using: &random)
            let unsigned = decimals == 0 ? "\(whole)" : "\(whole)." + String(format: "%0\(decimals)d", Int.random(in: 0..<Int(pow(10, Double(decimals))), using: &random))
            let amount = Int.random(in: 0..<10, using: &random) == 0 ? "-" + unsigned : unsigned
            let currency = ["EUR", "KZT"].randomElement(using: &random)!
            let type = types.randomElement(using: &random)!
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where !transactions.isEmpty:
                let target = transactions.randomElement(using: &random)!
                events.append(try office.record("event.retracted.v1", target.subject.description, #"{"event":"\#(target.id.hex)","reason":"wrong \#(n)"}"#))
            case 1:
                // Only f2 is ever retired, so that f0 and f1 stay visible.
                events.append(try office.record("subject.retired.v1", "funding/f2", #"{"reason":"closed \#(n)"}"#))
                retirements.append(events[events.count - 1])
            case 2 where !retirements.isEmpty:
                let target = retirements.randomElement(using: &random)!
                events.append(try office.record("event.retracted.v1", target.subject.description, #"{"event":"\#(target.id.hex)","reason":"reopened \#(n)"}"#))
            case 3:
                // One imported item, recorded twice with the same figures and source.
                let data = money(amount, currency, extra: #","source":"iati:item-\#(n)""#).replacingOccurrences(of: "2023-06-01", with: date)
                let copies = try office.record([Fixtures.draft(type, funding, data), Fixtures.draft(type, funding, data)])
                events += copies
                transactions += copies
            case 4 where !transactions.isEmpty:
                let target = transactions.randomElement(using: &random)!
                let data = money("-" + unsigned, currency, extra: #","corrects":"\#(target.id.hex)""#).replacingOccurrences(of: "2023-06-01", with: date)
                let correction = try office.record(type, target.subject.description, data)
                events.append(correction)
                transactions.append(correction)
            default:
                let event = try office.record(type, funding, money(amount, currency).replacingOccurrences(of: "2023-06-01", with: date))
                events.append(event)
                transactions.append(event)
            }
        }
        return (temp, events)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func seriesFoldedEventByEventEqualTheSeriesComputedFromTheState(seed: UInt64) throws {
        let (temp, events) = try Self.randomEvents(seed: seed)
        defer { temp.remove() }
        var random = SeededRandom(seed: seed &* 31)
        // In recorded order, in any arrival order (a sync bringing old events late), and from a
        // state built part of the way (a read model) with the rest folded after.
        for order in [events, events.shuffled(using: &random), events.shuffled(using: &random)] {
            var state = PartnershipState()
            var series = FinanceSeries()
            for event in order { series.fold(event, into: &state) }
            let fresh = FinanceSeries(state: state)
            #expect(Self.figures(series) == Self.figures(fresh), "seed \(seed)")
            #expect(series == fresh, "seed \(seed)")
            #expect(try state.digest() == fold(order).digest(), "the fold itself is unchanged")

            let split = Int.random(in: 0...order.count, using: &random)
            var partial = fold(Array(order[..<split]))
            var resumed = FinanceSeries(state: partial)
            for event in order[split...] { resumed.fold(event, into: &partial) }
            #expect(Self.figures(resumed) == Self.figures(fresh), "seed \(seed), split at \(split)")
        }
    }

    @Test(arguments: [6, 7] as [UInt64])
    func eachSeriesEndsAtTheTotalOfItsStageOverTheVisibleFundings(seed: UInt64) throws {
        let (temp, events) = try Self.randomEvents(seed: seed)
        defer { temp.remove() }
        var state = PartnershipState()
        var series = FinanceSeries()
        for event in events { series.fold(event, into: &state) }
        let visible = Views.visible(state)
        #expect(visible.fundings.count >= 2 && !series.currencies.isEmpty, "the comparison is not empty")
        for stage in FinanceStage.allCases {
            let totals = visible.fundings.values.reduce(CurrencySums()) { $0 + $1.total(stage) }
            for currency in ["EUR", "KZT"] {
                let last = series.cumulative(currency: currency, stage: stage).last?.value ?? .zero
                #expect(last == totals[currency], "seed \(seed): \(stage) \(currency)")
            }
        }
    }

    @Test func aBackDatedDisbursementAndItsRetractionMoveEveryLaterPointAndBack() throws {
        let temp = TemporaryDirectory("finance-series-back-dated")
        defer { temp.remove() }
        let office = try Office(temp, site: "brussels")
        var state = PartnershipState()
        var series = FinanceSeries()
        for event in try office.record(register) { series.fold(event, into: &state) }
        let day = { (date: String) in money("100.50", "EUR").replacingOccurrences(of: "2023-06-01", with: date) }
        series.fold(try office.record("finance.disbursed.v1", "funding/h2", day("2024-03-01")), into: &state)
        series.fold(try office.record("finance.disbursed.v1", "funding/h2", day("2024-05-01")), into: &state)
        let late = try office.record("finance.disbursed.v1", "funding/h2", money("7", "EUR").replacingOccurrences(of: "2023-06-01", with: "2024-01-15"))
        series.fold(late, into: &state)
        let points = { series.cumulative(currency: "EUR", stage: .disbursed).map { "\($0.date) \($0.value)" } }
        #expect(points() == ["2024-01-15 7", "2024-03-01 107.50", "2024-05-01 208.00"])
        series.fold(try office.record("event.retracted.v1", "funding/h2", #"{"event":"\#(late.id.hex)","reason":"wrong funding"}"#), into: &state)
        #expect(points() == ["2024-03-01 100.50", "2024-05-01 201.00"])
        let chart = SVGChart.financeOverTime(series, currency: "EUR")
        #expect(chart.contains("disbursed 201.00 EUR from 2024-03-01 to 2024-05-01"))
        #expect(chart.contains(#"role="img""#) && chart.contains("<title id=\"chart-finance-over-time--eur-t\">Finance over time, EUR</title>"))
    }
}

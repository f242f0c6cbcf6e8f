import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// A random draft touching a small set of subjects, so that values collide and sums mix.
func randomDraft(_ random: inout SeededRandom) -> EventDraft {
    let subjects = ["a", "b", "c"]
    let subject = subjects.randomElement(using: &random)!
    let currency = ["EUR", "KZT", "USD"].randomElement(using: &random)!
    let amount = "\(Int.random(in: -500...5000, using: &random)).\(String(format: "%02d", Int.random(in: 0...99, using: &random)))"
    switch Int.random(in: 0..<8, using: &random) {
    case 0: return Fixtures.draft("stakeholder.registered.v1", "stakeholder/\(subject)", #"{"name":"Name \#(Int.random(in: 0...99, using: &random))","kind":"research","country":"KZ"}"#)
    case 1: return Fixtures.draft("stakeholder.updated.v1", "stakeholder/\(subject)", #"{"country":"\#(["KZ", "NA", "EU"].randomElement(using: &random)!)"}"#)
    case 2: return Fixtures.draft("action.proposed.v1", "action/\(subject)", #"{"title":"Action \#(subject)","pillar":"supply-chain-resilience","due":"2024-0\#(Int.random(in: 1...9, using: &random))-01"}"#)
    case 3: return Fixtures.draft(["action.agreed.v1", "action.started.v1", "action.completed.v1"].randomElement(using: &random)!, "action/\(subject)", #"{}"#)
    case 4: return Fixtures.draft("finance.committed.v1", "funding/\(subject)", money(amount, currency))
    case 5: return Fixtures.draft("finance.disbursed.v1", "funding/\(subject)", money(amount, currency))
    case 6: return Fixtures.draft("industry.milestone.reached.v1", "project/\(subject)", #"{"milestone":"\#(["concept", "fid", "operational"].randomElement(using: &random)!)","date":"2024-01-01"}"#)
    default: return Fixtures.draft("skills.programme.delivered.v1", "programme/\(subject)", #"{"title":"T","provider":"eib","participants":\#(Int.random(in: 1...40, using: &random)),"date":"2024-01-01"}"#)
    }
}

@Suite("Properties of the fold")
struct PropertyTests {
    /// Three offices record random events in random batches; their clocks are skewed.
    static func threeFeeds(seed: UInt64) throws -> (TemporaryDirectory, [Office], [[Event]], [[Event]]) {
        var random = SeededRandom(seed: seed)
        let temp = TemporaryDirectory()
        let offices = try ["astana", "brussels", "windhoek"].map { try Office(temp, site: $0) }
        var batches: [[Event]] = [[], [], []]
        var all: [[Event]] = [[], [], []]
        for round in 0..<12 {
            for (index, office) in offices.enumerated() where Bool.random(using: &random) || round == 0 {
                office.clock += Int64.random(in: -7200...7200, using: &random)  // skew: clocks disagree
                let drafts = (0..<Int.random(in: 1...4, using: &random)).map { _ in randomDraft(&random) }
                let events = try office.record(drafts)
                batches[index].append(contentsOf: events)
                all[index].append(contentsOf: events)
            }
        }
        return (temp, offices, batches, all)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theSameEventsInAnyArrivalOrderGiveOneDigest(seed: UInt64) throws {
        let (temp, offices, _, feeds) = try Self.threeFeeds(seed: seed)
        let reference = try fold(feeds.flatMap { $0 }).digest()
        var random = SeededRandom(seed: seed &* 7919)
        for trial in 0..<6 {
            // Straight folds in any order.
            #expect(try fold(feeds.flatMap { $0 }.shuffled(using: &random)).digest() == reference)
            // Through a fourth office's journal, the feeds arriving interleaved at random.
            let receiver = try Fixtures.makeJournal(at: temp.child("receiver-\(trial)"), site: "lusaka")
            for office in offices { try receiver.trust(try office.journal.signingKey().publicKey, for: office.journal.site) }
            let writer = try receiver.openWriter()
            var cursors = [0, 0, 0]
            while cursors.enumerated().contains(where: { $0.element < feeds[$0.offset].count }) {
                let index = (0..<3).filter { cursors[$0] < feeds[$0].count }.randomElement(using: &random)!
                // Up to the next signed event: a whole original batch (or several).
                var end = cursors[index]
                repeat { end += 1 } while end < feeds[index].count && (feeds[index][end - 1].signature == nil || Bool.random(using: &random))
                try writer.appendReplicated(feeds[index][cursors[index]..<end].map(\.record))
                cursors[index] = end
            }
            #expect(try StateBuilder(journal: receiver).build(useReadModel: false).state.digest() == reference)
        }
    }

    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func anIncrementalUpdateEqualsAFullRebuild(seed: UInt64) throws {
        let (_, _, _, feeds) = try Self.threeFeeds(seed: seed)
        let events = feeds.flatMap { $0 }
        var random = SeededRandom(seed: seed)
        let split = Int.random(in: 0...events.count, using: &random)
        var incremental = fold(Array(events[..<split]))
        for event in events[split...] { PartnershipProjection.apply(event, to: &incremental) }
        #expect(incremental == fold(events))
        #expect(try incremental.digest() == fold(events).digest())
    }

    @Test func aReadModelThenReplayEqualsAFullReplayAndAppliesNothingTwice() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        try office.record("finance.committed.v1", "funding/eu-h2", money("1000.00", "EUR"))
        for n in 1...6 {
            try office.record("finance.disbursed.v1", "funding/eu-h2", money("100.00", "EUR"))
            if n == 4 { _ = try StateBuilder(journal: office.journal).writeReadModelNow() }
        }
        let builder = StateBuilder(journal: office.journal)
        let fromReadModel = try builder.build()
        #expect(fromReadModel.loadedEvents == 8)
        #expect(fromReadModel.replayed == 2)
        #expect(fromReadModel.state.fundings["eu-h2"]?.total(.disbursed)["EUR"].description == "600.00")
        let full = try builder.build(useReadModel: false)
        #expect(full.replayed == 10)
        #expect(fromReadModel.state == full.state)
    }
}

@Suite("Properties of the fold with corrections and back-filled events")
struct CorrectionPropertyTests {
    /// Three offices with skewed clocks record random events, some back-filled by days to
    /// months, and corrections of random events recorded so far by any office — retractions
    /// (effective or not, some arriving before what they retract), retirements and retractions
    /// of them, reopenings.
    static func feeds(seed: UInt64) throws -> [Event] {
        try feedsAndOffices(seed: seed).events
    }

    /// ``feeds(seed:)`` with the offices that recorded them (and the folder they live in).
    static func feedsAndOffices(seed: UInt64) throws -> (temp: TemporaryDirectory, offices: [Office], events: [Event]) {
        var random = SeededRandom(seed: seed)
        let temp = TemporaryDirectory()
        let offices = try ["astana", "brussels", "windhoek"].map { try Office(temp, site: $0) }
        var all: [Event] = []
        for round in 0..<14 {
            for office in offices where Bool.random(using: &random) || round == 0 {
                office.clock += Int64.random(in: -7200...7200, using: &random)
                var drafts = (0..<Int.random(in: 1...3, using: &random)).map { _ in randomDraft(&random) }
                for _ in 0..<(all.isEmpty ? 0 : Int.random(in: 0...2, using: &random)) {
                    let target = all.randomElement(using: &random)!
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0, 1: drafts.append(retraction(of: target, "r\(round)"))
                    case 2: drafts.append(Fixtures.draft("subject.retired.v1", target.subject.description, #"{"reason":"retired in round \#(round)"}"#))
                    default:
                        let status = ["proposed", "agreed", "started"].randomElement(using: &random)!
                        drafts.append(Fixtures.draft("action.reopened.v1", "action/\(["a", "b", "c"].randomElement(using: &random)!)", #"{"reason":"r","status":"\#(status)"}"#))
                    }
                }
                if Int.random(in: 0..<4, using: &random) == 0 {
                    let back = Int64.random(in: 2...90, using: &random) * 86_400
                    drafts = drafts.map { draft in
                        var draft = draft
                        draft.time = Fixtures.time(office.clock + 3600 - back)
                        return draft
                    }
                }
                all += try office.record(drafts)
            }
        }
        return (temp, offices, all)
    }

    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func theSameEventsWithCorrectionsInAnyArrivalOrderGiveOneDigest(seed: UInt64) throws {
        let events = try Self.feeds(seed: seed)
        let state = fold(events)
        #expect(state.retractions != nil)
        #expect(events.contains { Stamp($0).isBackFilled })
        let reference = try state.digest()
        var random = SeededRandom(seed: seed &* 7919)
        for _ in 0..<8 {
            #expect(try fold(events.shuffled(using: &random)).digest() == reference)
        }
    }

    @Test(arguments: [31, 32, 33, 34] as [UInt64])
    func anIncrementalUpdateWithCorrectionsEqualsAFullRebuild(seed: UInt64) throws {
        let events = try Self.feeds(seed: seed)
        var random = SeededRandom(seed: seed)
        let full = fold(events)
        for _ in 0..<4 {
            let order = events.shuffled(using: &random)
            let split = Int.random(in: 0...order.count, using: &random)
            var incremental = fold(Array(order[..<split]))
            for event in order[split...] { PartnershipProjection.apply(event, to: &incremental) }
            #expect(incremental == full)
            #expect(try incremental.digest() == full.digest())
        }
    }
}

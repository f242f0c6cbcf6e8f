import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// A stand-in that writes the partnership's read model as another projection version would.
struct OtherVersionState: PersistedProjection {
    static var readModelName: String { PartnershipState.readModelName }
    static var readModelVersion: Int { PartnershipState.readModelVersion + 1 }
    static var keepsHistory: Bool { true }
    var state = PartnershipState()
    init() {}
    mutating func fold(_ event: Event) { state.fold(event) }
    func encode(to out: inout ReadModelEncoder) throws { try state.encode(to: &out) }
    init(from input: inout ReadModelDecoder) throws { state = try PartnershipState(from: &input) }
}

@Suite("The read model on disk (Format.md §9.4)")
struct ReadModelTests {
    /// A small journal with corrections and back-filled events, its read model written.
    static func journalWithReadModel() throws -> (TemporaryDirectory, Office, PartnershipState) {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        let commitment = try office.record("finance.committed.v1", "funding/eu-h2", money("1000.00", "EUR"))
        let paid = try office.record("finance.disbursed.v1", "funding/eu-h2", money("250.50", "EUR"))
        try office.record([retraction(of: paid, "entered twice")])
        try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB (old spelling)"}"#, time: Fixtures.time(office.clock - 90 * 86_400))])
        try office.record("action.proposed.v1", "action/a", #"{"title":"Ä","pillar":"supply-chain-resilience","due":"2024-01-01"}"#)
        try office.record([
            Fixtures.draft("agreement.signed.v1", "agreement/mou", #"{"title":"Memorandum","parties":["eib","kz-miid"],"date":"2022-11-07","place":"Sharm el-Sheikh"}"#),
            Fixtures.draft("industry.project.registered.v1", "project/p", #"{"name":"Plant","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ","capacity":"2000.5","capacityUnit":"MW"}"#),
            Fixtures.draft("industry.milestone.reached.v1", "project/p", #"{"milestone":"fid","date":"2024-02-01"}"#),
            Fixtures.draft("industry.offtake.signed.v1", "offtake/o", #"{"buyer":"eib","seller":"kz-miid","commodity":"lithium carbonate","quantity":"10.25","unit":"kt","from":"2025-01-01","to":"2030-12-31"}"#),
            Fixtures.draft("research.project.started.v1", "research/r", #"{"title":"Recycling","partners":["eib"],"field":"materials science","budget":"10.00","currency":"EUR"}"#),
            Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Paper","date":"2024-03-01","url":"https://example.org/p"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/t", #"{"title":"Training","provider":"eib","participants":12,"date":"2024-01-01"}"#),
            Fixtures.draft("subject.retired.v1", "stakeholder/ebrd", #"{"reason":"duplicate"}"#),
        ])
        _ = commitment
        _ = try StateBuilder(journal: office.journal).writeReadModelNow()
        return (temp, office, try StateBuilder(journal: office.journal).build(useReadModel: false).state)
    }

    @Test(arguments: [31, 32, 33, 34] as [UInt64])
    func anIncrementalUpdateOnDiskEqualsAFullRebuildInAnyArrivalOrder(seed: UInt64) throws {
        let (temp, offices, events) = try CorrectionPropertyTests.feedsAndOffices(seed: seed)
        let full = fold(events)
        var random = SeededRandom(seed: seed &* 104_729)
        for trial in 0..<3 {
            // A fourth office receives the three feeds interleaved at random, a few batches at a
            // time, and after each delivery reads the state from its read model on disk.
            let receiver = try Fixtures.makeJournal(at: temp.child("receiver-\(trial)"), site: "lusaka")
            for office in offices { try receiver.trust(try office.journal.signingKey().publicKey, for: office.journal.site) }
            let writer = try receiver.openWriter()
            let feeds = offices.map { office in events.filter { sameBytes($0.site.rawValue, office.journal.site.rawValue) } }
            var cursors = [0, 0, 0]
            var builder = StateBuilder(journal: receiver)
            builder.refreshAfter = 1
            var loadedOnce = false
            // Layout 2: once written, the history file is only ever appended to.
            var history: [UInt8]?
            while cursors.enumerated().contains(where: { $0.element < feeds[$0.offset].count }) {
                let index = (0..<3).filter { cursors[$0] < feeds[$0].count }.randomElement(using: &random)!
                var end = cursors[index]
                repeat { end += 1 } while end < feeds[index].count && (feeds[index][end - 1].signature == nil || Bool.random(using: &random))
                try writer.appendReplicated(feeds[index][cursors[index]..<end].map(\.record))
                cursors[index] = end
                let result = try builder.build()
                #expect(result.readModelRejection == nil)
                if result.loadedEvents != nil { loadedOnce = true }
                let replayed = try StateBuilder(journal: receiver).build(useReadModel: false).state
                #expect(result.state == replayed)
                #expect(result.state.historyCounts == replayed.historyCounts)
                #expect(result.state.historyCounts == HistoryCounts(counting: replayed))
                let now = try FileDamage.bytes(builder.readModel.historyPath)
                if let history { #expect(now.starts(with: history), "the history file was rewritten, not appended to") }
                history = now
            }
            let last = try builder.build()
            #expect(last.replayed == 0)
            #expect(loadedOnce)
            #expect(last.state == full)
            #expect(try last.state.digest() == full.digest())
        }
    }

    @Test func aFIFOInPlaceOfTheReadModelOrItsHistoryIsIgnoredWithoutBlocking() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        // Opening a FIFO for reading would wait for a writer: every command would hang.
        for path in [store.historyPath, store.path] {
            #expect(unlink(path) == 0 && mkfifo(path, 0o644) == 0)
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection?.reason.contains("not a regular file") == true, "\(path): \(String(describing: result.readModelRejection))")
            #expect(result.state == full)
        }
    }

    @Test func aRichStateSurvivesTheRoundTripExactly() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.loadedEvents == full.eventCount)
        #expect(result.replayed == 0)
        #expect(result.state == full)
        #expect(result.state.retractions != nil)
    }

    @Test func everyTruncationOfTheReadModelIsIgnoredAndRebuiltWithTheSameAnswer() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let good = try FileDamage.bytes(store.path)
        let history = try FileDamage.bytes(store.historyPath)
        for length in 0..<good.count {
            // The history file too, as it was (a rebuild writes a new one).
            try FileDamage.write(store.historyPath, history)
            try FileDamage.write(store.path, Array(good[..<length]))
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection != nil, "a read model cut at \(length) bytes was used")
            #expect(result.state == full, "cut at \(length)")
        }
        // Rebuilt: the file is whole again.
        #expect(try FileDamage.bytes(store.path).count == good.count)
    }

    @Test func everyFlippedByteOfTheReadModelIsIgnoredAndRebuiltWithTheSameAnswer() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let good = try FileDamage.bytes(store.path)
        let history = try FileDamage.bytes(store.historyPath)
        var random = SeededRandom(seed: 5)
        for offset in 0..<good.count {
            var damaged = good
            damaged[offset] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            try FileDamage.write(store.historyPath, history)
            try FileDamage.write(store.path, damaged)
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection != nil, "a read model with byte \(offset) flipped was used")
            #expect(result.state == full, "byte \(offset) flipped")
        }
        // Bytes added after the trailer are damage too.
        try FileDamage.write(store.path, good + [0])
        #expect(try StateBuilder(journal: office.journal).build().readModelRejection != nil)
    }

    @Test func aReadModelOfAnotherProjectionVersionIsIgnoredAndRebuilt() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        let valid = try StateBuilder(journal: office.journal).build()
        var other = OtherVersionState()
        other.state = valid.state
        let store = ReadModelStore<OtherVersionState>(journal: office.journal)
        try store.write(other, vector: valid.state.feeds, coverage: try #require(valid.coverage))
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("version \(PartnershipState.readModelVersion + 1)") == true)
        #expect(result.state == full)
        #expect(try StateBuilder(journal: office.journal).build().readModelRejection == nil)  // rewritten once
    }

    @Test func aReadModelOfAnotherJournalOrPartnershipIsIgnored() throws {
        let (temp, office, full) = try Self.journalWithReadModel()
        // The same site name in another partnership, with the same first events.
        let foreign = try EventJournal.create(at: temp.child("foreign"), site: SiteID("brussels"), partnership: "eu-na-2022")
        let writer = try foreign.openWriter()
        try writer.append(register, now: Fixtures.time(3600))
        _ = try StateBuilder(journal: foreign).writeReadModelNow()
        let path = ReadModelStore<PartnershipState>(journal: office.journal).path
        try FileDamage.write(path, try FileDamage.bytes(ReadModelStore<PartnershipState>(journal: foreign).path))
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("eu-na-2022") == true)
        #expect(result.state == full)
    }

    @Test func aReadModelCoveringEventsTheJournalLacksIsIgnored() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        try office.record("finance.committed.v1", "funding/eu-h2", money("1000.00", "EUR"))
        // A copy of the journal that then goes on; its read model covers events the original lacks.
        try FileDamage.copyDirectory(office.journal.path, to: temp.child("copy"))
        let copy = try EventJournal(opening: temp.child("copy"))
        try copy.openWriter().append([Fixtures.draft("finance.disbursed.v1", "funding/eu-h2", money("700.00", "EUR"))], now: Fixtures.time(99_999))
        _ = try StateBuilder(journal: copy).writeReadModelNow()
        let path = ReadModelStore<PartnershipState>(journal: office.journal).path
        try? FileManager.default.createDirectory(atPath: office.journal.path + "/" + ReadModelFile.folder, withIntermediateDirectories: true)
        try FileDamage.write(path, try FileDamage.bytes(ReadModelStore<PartnershipState>(journal: copy).path))
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection != nil)
        #expect(result.state.fundings["eu-h2"]?.total(.disbursed).isEmpty == true)
        let replayed = try StateBuilder(journal: office.journal).build(useReadModel: false).state
        #expect(result.state == replayed)
    }

    @Test func anOldJSONSnapshotIsNeitherReadNorTrusted() throws {
        let (_, office, full) = try Self.journalWithReadModel()
        // A snapshot of the former format, claiming a different total, where Accord once kept them …
        let folder = office.journal.path + "/" + StateBuilder.oldSnapshotFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileDamage.write(folder + "/partnership-v3-8.json", Array(#"{"projection":"partnership","version":3}"#.utf8))
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.oldSnapshots)
        #expect(result.readModelRejection == nil)
        #expect(result.state == full)
        // … and in the read model's own place.
        try FileDamage.write(ReadModelStore<PartnershipState>(journal: office.journal).path, Array(#"{"projection":"partnership","version":3}"#.utf8))
        let again = try StateBuilder(journal: office.journal).build()
        #expect(again.readModelRejection != nil)
        #expect(again.state == full)
    }

    @Test func theConflictScannersReadModelGivesTheConflictsOfAFullScan() throws {
        let (temp, offices, events) = try CorrectionPropertyTests.feedsAndOffices(seed: 41)
        var full = ConflictScanner()
        for event in events { full.add(event) }
        // Events of all three offices in one journal: replicated into a fourth.
        let receiver = try Fixtures.makeJournal(at: temp.child("receiver"), site: "lusaka")
        for office in offices { try receiver.trust(try office.journal.signingKey().publicKey, for: office.journal.site) }
        let writer = try receiver.openWriter()
        let store = ReadModelStore<ConflictScanner>(journal: receiver)
        for office in offices {
            let feed = events.filter { sameBytes($0.site.rawValue, office.journal.site.rawValue) }
            try writer.appendReplicated(feed.map(\.record))
            _ = try store.current(refreshAfter: 1)
        }
        let current = try store.current()
        #expect(current.loadedEvents == events.count)
        #expect(current.replayed == 0)
        #expect(current.model.conflicts() == full.conflicts())
    }

    /// A stored property added to the state without being added to the read model's codec (and
    /// Format.md §9.4.3) would be lost silently on a round trip: the labels are pinned here.
    @Test func everyStoredPropertyIsInTheReadModel() throws {
        func labels(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label) }
        #expect(labels(PartnershipState()) == ["stakeholders", "agreements", "actions", "fundings", "projects", "offtakes", "research", "outputs",
                                               "deliveries", "feeds", "activity", "participants", "financeSources", "retractions", "retirements",
                                               "historyCounts", "historyEntriesFolded"])
        // `historyEntriesFolded` counts what a fold did since the value was made or decoded (the
        // chunk rule of §9.4.5), and so starts at 0 for a state read back: not part of the file.
        #expect(labels(HistoryCounts()) == ["outputs", "programmes"])
        let (_, office, state) = try Self.journalWithReadModel()
        #expect(labels(try #require(state.stakeholders["eib"])) == ["id", "name", "kind", "country", "valueChains", "iatiRef", "registered"])
        #expect(labels(try #require(state.actions["a"])) == ["id", "title", "pillar", "valueChains", "leads", "due", "status", "note", "statusDate",
                                                             "statusTime", "reopened"])
        let funding = try #require(state.fundings["eu-h2"])
        #expect(labels(funding) == ["id", "provider", "receiver", "valueChain", "instrument", "action", "totals", "transactions", "ledger"])
        #expect(labels(try #require(funding.ledger.values.first)) == ["stage", "amount", "currency", "date", "corrects", "source"])
        #expect(labels(try #require(state.retractions?.values.first?.value)) == ["event", "subject", "reason", "by", "date"])
        var events = try office.journal.events()
        #expect(labels(Stamp(try #require(try events.next()))) == ["milliseconds", "counter", "site", "seq", "dated"])
        #expect(labels(try #require(state.agreements["mou"])) == ["id", "title", "parties", "date", "place"])
        #expect(labels(try #require(state.projects["p"])) == ["id", "name", "sponsor", "valueChain", "country", "capacity", "capacityUnit", "milestone",
                                                              "milestoneDate"])
        #expect(labels(try #require(state.offtakes["o"])) == ["id", "buyer", "seller", "commodity", "quantity", "unit", "from", "to"])
        #expect(labels(try #require(state.research["r"])) == ["id", "title", "partners", "field", "budget", "currency"])
        #expect(labels(try #require(state.outputs.values.first)) == ["research", "title", "date", "url"])
        #expect(labels(try #require(state.deliveries.values.first)) == ["programme", "title", "provider", "participants", "date"])
        #expect(labels(try #require(state.retirements?.values.first?.values.first)) == ["reason", "date"])
        #expect(labels(try #require(state.feeds.values.first)) == ["events", "lastSeq", "lastID"])
    }
}

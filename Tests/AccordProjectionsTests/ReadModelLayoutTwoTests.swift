import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// The SHA-256 of `bytes`, as 32 bytes.
private func sha256(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array(Digest.sha256Hex(bytes).utf8)
    return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}

@Suite("The read model's layout 2: a summary read whole, a history read lazily (Format.md §9.4)")
struct ReadModelLayoutTwoTests {
    static func paths(_ journal: EventJournal) -> (summary: String, history: String) {
        let store = ReadModelStore<PartnershipState>(journal: journal)
        return (store.path, store.historyPath)
    }

    /// A file as layout 1 wrote its header (layout 1 had no history field; a reader checks the
    /// layout before anything that follows it, here layout 4's state in two parts), with a
    /// forged name and a correct checksum: it must be ignored, not trusted.
    @Test func aReadModelOfLayoutOneIsIgnoredAndRebuiltNotTrusted() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        _ = try StateBuilder(journal: office.journal).writeReadModelNow()
        let full = try StateBuilder(journal: office.journal).build(useReadModel: false).state
        let (summary, history) = Self.paths(office.journal)
        var bytes = try FileDamage.bytes(summary)
        let field = [UInt8(1)] + Array(try FileDamage.bytes(history)[12..<28])
        let at = try #require(bytes.firstRange(of: field)).lowerBound
        bytes.removeSubrange(at..<(at + field.count))
        #expect(bytes[8..<12].elementsEqual([4, 0, 0, 0]))
        bytes.replaceSubrange(8..<12, with: [1, 0, 0, 0])
        let name = Array("Ministry of Industry".utf8), forged = Array("Ministry of Hoaxes!!".utf8)
        let nameAt = try #require(bytes.firstRange(of: name)).lowerBound
        bytes.replaceSubrange(nameAt..<(nameAt + name.count), with: forged)
        bytes.removeLast(32)
        bytes += sha256(bytes)
        try FileDamage.write(summary, bytes)

        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("layout version is 1") == true, "\(String(describing: result.readModelRejection))")
        #expect(result.loadedEvents == nil)
        #expect(result.state == full)
        #expect(result.state.stakeholders["kz-miid"]?.name?.value == "Ministry of Industry")
        // Rewritten at once, in layout 4, and used from then on.
        #expect(try FileDamage.bytes(summary)[8] == 4)
        let again = try StateBuilder(journal: office.journal).build()
        #expect(again.readModelRejection == nil)
        #expect(again.loadedEvents == full.eventCount)
        #expect(again.state == full)
    }

    /// Each write after a loaded read model appends the entries folded since to the history
    /// file, leaving every byte already there as it was; a retraction folded after the file
    /// reads the ledger it needs from the history and takes the amount out of the sums.
    @Test func anIncrementalWriteAppendsToTheHistoryAndEqualsAFullRebuild() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        let paid = try office.record("finance.disbursed.v1", "funding/eu-h2", money("250.50", "EUR"))
        try office.record("finance.committed.v1", "funding/eu-h2", money("1000.00", "EUR"))
        try office.record("finance.committed.v1", "funding/other", money("5.00", "USD"))
        try office.record([
            Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Paper","date":"2024-03-01"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/t", #"{"title":"Training","provider":"eib","participants":12,"date":"2024-01-01"}"#),
        ])
        _ = try StateBuilder(journal: office.journal).writeReadModelNow()
        let (_, history) = Self.paths(office.journal)
        var before = try FileDamage.bytes(history)
        var builder = StateBuilder(journal: office.journal)
        builder.refreshAfter = 1
        let rounds: [[EventDraft]] = [
            [Fixtures.draft("event.retracted.v1", "funding/eu-h2", #"{"event":"\#(paid.id.hex)","reason":"entered twice"}"#),
             Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Erratum","date":"2024-03-02"}"#)],
            [Fixtures.draft("finance.disbursed.v1", "funding/eu-h2", money("100.00", "EUR")),
             Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Second paper","date":"2024-04-01"}"#)],
            [Fixtures.draft("skills.programme.delivered.v1", "programme/t", #"{"title":"More training","provider":"eib","participants":3,"date":"2024-05-01"}"#)],
        ]
        for (round, drafts) in rounds.enumerated() {
            try office.record(drafts)
            let result = try builder.build()
            #expect(result.readModelRejection == nil)
            #expect(result.loadedEvents != nil, "round \(round)")
            #expect(result.replayed == drafts.count)
            #expect(result.wroteReadModel != nil)
            let after = try FileDamage.bytes(history)
            #expect(after.count > before.count, "round \(round): nothing appended")
            #expect(after.starts(with: before), "round \(round): the history was rewritten, not appended to")
            before = after
            let replayed = try StateBuilder(journal: office.journal).build(useReadModel: false).state
            #expect(result.state == replayed, "round \(round)")
            let loaded = try StateBuilder(journal: office.journal).build()
            #expect(loaded.replayed == 0)
            #expect(loaded.state == replayed, "round \(round), loaded")
            #expect(try loaded.state.digest() == replayed.digest())
        }
        let last = try StateBuilder(journal: office.journal).build().state
        #expect(last.fundings["eu-h2"]?.total(.disbursed)["EUR"].description == "100.00")
        #expect(last.fundings["eu-h2"]?.ledger.count == 3)
        #expect(last.outputs.count == 3)
        #expect(last.deliveries.count == 2)
    }

    /// Every flipped byte of the history file's extents is found when the value is read: the
    /// entries come from the journal instead, and the read model is removed to be rebuilt.
    @Test func everyFlippedByteOfTheHistoryIsNotTrustedAndTheReadModelIsRebuilt() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let (summary, history) = Self.paths(office.journal)
        let goodSummary = try FileDamage.bytes(summary)
        let good = try FileDamage.bytes(history)
        #expect(good.count > 28)
        var random = SeededRandom(seed: 9)
        for offset in 28..<good.count {
            var damaged = good
            damaged[offset] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            try FileDamage.write(history, damaged)
            try FileDamage.write(summary, goodSummary)
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection == nil)
            #expect(result.loadedEvents == full.eventCount)
            #expect(result.state == full, "history byte \(offset) flipped")
            #expect(!FileManager.default.fileExists(atPath: summary), "history byte \(offset) flipped, the read model was kept")
        }
        // A history file that is not the one the read model names (another identity) fails the checks.
        var other = good
        other[20] ^= 0x01
        try FileDamage.write(history, other)
        try FileDamage.write(summary, goodSummary)
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("history file") == true)
        #expect(result.state == full)
    }
}

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

/// `body` with its last 32 bytes replaced by the SHA-256 of the rest: a forged file that passes
/// the checksum.
private func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var body = Array(bytes.dropLast(32))
    body += sha256(body)
    return body
}

/// One entry of a `counts` value: `u32` length, the key, `i64` count.
private func countsEntry(_ key: String, _ count: Int64) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt32(key.utf8.count).littleEndian) { bytes += $0 }
    bytes += Array(key.utf8)
    withUnsafeBytes(of: count.littleEndian) { bytes += $0 }
    return bytes
}

@Suite("The read model's layout 3: activity counts sorted and decoded only when read (Format.md §9.4)")
struct ReadModelLayoutThreeTests {
    static func paths(_ journal: EventJournal) -> (summary: String, history: String) {
        let store = ReadModelStore<PartnershipState>(journal: journal)
        return (store.path, store.historyPath)
    }

    /// Both files with `u32` 2 for the layout in the summary and in the history file (layout 4's
    /// bytes otherwise: a reader checks the layout before anything that follows it) with a
    /// forged name and a correct checksum: ignored, not trusted, and both files rewritten in
    /// the current layout (4).
    @Test func aReadModelOfLayoutTwoIsIgnoredAndRebuiltNotTrusted() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let (summary, history) = Self.paths(office.journal)
        var bytes = try FileDamage.bytes(summary)
        var historyBytes = try FileDamage.bytes(history)
        #expect(bytes[8..<12].elementsEqual([4, 0, 0, 0]))
        #expect(historyBytes[8..<12].elementsEqual([4, 0, 0, 0]))
        bytes.replaceSubrange(8..<12, with: [2, 0, 0, 0])
        historyBytes.replaceSubrange(8..<12, with: [2, 0, 0, 0])
        let name = Array("Ministry of Industry".utf8), forged = Array("Ministry of Hoaxes!!".utf8)
        let nameAt = try #require(bytes.firstRange(of: name)).lowerBound
        bytes.replaceSubrange(nameAt..<(nameAt + name.count), with: forged)
        try FileDamage.write(summary, resealed(bytes))
        try FileDamage.write(history, historyBytes)

        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("layout version is 2") == true, "\(String(describing: result.readModelRejection))")
        #expect(result.loadedEvents == nil)
        #expect(result.state == full)
        #expect(result.state.stakeholders["kz-miid"]?.name?.value == "Ministry of Industry")
        // Rewritten at once, in layout 4 (both files), and used from then on.
        #expect(try FileDamage.bytes(summary)[8] == 4)
        #expect(try FileDamage.bytes(history)[8] == 4)
        let again = try StateBuilder(journal: office.journal).build()
        #expect(again.readModelRejection == nil)
        #expect(again.loadedEvents == full.eventCount)
        #expect(again.state == full)
        #expect(try again.state.digest() == full.digest())
    }

    /// The counts are written in strictly increasing order of their keys' bytes; a file whose
    /// counts are out of order or name a key twice — with a correct checksum — is refused
    /// when loaded, before any count is used.
    @Test func activityCountsOutOfOrderOrTwiceAreRefusedWhenLoaded() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let (summary, history) = Self.paths(office.journal)
        let good = try FileDamage.bytes(summary)
        let goodHistory = try FileDamage.bytes(history)
        let ebrd = countsEntry("ebrd", Int64(full.activity["ebrd"] ?? 0))
        let eib = countsEntry("eib", Int64(full.activity["eib"] ?? 0))
        // Sorted by bytes: "ebrd" < "eib" < "kz-miid".
        let at = try #require(good.firstRange(of: ebrd + eib), "the counts are not in byte order").lowerBound

        var swapped = good
        swapped.replaceSubrange(at..<(at + ebrd.count + eib.count), with: eib + ebrd)
        try FileDamage.write(summary, resealed(swapped))
        let out = try StateBuilder(journal: office.journal).build()
        #expect(out.readModelRejection?.reason.contains("does not sort after") == true, "\(String(describing: out.readModelRejection))")
        #expect(out.state == full)

        var twice = good
        twice.replaceSubrange(at..<(at + ebrd.count + eib.count), with: eib + eib)
        try FileDamage.write(history, goodHistory)
        try FileDamage.write(summary, resealed(twice))
        let dup = try StateBuilder(journal: office.journal).build()
        #expect(dup.readModelRejection?.reason.contains("does not sort after") == true, "\(String(describing: dup.readModelRejection))")
        #expect(dup.state == full)
        #expect(dup.state.activity == full.activity)
    }

    /// Counting after a loaded read model (keys before, between, equal to and after the loaded
    /// ones) and writing merges the counts in order: loaded again, they equal a full replay's.
    @Test func countsFoldedAfterALoadedReadModelAreMergedInOrderWhenWritten() throws {
        let (_, office, _) = try ReadModelTests.journalWithReadModel()
        var builder = StateBuilder(journal: office.journal)
        builder.refreshAfter = 1
        let rounds: [[EventDraft]] = [
            [Fixtures.draft("stakeholder.registered.v1", "stakeholder/aaa", #"{"name":"First","kind":"industrial","country":"KZ"}"#),
             Fixtures.draft("stakeholder.registered.v1", "stakeholder/zzz", #"{"name":"Last","kind":"industrial","country":"KZ"}"#)],
            [Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB"}"#),
             Fixtures.draft("stakeholder.registered.v1", "stakeholder/ec", #"{"name":"Between","kind":"government","country":"EU"}"#)],
            [Fixtures.draft("industry.offtake.signed.v1", "offtake/o2", #"{"buyer":"aaa","seller":"kz-miid","commodity":"copper","quantity":"1","unit":"kt","from":"2025-01-01","to":"2026-12-31"}"#)],
        ]
        for (round, drafts) in rounds.enumerated() {
            try office.record(drafts)
            let result = try builder.build()
            #expect(result.loadedEvents != nil, "round \(round)")
            #expect(result.wroteReadModel != nil, "round \(round)")
            let replayed = try StateBuilder(journal: office.journal).build(useReadModel: false).state
            #expect(result.state.activity == replayed.activity, "round \(round)")
            let loaded = try StateBuilder(journal: office.journal).build()
            #expect(loaded.readModelRejection == nil)
            #expect(loaded.replayed == 0)
            #expect(loaded.state == replayed, "round \(round), loaded")
            #expect(try loaded.state.digest() == replayed.digest())
        }
        let last = try StateBuilder(journal: office.journal).build().state
        #expect(last.activity["aaa"] == 2)
        #expect(last.activity["zzz"] == 1)
        #expect(last.activity["ec"] == 1)
        // The keys in the file are in byte order.
        let bytes = try FileDamage.bytes(Self.paths(office.journal).summary)
        let order = ["aaa", "ebrd", "ec", "eib", "kz-miid", "zzz"].map { bytes.firstRange(of: countsEntry($0, Int64(last.activity[$0] ?? 0)))?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
    }

    /// A text that is not UTF-8 (here the action title "Ä", `c3 84`, made `c3 28`) is refused
    /// when the file is loaded, even under a correct checksum; "Ä" itself is read back as it was.
    @Test func aTextThatIsNotUTF8IsRefusedEvenUnderACorrectChecksum() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        #expect(try StateBuilder(journal: office.journal).build().state.actions["a"]?.title?.value == "Ä")
        let (summary, _) = Self.paths(office.journal)
        var bytes = try FileDamage.bytes(summary)
        let title: [UInt8] = [2, 0, 0, 0, 0xc3, 0x84]
        let at = try #require(bytes.firstRange(of: title)).lowerBound
        bytes[at + 5] = 0x28
        try FileDamage.write(summary, resealed(bytes))
        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("is not UTF-8") == true, "\(String(describing: result.readModelRejection))")
        #expect(result.state == full)
    }

    /// The history file cut at every length: the read model naming it is refused (its last
    /// extent no longer lies within the file) and the state is the same.
    @Test func everyTruncationOfTheHistoryFileIsIgnoredAndRebuiltWithTheSameAnswer() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let (summary, history) = Self.paths(office.journal)
        let goodSummary = try FileDamage.bytes(summary)
        let good = try FileDamage.bytes(history)
        for length in 0..<good.count {
            try FileDamage.write(summary, goodSummary)
            try FileDamage.write(history, Array(good[..<length]))
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection != nil, "a history file cut at \(length) bytes was used")
            #expect(result.state == full, "cut at \(length)")
        }
        #expect(try FileDamage.bytes(history).count == good.count)
    }
}

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

/// `bytes` with its last 32 bytes replaced by the SHA-256 of the rest: a forged file that passes
/// the checksum.
private func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var body = Array(bytes.dropLast(32))
    body += sha256(body)
    return body
}

/// The split of a layout 4 file: the `u64` before the checksum.
private func split(of bytes: [UInt8]) -> UInt64 {
    bytes[(bytes.count - 40)..<(bytes.count - 32)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

/// `bytes` with its split set to `value`, resealed.
private func withSplit(_ bytes: [UInt8], _ value: UInt64) -> [UInt8] {
    var bytes = bytes
    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange((bytes.count - 40)..<(bytes.count - 32), with: $0) }
    return resealed(bytes)
}

@Suite("The read model's layout 4: the state in two parts, decoded at once (Format.md §9.4)")
struct ReadModelLayoutFourTests {
    /// Both files with `u32` 3 for the layout (layout 4's bytes otherwise, with a forged name and
    /// a correct checksum): refused by the layout check before anything else is read, not
    /// trusted, and both files rewritten in layout 4, which the next read uses.
    @Test func aReadModelOfLayoutThreeIsIgnoredAndRebuiltNotTrusted() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        var bytes = try FileDamage.bytes(store.path)
        var historyBytes = try FileDamage.bytes(store.historyPath)
        #expect(bytes[8..<12].elementsEqual([4, 0, 0, 0]))
        #expect(historyBytes[8..<12].elementsEqual([4, 0, 0, 0]))
        bytes.replaceSubrange(8..<12, with: [3, 0, 0, 0])
        historyBytes.replaceSubrange(8..<12, with: [3, 0, 0, 0])
        let name = Array("Ministry of Industry".utf8), forged = Array("Ministry of Hoaxes!!".utf8)
        let nameAt = try #require(bytes.firstRange(of: name)).lowerBound
        bytes.replaceSubrange(nameAt..<(nameAt + name.count), with: forged)
        try FileDamage.write(store.path, resealed(bytes))
        try FileDamage.write(store.historyPath, historyBytes)

        let result = try StateBuilder(journal: office.journal).build()
        #expect(result.readModelRejection?.reason.contains("layout version is 3") == true, "\(String(describing: result.readModelRejection))")
        #expect(result.loadedEvents == nil)
        #expect(result.state == full)
        #expect(result.state.stakeholders["kz-miid"]?.name?.value == "Ministry of Industry")
        #expect(try FileDamage.bytes(store.path)[8] == 4)
        #expect(try FileDamage.bytes(store.historyPath)[8] == 4)
        let again = try StateBuilder(journal: office.journal).build()
        #expect(again.readModelRejection == nil)
        #expect(again.loadedEvents == full.eventCount)
        #expect(again.state == full)
        #expect(try again.state.digest() == full.digest())
    }

    /// The second part starts with the fundings, where the split says; the first part ends
    /// there; a projection of one part (`conflicts`) has an empty second part.
    @Test func theSplitNamesWhereTheFundingsStartAndTheConflictsHaveNoSecondPart() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let bytes = try FileDamage.bytes(ReadModelStore<PartnershipState>(journal: office.journal).path)
        let at = Int(split(of: bytes))
        // `fundings`: `u32` 1 entry, the key "eu-h2", the funding's id "eu-h2".
        let fundings: [UInt8] = [1, 0, 0, 0, 5, 0, 0, 0] + Array("eu-h2".utf8) + [5, 0, 0, 0] + Array("eu-h2".utf8)
        #expect(full.fundings.count == 1)
        #expect(Array(bytes[at..<(at + fundings.count)]) == fundings)
        // The activity counts, the first part's last value, end at the split: "kz-miid" is the
        // greatest key and its count the last 8 bytes before it.
        let last = Int64(try #require(full.activity["kz-miid"]))
        #expect(Array(bytes[(at - 8)..<at]) == withUnsafeBytes(of: last.littleEndian) { Array($0) })

        _ = try ReadModelStore<ConflictScanner>(journal: office.journal).current(refreshAfter: 1)
        let conflicts = try FileDamage.bytes(ReadModelStore<ConflictScanner>(journal: office.journal).path)
        #expect(split(of: conflicts) == UInt64(conflicts.count - 40))
        #expect(try ReadModelStore<ConflictScanner>(journal: office.journal).current().loadedEvents == full.eventCount)
    }

    /// A split outside the file, inside the header, or one byte off the parts' boundary — under a
    /// correct checksum — is refused and the state rebuilt; never a crash, never a wrong state.
    @Test func aSplitThatIsNotWhereTheSecondPartStartsIsRefusedEvenUnderACorrectChecksum() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let good = try FileDamage.bytes(store.path)
        let history = try FileDamage.bytes(store.historyPath)
        let real = split(of: good), size = UInt64(good.count)
        for (value, outside) in [(0, true), (11, true), (size - 39, true), (UInt64.max, true), (12, false), (real - 1, false), (real + 1, false),
                                 (size - 40, false)] {
            try FileDamage.write(store.historyPath, history)
            try FileDamage.write(store.path, withSplit(good, value))
            let result = try StateBuilder(journal: office.journal).build()
            let reason = result.readModelRejection?.reason ?? ""
            #expect(result.readModelRejection != nil, "a split of \(value) was used")
            if outside { #expect(reason.contains("split"), "split \(value): \(reason)") }
            #expect(result.state == full, "split \(value)")
        }
    }

    /// A byte changed in either part so that the file still decodes (an ASCII letter for
    /// another) is caught by the checksum, which is computed alongside the decoding.
    @Test func aChangeThatStillDecodesIsCaughtByTheChecksumInEitherPart() throws {
        let (_, office, full) = try ReadModelTests.journalWithReadModel()
        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let good = try FileDamage.bytes(store.path)
        let history = try FileDamage.bytes(store.historyPath)
        let at = Int(split(of: good))
        for text in ["Ministry of Industry", "lithium carbonate"] {
            let found = try #require(good.firstRange(of: Array(text.utf8)), "\(text)")
            #expect((found.lowerBound >= at) == (text == "lithium carbonate"), "\(text) is not in the part expected")
            var bytes = good
            bytes[found.upperBound - 1] ^= 0x01
            try FileDamage.write(store.historyPath, history)
            try FileDamage.write(store.path, bytes)
            let result = try StateBuilder(journal: office.journal).build()
            #expect(result.readModelRejection?.reason.contains("checksum") == true, "\(text): \(String(describing: result.readModelRejection))")
            #expect(result.state == full)
        }
    }
    /// Activity counts of 12,000 stakeholders (about 480 KB, more than the decoder's first
    /// buffer of 256 KiB, so that they are read and checked in several runs): loaded, they equal
    /// a replay's; the last two keys swapped (under a correct checksum) are refused.
    @Test func activityCountsLongerThanTheDecodersBufferAreCheckedAcrossItsRefills() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        let batches = (0..<3).map { batch in
            let leads = (0..<4_000).map { "\"lead-\(batch)-\(String(repeating: "x", count: 16))-\(String(format: "%05d", $0))\"" }.joined(separator: ",")
            return [Fixtures.draft("action.proposed.v1", "action/a\(batch)", #"{"title":"Many leads","pillar":"supply-chain-resilience","leads":[\#(leads)]}"#)]
        }
        for drafts in batches { try office.record(drafts) }
        _ = try StateBuilder(journal: office.journal).writeReadModelNow()
        let full = try StateBuilder(journal: office.journal).build(useReadModel: false).state
        #expect(full.activity.count == 12_000)
        let loaded = try StateBuilder(journal: office.journal).build()
        #expect(loaded.readModelRejection == nil)
        #expect(loaded.loadedEvents == 3)
        #expect(loaded.state == full)

        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let good = try FileDamage.bytes(store.path)
        let history = try FileDamage.bytes(store.historyPath)
        let entry = { (key: String) -> [UInt8] in
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt32(key.utf8.count).littleEndian) { bytes += $0 }
            return bytes + Array(key.utf8) + [1, 0, 0, 0, 0, 0, 0, 0]
        }
        let pad = String(repeating: "x", count: 16)
        let (a, b) = (entry("lead-2-\(pad)-03998"), entry("lead-2-\(pad)-03999"))
        let at = try #require(good.firstRange(of: a + b)).lowerBound
        #expect(at > 300_000)
        var swapped = good
        swapped.replaceSubrange(at..<(at + a.count + b.count), with: b + a)
        try FileDamage.write(store.historyPath, history)
        try FileDamage.write(store.path, resealed(swapped))
        let refused = try StateBuilder(journal: office.journal).build()
        #expect(refused.readModelRejection?.reason.contains("does not sort after") == true, "\(String(describing: refused.readModelRejection))")
        #expect(refused.state == full)
    }
    /// The summary view counts research outputs, programmes and participants from the counts the
    /// state keeps (`historyCounts`, in the summary part of the read model): with every byte of
    /// the history file's extents zeroed, a loaded state's summary equals a replay's and the read
    /// model is not found damaged (nothing of the history was read). Once something is
    /// retracted the view reads the history, and leaves the retracted delivery out.
    @Test func theSummaryCountsOutputsAndDeliveriesWithoutReadingTheHistory() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        try office.record(register)
        try office.record([
            Fixtures.draft("research.project.started.v1", "research/r", #"{"title":"Recycling","partners":["eib"],"field":"materials science"}"#),
            Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Paper","date":"2024-03-01"}"#),
            Fixtures.draft("research.output.published.v1", "research/r", #"{"title":"Second paper","date":"2024-04-01"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/t", #"{"title":"Training","provider":"eib","participants":12,"date":"2024-01-01"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/t", #"{"title":"Training again","provider":"eib","participants":5,"date":"2024-02-01"}"#),
        ])
        let late = try office.record("skills.programme.delivered.v1", "programme/u", #"{"title":"Welding","provider":"ebrd","participants":30,"date":"2024-03-01"}"#)
        _ = try StateBuilder(journal: office.journal).writeReadModelNow()
        let reference = try CalendarDate(parsing: "2026-12-07")
        let replayed = try StateBuilder(journal: office.journal).build(useReadModel: false).state
        let expected = Views.summary(replayed, reference: reference).rows
        #expect(expected.contains(["research projects", "1, 2 outputs"]))
        #expect(expected.contains(["skills programmes", "2, 47 participants"]))

        let store = ReadModelStore<PartnershipState>(journal: office.journal)
        let history = try FileDamage.bytes(store.historyPath)
        try FileDamage.write(store.historyPath, Array(history[..<28]) + [UInt8](repeating: 0, count: history.count - 28))
        let loaded = try StateBuilder(journal: office.journal).build()
        #expect(loaded.readModelRejection == nil)
        #expect(loaded.loadedEvents == replayed.eventCount)
        #expect(loaded.state.historyCounts == HistoryCounts(counting: replayed))
        #expect(Views.summary(loaded.state, reference: reference).rows == expected)
        #expect(FileManager.default.fileExists(atPath: store.path), "the history was read (and found damaged)")

        try FileDamage.write(store.historyPath, history)
        try office.record([retraction(of: late, "not delivered")])
        let after = try StateBuilder(journal: office.journal).build()
        #expect(after.loadedEvents != nil)
        let summary = Views.summary(after.state, reference: reference).rows
        #expect(summary.contains(["skills programmes", "1, 17 participants"]))
        #expect(summary == Views.summary(try StateBuilder(journal: office.journal).build(useReadModel: false).state, reference: reference).rows)
    }
    /// `historyCounts` is derived data: every other stored property is in the state's JSON (and
    /// so in its digest), it is not; a state decoded from that JSON has none, has the same digest,
    /// and counts the same from its history (`countsOfHistory`).
    @Test func theHistoryCountsAreOutsideTheJSONAndTheDigestAndCountedAgainWhenAbsent() throws {
        let (_, office, _) = try ReadModelTests.journalWithReadModel()
        var state = try StateBuilder(journal: office.journal).build().state
        state.participants = state.participants ?? [:]
        state.financeSources = state.financeSources ?? [:]
        #expect(state.historyCounts != nil)
        let json = try JSONEncoder().encode(state)
        let keys = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys.sorted()
        let stored = Mirror(reflecting: state).children.compactMap(\.label).filter { $0 != "historyCounts" && $0 != "historyEntriesFolded" }.sorted()
        #expect(keys == stored)
        let decoded = try JSONDecoder().decode(PartnershipState.self, from: json)
        #expect(decoded.historyCounts == nil)
        #expect(try decoded.digest() == state.digest())
        #expect(decoded.countsOfHistory == state.historyCounts)
        #expect(decoded.countsOfHistory.programmes["t"] == HistoryCounts.Programme(deliveries: 1, participants: 12))
        #expect(decoded.countsOfHistory.outputs["r"] == 1)
    }
}

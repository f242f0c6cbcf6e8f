import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("Bundles: a signed header, checked before anything else is inflated")
struct BundleGateTests {
    /// A bundle of Astana's first events, written to a file; its batches as read back.
    static func astanaBundle(_ partnership: Partnership) throws -> (path: String, batches: [[[UInt8]]]) {
        for n in 0..<3 { try partnership.append("astana", Fixtures.realisticDrafts(count: 3, startingAt: 10 * n)) }
        let path = partnership.temp.child("astana.bundle")
        try Bundle.make(from: partnership["astana"]).write(to: path)
        let batches = try MemberFile.read(path).map { $0.records.map { Array($0) } }
        return (path, batches)
    }

    /// The header record with `change` applied to its members (the signature kept as it was).
    static func header(_ record: [UInt8], _ change: (inout JSONObject) -> Void) throws -> [UInt8] {
        guard case .object(var object) = try JSONParser.parse(record) else { throw AccordError(.badInput, "no header") }
        change(&object)
        return try CanonicalJSON.encode(.object(object))
    }

    @Test func aBundleWritesAVersionTwoHeaderSignedByItsSource() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let (path, batches) = try Self.astanaBundle(partnership)
        guard case .object(let header) = try JSONParser.parse(batches[0][0]) else { Issue.record("no header"); return }
        #expect(header["version"] == .number("2"))
        #expect(header["sig"]?.stringValue.flatMap(Base64.decode)?.count == 64)
        let bundle = try Bundle.read(path, checkingAgainst: partnership["brussels"])
        #expect(try bundle.verify(against: partnership["brussels"]).isEmpty)
        #expect(try bundle.forks(against: partnership["brussels"]).isEmpty)
    }

    @Test func aChangedHeaderIsRefusedBeforeItsEventsAreRead() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let (path, batches) = try Self.astanaBundle(partnership)
        // "Brussels is known to hold its own feed up to 999": what would empty 'bundle create --for'.
        let forged = try Self.header(batches[0][0]) { header in
            header.members.removeAll { $0.key == "requires" }
            header.members.append((key: "requires", value: .object(JSONObject([("brussels", .object(JSONObject([("id", .string(String(repeating: "ab", count: 32))), ("seq", .number("999"))])))]))))
        }
        var bytes = try MemberFile.encode([[forged]] + Array(batches.dropFirst()))
        try FileDamage.write(path + ".forged", bytes)
        let error = #expect(throws: AccordError.self) { try Bundle.read(path + ".forged", checkingAgainst: partnership["brussels"]) }
        #expect(error?.code == .untrusted)
        #expect(error?.message.contains("header") == true)
        // Even a bundle read without a journal is refused when verified.
        #expect(throws: AccordError.self) { try Bundle.read(path + ".forged").verify(against: partnership["brussels"]) }
        // The header is checked first: damage after it is never reached.
        bytes[bytes.count - 12] ^= 0xFF
        try FileDamage.write(path + ".forged-damaged", bytes)
        #expect(throws: AccordError.self) { try Bundle.read(path + ".forged-damaged", checkingAgainst: partnership["brussels"]) }
    }

    @Test func aVersionOneBundleWhoseHeaderIsUnsignedIsRefusedWithItsReason() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let (path, batches) = try Self.astanaBundle(partnership)
        let old = try Self.header(batches[0][0]) { header in
            header.members.removeAll { ["sig", "bytes", "version"].contains($0.key) }
            header.members.append((key: "version", value: .number("1")))
        }
        try FileDamage.write(path + ".v1", try MemberFile.encode([[old]] + Array(batches.dropFirst())))
        let error = #expect(throws: AccordError.self) { try Bundle.read(path + ".v1") }
        #expect(error?.code == .badInput)
        #expect(error?.message.contains("version 1") == true)
        #expect(error?.message.contains("not signed") == true)
        #expect(error?.message.contains("'astana'") == true)
    }

    @Test func inflationStopsAtWhatTheHeaderDeclares() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let (path, batches) = try Self.astanaBundle(partnership)
        // After the real batches: a batch far larger than the header declares (a bomb), then a
        // damaged one. The reader stops at the bomb: it never gets to the damage.
        let bomb = [[UInt8]](repeating: [UInt8](repeating: 0x41, count: 4096), count: 512)
        var bytes = try MemberFile.encode(batches + [bomb, [[0x42]]])
        bytes[bytes.count - 12] ^= 0xFF
        try FileDamage.write(path + ".bomb", bytes)
        let error = #expect(throws: SegmentError.self) { try Bundle.read(path + ".bomb") }
        #expect(error?.code == .invalidRecord)
        #expect(error?.message.contains("first batch declares") == true)
        // A header that declares more than the maximum is refused before anything else is read.
        let greedy = try Self.header(batches[0][0]) { header in
            header.members.removeAll { $0.key == "bytes" }
            header.members.append((key: "bytes", value: .number(String(Bundle.maxRecordBytes + 1))))
        }
        try FileDamage.write(path + ".greedy", try MemberFile.encode([[greedy]] + Array(batches.dropFirst())))
        let greedyError = #expect(throws: AccordError.self) { try Bundle.read(path + ".greedy") }
        #expect(greedyError?.message.contains("at most \(Bundle.maxRecordBytes)") == true)
    }

    @Test func aFileThatIsNotABundleSaysSoAndWhy() throws {
        let temp = TemporaryDirectory("not-a-bundle")
        let missing = #expect(throws: AccordError.self) { try Bundle.read(temp.child("nowhere.bundle")) }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.contains("nowhere.bundle") == true)
        try FileDamage.write(temp.child("empty"), [])
        #expect((#expect(throws: AccordError.self) { try Bundle.read(temp.child("empty")) })?.message.contains("is empty") == true)
        try FileDamage.write(temp.child("text"), Array("hello\n".utf8))
        let text = #expect(throws: AccordError.self) { try Bundle.read(temp.child("text")) }
        #expect(text?.code == .badInput)
        #expect(text?.message.contains("not an Accord bundle") == true)
        #expect(text?.message.contains("text file") == true)
        try FileDamage.write(temp.child("bom"), [0xEF, 0xBB, 0xBF] + Array("{}".utf8))
        #expect((#expect(throws: AccordError.self) { try Bundle.read(temp.child("bom")) })?.message.contains("byte-order mark") == true)
    }

    @Test func verifyingABundleThatForksTheFeedReportsTheFork() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", [Fixtures.realisticDraft(1)])
        try partnership.append("astana", [Fixtures.realisticDraft(2)])
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        // Another Astana (same key) that recorded something else at 2.
        let other = try EventJournal.create(at: partnership.temp.child("astana-other"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        // (Event 1 is the same: same key, draft and time; Ed25519 signatures are deterministic.)
        let same = try other.openWriter().append([Fixtures.realisticDraft(1)], now: Fixtures.time(60))
        #expect(same[0].record == (try partnership["astana"].records(lacking: VersionVector())[0]))
        try other.openWriter().append([Fixtures.realisticDraft(77)], now: Fixtures.time(9))
        let path = partnership.temp.child("other.bundle")
        try Bundle.make(from: other).write(to: path)
        let bundle = try Bundle.read(path, checkingAgainst: partnership["brussels"])
        _ = try bundle.verify(against: partnership["brussels"])
        let forks = try bundle.forks(against: partnership["brussels"])
        #expect(forks.count == 1)
        #expect(forks.first?.contains("'astana' at 2") == true, "\(forks)")
    }
}

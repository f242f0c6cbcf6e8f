import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Hand-made records of one feed, as an attacker makes them.
struct Forger {
    var site: String
    var key: SiteKey?

    /// `count` records of `site` from `first`, chained on `prev`; the last is signed with
    /// ``key`` when `signLast` (and a key is given); `salt` makes them differ from other forgeries.
    func records(from first: UInt64, prev: EventID?, count: Int, signLast: Bool = false, salt: Int = 900,
                 hlc: HybridTimestamp? = nil, signature: [UInt8]? = nil) throws -> [(record: [UInt8], id: EventID)] {
        var out: [(record: [UInt8], id: EventID)] = []
        var previous = prev
        for n in 0..<count {
            let draft = Fixtures.realisticDraft(salt + n)
            let canonical = try EventRecord.canonicalBytes(
                site: SiteID(site), seq: SequenceNumber(first + UInt64(n)), prev: previous, time: Fixtures.time(Int64(n)),
                hlc: hlc ?? HybridTimestamp(milliseconds: Fixtures.time(Int64(n)).milliseconds, counter: 0), seen: [:],
                type: draft.type, subject: draft.subject, actor: site, data: draft.data)
            let id = EventRecord.id(ofCanonical: canonical)
            let last = n == count - 1
            var sig: [UInt8]?
            if last { sig = signature }
            if last, sig == nil, signLast, let key { sig = try key.signature(forBatchEndingAt: id) }
            out.append((EventRecord.record(canonical: canonical, id: id, signature: sig), id))
            previous = id
        }
        return out
    }
}

@Suite("One gate for every transport: nothing unsigned, no far-future clock, no weak key")
struct GateTests {
    /// A journal directory of another office whose segments hold `records` as they are.
    static func plantedDirectory(_ partnership: Partnership, _ records: [[UInt8]]) throws -> EventJournal {
        let forger = try EventJournal.create(at: partnership.temp.child("forger"), site: SiteID("lusaka"), partnership: "eu-kz-2022")
        let writer = try SegmentWriter(directory: forger.directory)
        var index = 0
        while index < records.count {
            _ = try writer.append(Array(records[index..<min(records.count, index + 500)]))
            index += 500
        }
        writer.close()
        return forger
    }

    @Test("a directory of unsigned records of trusted sites raises no fork, no restored alarm, and plants nothing pending")
    func unsignedRecordsInADirectoryAreNotKept() throws {
        let partnership = try Partnership(["astana", "brussels"])
        for n in 1...3 { try partnership.append("astana", [Fixtures.realisticDraft(n)]) }
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        let brussels = partnership["brussels"]
        let before = try partnership.ids("brussels")
        // Another version of Astana's feed from 1 on, 2,001 events long, and "Brussels' own"
        // events 1…3, none of them signed.
        let astana = try Forger(site: "astana").records(from: 1, prev: nil, count: 2_001)
        let own = try Forger(site: "brussels").records(from: 1, prev: nil, count: 3)
        let forger = try Self.plantedDirectory(partnership, astana.map(\.record) + own.map(\.record))

        let session = try SyncSession(journal: brussels)
        let pulled = try session.apply(try forger.records(lacking: session.vector))
        session.close()
        #expect(pulled.forks.isEmpty, "\(pulled.forks)")
        #expect(pulled.appended == 0)
        #expect(pulled.received == 2_002)  // Astana's from 3 on (the overlap), and Brussels' 3
        #expect(pulled.notKept == pulled.received)
        #expect(try SyncSession.pendingCount(of: brussels) == 0)
        #expect(try ForkQuarantine.entries(of: brussels).isEmpty)
        #expect(!brussels.isRestoreHeld)
        #expect(try partnership.ids("brussels") == before)
        // Through the directory transport itself: the pull keeps nothing either.
        if let result = try? DirectorySync.sync(brussels, with: forger) {
            #expect(result.pulled.forks.isEmpty && result.pulled.appended == 0)
        }
        #expect(try SyncSession.pendingCount(of: brussels) == 0)
        #expect(try ForkQuarantine.entries(of: brussels).isEmpty)
        // A legitimate sync afterwards is no fork.
        try partnership.append("astana", [Fixtures.realisticDraft(4)])
        let later = try DirectorySync.sync(brussels, with: partnership["astana"])
        #expect(later.pulled.forks.isEmpty && later.pulled.appended == 1)
    }

    @Test("two unsigned versions of one place in the input are no fork: neither is anybody's word")
    func twoUnsignedVersionsOfOnePlaceAreNoFork() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let fourth = try EventID(hex: String(repeating: "ab", count: 32))
        let a = try Forger(site: "astana").records(from: 5, prev: fourth, count: 1, salt: 1)
        let b = try Forger(site: "astana").records(from: 5, prev: fourth, count: 1, salt: 2)
        let session = try SyncSession(journal: partnership["brussels"])
        defer { session.close() }
        let summary = try session.apply([a[0].record, b[0].record])
        #expect(summary.forks.isEmpty)
        #expect(summary.notKept == 2)
        #expect(try session.pendingCount() == 0)
    }

    @Test("a trusted peer's event whose clock reading is far ahead is refused at the gate, and nothing is written")
    func aFarFutureClockReadingIsRefusedAtTheGate() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let key = try partnership["astana"].signingKey()
        let bomb = try Forger(site: "astana", key: key).records(from: 1, prev: nil, count: 1, signLast: true, hlc: HybridTimestamp.latest)
        let session = try SyncSession(journal: partnership["brussels"])
        let error = #expect(throws: AccordError.self) { try session.apply([bomb[0].record]) }
        session.close()
        #expect(error?.field == "hlc")
        #expect(error?.message.contains("Nothing was written") == true)
        #expect(try partnership.ids("brussels").count == 0)
        // The receiver's own appends go on, readable.
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        #expect(try partnership["brussels"].verify().isClean)
    }

    @Test("the gate's clock bound: a reading exactly the allowed lead ahead passes, one millisecond more does not")
    func theClockLeadBoundIsExact() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let keys = try partnership["brussels"].trustedKeys()
        let key = try partnership["astana"].signingKey()
        let now = Fixtures.time()
        let edge = now.milliseconds + SyncGate.maxClockLeadMilliseconds
        let at = try Forger(site: "astana", key: key).records(from: 1, prev: nil, count: 1, signLast: true, hlc: HybridTimestamp(milliseconds: edge, counter: UInt32.max))
        let past = try Forger(site: "astana", key: key).records(from: 1, prev: nil, count: 1, signLast: true, hlc: HybridTimestamp(milliseconds: edge + 1, counter: 0))
        #expect(try SyncGate.admit([at[0].record], keys: keys, now: now).bySite[SiteID("astana")]?.count == 1)
        #expect(throws: AccordError.self) { try SyncGate.admit([past[0].record], keys: keys, now: now) }
        #expect(SyncGate.maxClockLeadMilliseconds == 172_800_000)
    }

    @Test("a journal that holds the last readable clock reading refuses to append instead of writing a record no reader accepts")
    func theWriterNeverTicksPastTheLimit() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let key = try partnership["astana"].signingKey()
        let bomb = try Forger(site: "astana", key: key).records(from: 1, prev: nil, count: 1, signLast: true, hlc: HybridTimestamp.latest)
        // Planted past the gate (as an older version of this program let it in).
        let writer = try partnership["brussels"].openWriter()
        try writer.appendReplicated([bomb[0].record])
        let error = #expect(throws: AccordError.self) { try writer.append([Fixtures.realisticDraft(1)], now: Fixtures.time()) }
        writer.close()
        #expect(error?.field == "hlc")
        #expect(error?.message.contains("Nothing was appended") == true)
        let report = try partnership["brussels"].verify()
        #expect(report.isClean, "\(report.problems)")
        #expect(try partnership.ids("brussels").count == 1)
    }

    @Test("a weak key planted in keys/ is refused naming its file, and events forged under it are never applied")
    func aWeakKeyFileIsRefused() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let identity = [UInt8(1)] + [UInt8](repeating: 0, count: 31)
        let brussels = partnership["brussels"]
        try FileDamage.write(brussels.path + "/keys/mallory.pub", Array((Base64.encode(identity) + "\n").utf8))
        let error = #expect(throws: AccordError.self) { try brussels.trustedKeys() }
        #expect(error?.message.contains("keys/mallory.pub") == true)
        #expect(error?.message.contains("small order") == true)
        // An event of 'mallory' with R = identity, S = 0: never applied.
        let forged = try Forger(site: "mallory").records(from: 1, prev: nil, count: 1, signature: identity + [UInt8](repeating: 0, count: 32))
        #expect(throws: AccordError.self) {
            let session = try SyncSession(journal: brussels)
            defer { session.close() }
            try session.apply([forged[0].record])
        }
        #expect(try partnership.ids("brussels").count == 0)
    }
}

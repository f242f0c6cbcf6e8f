import AccordModel
import AccordSync
import AccordTesting
import Testing

/// The gate's quick path for inputs that are one unbroken stretch per site (issue 16) against
/// its general walk, over inputs made to reach every rule: gaps, duplicates, shuffles, several
/// sites interleaved, bad signatures before and after the head, clocks too far ahead, untrusted
/// sites.
@Suite("The gate's quick path for unbroken stretches answers as its general walk does")
struct GateChainTests {
    /// What an answer of the gate is, comparable: the covered ids of each site in order, how
    /// many were not covered, the revoked stretches; or the error.
    static func outcome(_ body: () throws -> SyncGate.Admitted) -> String {
        do {
            let admitted = try body()
            let feeds = admitted.feeds.keys.sorted().map { site in
                "\(site): " + admitted.feeds[site]!.map { "\($0.seq)=\($0.id.short)" }.joined(separator: ",")
            }
            return feeds.joined(separator: "; ") + " | notCovered \(admitted.notCovered) | revoked \(admitted.revoked.map(\.reason))"
        } catch {
            return "error: \(error)"
        }
    }

    /// A feed of `site` in batches of the given sizes, each ending with a signature; the
    /// batches listed in `forged` end with a signature that does not verify.
    static func feed(_ site: String, key: SiteKey, batches: [Int], forged: Set<Int> = [], salt: Int, hlc: HybridTimestamp? = nil) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        var prev: EventID?
        var seq: UInt64 = 1
        for (number, size) in batches.enumerated() {
            let batch = try Forger(site: site, key: key).records(
                from: seq, prev: prev, count: size, signLast: true, salt: salt + Int(seq), hlc: hlc,
                signature: forged.contains(number) ? [UInt8](repeating: 7, count: 64) : nil)
            records += batch.map(\.record)
            prev = batch.last!.id
            seq += UInt64(size)
        }
        return records
    }

    @Test func everyInputGetsTheSameAnswerFromTheQuickPathAsFromTheGeneralWalk() throws {
        let astanaKey = SiteKey(), namibiaKey = SiteKey(), lusakaKey = SiteKey()
        let histories = [try SiteID("astana"): KeyHistory(anchor: astanaKey.publicKey), try SiteID("namibia"): KeyHistory(anchor: namibiaKey.publicKey)]
        let now = Fixtures.time(0)
        // Astana: 40 events in batches 10, 15, 15; Namibia: 30 events, its second batch forged.
        let astana = try Self.feed("astana", key: astanaKey, batches: [10, 15, 15], salt: 100)
        let namibia = try Self.feed("namibia", key: namibiaKey, batches: [12, 8, 10], forged: [1], salt: 500)
        let lusaka = try Self.feed("lusaka", key: lusakaKey, batches: [5], salt: 900)
        let ahead = try Self.feed("astana", key: astanaKey, batches: [6], salt: 300,
                                  hlc: HybridTimestamp(milliseconds: now.milliseconds + SyncGate.maxClockLeadMilliseconds + 1, counter: 0))
        var inputs: [(name: String, records: [[UInt8]])] = [
            ("astana whole", astana), ("namibia whole", namibia), ("both, one after the other", astana + namibia),
            ("both interleaved by batch", Array(astana[0..<10] + namibia[0..<12] + astana[10...] + namibia[12...])),
            ("astana from 11", Array(astana[10...])), ("astana up to 33", Array(astana[..<33])),
            ("astana with a gap", Array(astana[..<12] + astana[13...])), ("astana twice", astana + astana),
            ("astana reversed", astana.reversed()), ("an untrusted site among them", astana + lusaka),
            ("a clock too far ahead", ahead), ("namibia from its forged batch on", Array(namibia[12...])),
            ("namibia from 14", Array(namibia[13...])), ("empty", []),
        ]
        var generator = SeededRandom(seed: 16)
        for round in 0..<40 {
            // Random stretches of each feed, in random site order, sometimes shuffled.
            var records: [[UInt8]] = []
            for feed in [astana, namibia].shuffled(using: &generator) {
                let start = Int.random(in: 0..<feed.count, using: &generator)
                let end = Int.random(in: start...feed.count, using: &generator)
                records += feed[start..<end]
            }
            if round % 5 == 4 { records.shuffle(using: &generator) }
            inputs.append(("random \(round)", records))
        }
        var quick = 0
        for input in inputs {
            let events = try SyncGate.decode(input.records)
            for heads in [[:], [try SiteID("astana"): SequenceNumber(10), try SiteID("namibia"): SequenceNumber(12)],
                          [try SiteID("astana"): SequenceNumber(40), try SiteID("namibia"): SequenceNumber(3)]] {
                let general = Self.outcome { try SyncGate.admitAnyOrder(events, histories: histories, heads: heads, now: now) }
                let gate = Self.outcome { try SyncGate.admit(events: events, histories: histories, heads: heads, now: now) }
                #expect(gate == general, "\(input.name), heads \(heads)")
                if SyncGate.admitChains(events, histories: histories, heads: heads, now: now) != nil { quick += 1 }
            }
        }
        // The quick path answered most of them itself (else this compares the walk with itself).
        #expect(quick >= 60)
    }

    @Test func aForgedSignatureAfterAGapIsLeftUncoveredAndOneRightAfterTheHeadIsRefused() throws {
        let key = SiteKey()
        let histories = [try SiteID("namibia"): KeyHistory(anchor: key.publicKey)]
        let namibia = try Self.feed("namibia", key: key, batches: [12, 8, 10], forged: [1], salt: 500)
        let events = try SyncGate.decode(Array(namibia[12...]))
        // Head 3: events 13… do not reach it, so the forged signature at 20 may be a key rotation's work.
        let uncovered = try #require(SyncGate.admitChains(events, histories: histories, heads: [try SiteID("namibia"): SequenceNumber(3)], now: Fixtures.time(0)))
        #expect(uncovered.feeds[try SiteID("namibia")]?.map(\.seq.rawValue) == Array(13...30))
        #expect(uncovered.notCovered == 0)
        // Head 12: every event before 20 is known, so the gate refuses it.
        #expect(SyncGate.admitChains(events, histories: histories, heads: [try SiteID("namibia"): SequenceNumber(12)], now: Fixtures.time(0)) == nil)
        #expect(throws: AccordError.self) { try SyncGate.admit(events: events, histories: histories, heads: [try SiteID("namibia"): SequenceNumber(12)], now: Fixtures.time(0)) }
    }
}

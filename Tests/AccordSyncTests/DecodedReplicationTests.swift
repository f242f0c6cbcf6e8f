import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Testing

/// Issue 16: a push is decoded once, by the gate; the session hands the decoded events to the
/// writer (``EventWriter/appendReplicated(decoded:allowOwnSite:)``), which checks everything but
/// the decode again. These tests damage the input on purpose and require the same refusal as
/// the path that decodes, with nothing written.
@Suite("A push written from the events the gate decoded (issue 16)")
struct DecodedReplicationTests {
    /// What `attempt` throws, as code and message; nil when it does not throw.
    static func failure(_ attempt: () throws -> Int) -> (code: String, message: String)? {
        do {
            _ = try attempt()
            return nil
        } catch let error as AccordError {
            return (error.code.name, error.message)
        } catch {
            return ("other", "\(error)")
        }
    }

    static func decoded(_ records: [[UInt8]]) throws -> ArraySlice<Event> {
        try EventRecord.decodeAll(records).map { try $0.get() }[...]
    }

    @Test("the decoded path refuses a gap, a stretch that does not continue the feed, an unsigned end, a bad signature, mixed feeds, the own feed and a fork as the decoding path does, and writes nothing")
    func decodedStretchesAreRefusedAsRecordsAre() throws {
        let partnership = try Partnership(["astana", "brussels", "lusaka"])
        let astana = try partnership.append("astana", Fixtures.realisticDrafts(count: 3))
            + partnership.append("astana", Fixtures.realisticDrafts(count: 3, startingAt: 10))
        let records = astana.map(\.record)
        // Astana's site name under another key: every signature is bad here.
        let impostor = try EventJournal.create(at: partnership.temp.child("impostor"), site: SiteID("astana"), seed: Fixtures.seed("not-astana"), partnership: "eu-kz-2022")
        let forged = try impostor.openWriter().append(Fixtures.realisticDrafts(count: 3), now: Fixtures.time()).map(\.record)
        // Astana's key, another history: a fork once 1…3 are here.
        let restored = try EventJournal.create(at: partnership.temp.child("astana-restored"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        let otherHistory = try restored.openWriter().append(Fixtures.realisticDrafts(count: 3, startingAt: 50), now: Fixtures.time()).map(\.record)
        let lusaka = try partnership.append("lusaka", Fixtures.realisticDrafts(count: 2)).map(\.record)
        let own = try partnership.append("brussels", Fixtures.realisticDrafts(count: 2)).map(\.record)

        let brussels = partnership["brussels"]
        let writer = try brussels.openWriter()
        defer { writer.close() }
        func refusedAlike(_ records: [[UInt8]], _ code: AccordError.Code, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let before = try partnership.ids("brussels")
            let heads = writer.heads.mapValues(\.seq)
            let decoding = Self.failure { try writer.appendReplicated(records) }
            let events = try Self.decoded(records)
            let handedOver = Self.failure { try writer.appendReplicated(decoded: events) }
            #expect(decoding?.code == code.name, "\(String(describing: decoding))", sourceLocation: sourceLocation)
            #expect(decoding?.message.contains(words) == true, "\(String(describing: decoding))", sourceLocation: sourceLocation)
            #expect(handedOver?.code == decoding?.code, sourceLocation: sourceLocation)
            #expect(handedOver?.message == decoding?.message, sourceLocation: sourceLocation)
            #expect(try partnership.ids("brussels") == before, "something was written", sourceLocation: sourceLocation)
            #expect(writer.heads.mapValues(\.seq) == heads, sourceLocation: sourceLocation)
        }

        try refusedAlike([records[0], records[1], records[3], records[4], records[5]], .badInput, "not one unbroken stretch of its feed (at 4)")
        try refusedAlike(Array(records[3...5]), .badInput, "do not continue its feed here: expected 1")
        try refusedAlike(Array(records[0..<2]), .untrusted, "do not end with a valid signature")
        try refusedAlike(forged, .untrusted, "do not end with a valid signature of that site")
        try refusedAlike(Array(records[0..<3]) + lusaka, .badInput, "mixes the feeds of 'astana' and 'lusaka'")
        try refusedAlike(own, .badInput, "are appended by this site only")

        // What passes is written, counted once, byte for byte.
        #expect(try writer.appendReplicated(decoded: try Self.decoded(Array(records[0..<3]))) == 3)
        #expect(try writer.appendReplicated(decoded: try Self.decoded(Array(records[0..<3]))) == 0)
        try refusedAlike(otherHistory, .fork, "Fork in feed 'astana' at 1")
        // The overlap, then 4 and 5 without 6, whose signature covers them: refused, nothing written.
        try refusedAlike([records[2], records[3], records[4]], .untrusted, "do not end with a valid signature")
        #expect(try writer.appendReplicated(decoded: try Self.decoded(Array(records[2...5]))) == 3)
        #expect(try brussels.verify().isClean)
        var stored: [[UInt8]] = []
        var read = try brussels.events()
        while let event = try read.next() {
            if event.site.rawValue == "astana" { stored.append(event.record) }
        }
        #expect(stored == records)
    }

    @Test("a push cut into many batches by the session is written whole, every batch ending with its signed event", arguments: [1, 2])
    func aPushInManyBatchesIsWrittenWhole(sizeFactor: Int) throws {
        let partnership = try Partnership(["astana", "brussels"])
        // Batches of 1, 20, 2, 1 and 12 events, each ending with a signed event.
        var sent: [Event] = []
        for (n, size) in [1, 20, 2, 1, 12].enumerated() {
            sent += try partnership.append("astana", Fixtures.realisticDrafts(count: size, startingAt: n * 100))
        }
        let largest = sent.map(\.record.count).max()! + 1
        let session = try SyncSession(journal: partnership["brussels"])
        // Factor 1: every signed event closes a batch. Factor 2: the single events close none,
        // and the 20 unsigned ones reach three times the size before their signed event, so
        // that a batch is cut at the last signed event before them.
        session.chunkBytes = sizeFactor == 1 ? 1 : 2 * largest
        let summary = try session.apply(sent.map(\.record), events: try SyncGate.decode(sent.map(\.record)))
        session.close()
        #expect(summary.appended == sent.count)
        #expect(summary.notKept == 0 && summary.pending == 0 && summary.forks.isEmpty)
        let brussels = partnership["brussels"]
        #expect(try brussels.verify().isClean)
        var stored: [[UInt8]] = []
        var read = try brussels.events()
        while let event = try read.next() { stored.append(event.record) }
        #expect(stored == sent.map(\.record))
    }

    @Test("a damaged push through the session — a flipped byte, a broken chain, a bad signature, two versions of one event — is refused by the gate as before, and nothing is written")
    func aDamagedPushIsRefusedAndNothingIsWritten() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let records = try partnership.append("astana", Fixtures.realisticDrafts(count: 4)).map(\.record)
            + partnership.append("astana", Fixtures.realisticDrafts(count: 4, startingAt: 20)).map(\.record)
        let impostor = try EventJournal.create(at: partnership.temp.child("impostor"), site: SiteID("astana"), seed: Fixtures.seed("not-astana"), partnership: "eu-kz-2022")
        let forged = try impostor.openWriter().append(Fixtures.realisticDrafts(count: 4), now: Fixtures.time()).map(\.record)
        let restored = try EventJournal.create(at: partnership.temp.child("astana-restored"), site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
        let otherHistory = try restored.openWriter().append(Fixtures.realisticDrafts(count: 4, startingAt: 50), now: Fixtures.time()).map(\.record)
        var flipped = records
        flipped[5][flipped[5].count / 2] ^= 0x01
        let brussels = partnership["brussels"]
        let before = try partnership.ids("brussels")

        func refused(_ input: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) -> (code: String, message: String)? {
            do {
                let session = try SyncSession(journal: brussels)
                defer { session.close() }
                _ = try session.apply(input, events: try SyncGate.decode(input))
                return nil
            } catch let error as AccordError {
                return (error.code.name, error.message)
            } catch let error as SyncError {
                return (error.code.name, error.message)
            } catch {
                return ("other", "\(error)")
            }
        }
        let damaged = refused(flipped)
        #expect(damaged?.code == "damaged")
        #expect(damaged?.message.hasPrefix("Received record 6 is not a valid event") == true, "\(String(describing: damaged))")
        let forgedOutcome = refused(forged)
        #expect(forgedOutcome?.code == "untrusted", "\(String(describing: forgedOutcome))")
        #expect(forgedOutcome?.message.hasSuffix("Nothing was written.") == true)
        // Two signed versions of events 1…4 in one push.
        let forked = refused(records + otherHistory)
        #expect(forked?.code == "fork", "\(String(describing: forked))")
        #expect(forked?.message.contains("the input itself holds two different signed events there") == true)
        #expect(try partnership.ids("brussels") == before)
        #expect(try SyncSession.pendingCount(of: brussels) == 0)

        // A broken chain (event 3 left out): what the signature of event 4 covers is kept
        // waiting for 3, nothing of Astana's feed is written.
        let session = try SyncSession(journal: brussels)
        let gap = try session.apply(Array(records[0..<2] + records[3...]))
        session.close()
        #expect(gap.appended == 0)
        #expect(try partnership.ids("brussels") == before)
    }
}

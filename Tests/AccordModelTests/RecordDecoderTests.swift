@testable import AccordModel
import AccordTesting
import Crypto
import Testing

/// The one-pass decoder (`CanonicalRecordDecoder`) must accept exactly the records that the
/// reference decoder (`EventRecord.decodeByReencoding`: parse, re-encode, compare, re-hash)
/// accepts, and decode them to the same event. These tests compare the two on generated
/// records of every shape and on records damaged on purpose, many of them re-hashed so that
/// the id still matches and only the canonical-form checks stand between them and acceptance.
@Suite("One-pass record decoder against the reference")
struct RecordDecoderTests {
    /// A small deterministic generator (SplitMix64), so that a failure names a reproducible case.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let alphabet: [String] = ["a", "z", "0", "-", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "Қ", "€", "😀", "e\u{301}", "\u{8}", "\u{C}", "\r"]

    static func text(_ g: inout Generator, maxLength: Int = 12) -> String {
        String((0..<Int.random(in: 0...maxLength, using: &g)).map { _ in alphabet.randomElement(using: &g)! }.joined())
    }

    static func value(_ g: inout Generator, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .number(String(Int64.random(in: -999_999_999_999_999_999...999_999_999_999_999_999, using: &g) >> Int.random(in: 0...60, using: &g)))
        case 3, 4: return .string(text(&g))
        case 5: return .string(String(Int.random(in: 0...1_000_000, using: &g)) + "." + String(Int.random(in: 0...99, using: &g)))
        case 6: return .array((0..<Int.random(in: 0...3, using: &g)).map { _ in value(&g, depth: depth + 1) })
        default: return .object(object(&g, depth: depth + 1))
        }
    }

    static func object(_ g: inout Generator, depth: Int) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = []
        for _ in 0..<Int.random(in: 0...5, using: &g) {
            let key = text(&g, maxLength: 6)
            if members.contains(where: { sameBytes($0.key, key) }) { continue }
            members.append((key, value(&g, depth: depth)))
        }
        return JSONObject(members)
    }

    /// Data nested `levels` objects deep inside `data` (data itself is level 2 of the record).
    static func nested(_ levels: Int) -> JSONObject {
        var inner = JSONObject([("leaf", .string("x"))])
        for _ in 0..<levels { inner = JSONObject([("n", .object(inner))]) }
        return inner
    }

    /// A valid stored record with generated fields.
    static func record(_ g: inout Generator, data: JSONObject? = nil) throws -> [UInt8] {
        let sites = ["brussels", "astana", "windhoek", "a", "site-9"]
        let site = try SiteID(sites.randomElement(using: &g)!)
        let seq = UInt64.random(in: 1...3, using: &g) == 1 ? 1 : UInt64.random(in: 2...999_999_999_999_999_999, using: &g)
        let prev = seq == 1 ? nil : EventID(digest: SHA256.hash(data: Array(String(seq).utf8)))
        let nanos: Int32 = [0, 500_000_000, 1, 120_000_000, Int32.random(in: 0..<1_000_000_000, using: &g)].randomElement(using: &g)!
        let time = Timestamp(seconds: Int64.random(in: -62_167_219_200...253_402_300_799, using: &g), nanoseconds: nanos)
        let hlc = HybridTimestamp(milliseconds: Int64.random(in: 0...999_999_999_999_999_999, using: &g) >> Int.random(in: 0...62, using: &g),
                                  counter: UInt32.random(in: 0...UInt32.max, using: &g) >> UInt32.random(in: 0...31, using: &g))
        var seen: [SiteID: SequenceNumber] = [:]
        for other in sites where Bool.random(using: &g) { seen[try SiteID(other)] = SequenceNumber(UInt64.random(in: 0...99, using: &g)) }
        let canonical = try EventRecord.canonicalBytes(
            site: site, seq: SequenceNumber(seq), prev: prev, time: time, hlc: hlc, seen: seen,
            type: EventType(["finance.committed.v2", "x.v1", "a-b.c9.v123456789", "industry.milestone.reached.v1"].randomElement(using: &g)!),
            subject: try Subject(["funding/eib-kz-h2", "a/b", "project/x-1"].randomElement(using: &g)!),
            actor: ["eu-secretariat", "astana/kz-secretariat", "a.b"].randomElement(using: &g)!,
            data: data ?? object(&g, depth: 2))
        let signature = Bool.random(using: &g) ? (0..<64).map { _ in UInt8.random(in: 0...255, using: &g) } : nil
        return EventRecord.record(canonical: canonical, id: EventRecord.id(ofCanonical: canonical), signature: signature)
    }

    /// The record for canonical bytes that may have been damaged: the id is their SHA-256, so
    /// only the canonical-form checks can refuse it.
    static func rehashed(_ canonical: [UInt8]) -> [UInt8] {
        guard canonical.count >= 2 else { return canonical }
        let id = EventRecord.id(ofCanonical: canonical)
        return Array("{\"id\":\"\(id.hex)\",".utf8) + canonical[1..<(canonical.count - 1)] + [UInt8(ascii: "}")]
    }

    /// The canonical bytes of a stored record (dropping `"id":…,` and `,"sig":…`).
    static func canonical(of record: [UInt8]) -> [UInt8] {
        var body = Array(record[73...])
        if let range = String(decoding: body, as: UTF8.self).range(of: ",\"sig\":\"") {
            body = Array(String(decoding: body, as: UTF8.self)[..<range.lowerBound].utf8)
        } else {
            body.removeLast()
        }
        return [UInt8(ascii: "{")] + body + [UInt8(ascii: "}")]
    }

    /// Both decoders on `record`: they must agree on acceptance and, when accepting, on every field.
    /// Returns whether the reference accepted the record.
    @discardableResult
    static func expectAgreement(_ record: [UInt8], _ label: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let fast = record.withUnsafeBytes { CanonicalRecordDecoder.decode($0) }
        let reference = try? EventRecord.decodeByReencoding(record)
        // The decoding every caller gets (`data` checked, built only when read) accepts and
        // refuses alike, and agrees on every field, `data` included once it is built.
        var memo = CanonicalRecordDecoder.Memo()
        let envelope = try? EventRecord.decode(record, memo: &memo)
        #expect((envelope == nil) == (reference == nil),
                "\(label()): envelope-only \(envelope == nil ? "refused" : "accepted"), reference \(reference == nil ? "refused" : "accepted"): \(String(decoding: record, as: UTF8.self))",
                sourceLocation: sourceLocation)
        if let envelope, let reference {
            let same = envelope.id == reference.id && envelope.site == reference.site && envelope.seq == reference.seq
                && envelope.prev == reference.prev && sameBytes(envelope.time.text, reference.time.text) && envelope.hlc == reference.hlc
                && envelope.seen == reference.seen && envelope.type == reference.type && envelope.subject == reference.subject
                && sameBytes(envelope.actor, reference.actor) && envelope.signature == reference.signature && envelope.record == reference.record
                && envelope.data == reference.data
            #expect(same, "\(label()): the deferred-data decoding disagrees", sourceLocation: sourceLocation)
        }
        guard let fast, let reference else {
            #expect(fast == nil && reference == nil,
                    "\(label()): fast \(fast == nil ? "refused" : "accepted"), reference \(reference == nil ? "refused" : "accepted"): \(String(decoding: record, as: UTF8.self))",
                    sourceLocation: sourceLocation)
            return reference != nil
        }
        let same = fast.id == reference.id && fast.site == reference.site && fast.seq == reference.seq && fast.prev == reference.prev
            && fast.time == reference.time && sameBytes(fast.time.text, reference.time.text) && fast.hlc == reference.hlc
            && fast.seen == reference.seen && fast.type == reference.type && fast.subject == reference.subject
            && sameBytes(fast.actor, reference.actor) && fast.data == reference.data && fast.signature == reference.signature
            && fast.record == reference.record
        #expect(same, "\(label()): the decoders disagree on \(String(decoding: record, as: UTF8.self))", sourceLocation: sourceLocation)
        return true
    }

    @Test func generatedRecordsOfEveryShapeAreAcceptedByBothAlike() throws {
        var g = Generator(state: 1)
        for n in 0..<2_000 {
            let record = try Self.record(&g)
            #expect(record.withUnsafeBytes { CanonicalRecordDecoder.decode($0) } != nil,
                    "record \(n) refused by the one-pass decoder: \(String(describing: Result { try EventRecord.decodeByReencoding(record) }))")
            Self.expectAgreement(record, "generated record \(n)")
        }
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        for event in try journal.openWriter().append(Fixtures.realisticDrafts(count: 300), now: Fixtures.time()) {
            Self.expectAgreement(event.record, "realistic event \(event.seq)")
            // Decoding leaves the payload unbuilt until it is read, then gives the draft's.
            let decoded = try EventRecord.decode(event.record)
            #expect(!decoded.isDataBuilt)
            #expect(decoded.data == (try EventRecord.decodeByReencoding(event.record)).data)
            #expect(decoded.isDataBuilt)
        }
    }

    @Test func decodingWithValuesRememberedFromEarlierRecordsGivesTheSameEvents() throws {
        var g = Generator(state: 5)
        // Records that share times and types, as a batch's do, and some that differ.
        var records: [[UInt8]] = []
        for n in 0..<500 { records.append(try Self.record(&g, data: n % 3 == 0 ? nil : JSONObject([("n", .number(String(n)))]))) }
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        records += try journal.openWriter().append(Fixtures.realisticDrafts(count: 300), now: Fixtures.time()).map(\.record)
        var memo = CanonicalRecordDecoder.Memo()
        for (n, record) in records.enumerated() {
            let alone = try EventRecord.decodeByReencoding(record)
            let remembered = try EventRecord.decode(record, memo: &memo)
            #expect(remembered.time == alone.time && sameBytes(remembered.time.text, alone.time.text) && remembered.type == alone.type
                    && remembered.id == alone.id && remembered.data == alone.data, "record \(n)")
        }
        // Decoded in chunks on several threads, with one memo per chunk: the same again.
        #expect(EventRecord.decodeAll(records).map { try? $0.get().id } == records.map { try? EventRecord.decodeByReencoding($0).id })
    }

    @Test func decodingALargeBatchOnSeveralThreadsGivesEachRecordsOwnResultInOrder() throws {
        // decodeAll writes each chunk's results in place in one array: a record's result must
        // land at its own index, across chunk boundaries (the damaged ones sit on both sides of
        // them and at the very end), and a failure there must be that record's own.
        var g = Generator(state: 16)
        let count = 3 * EventRecord.decodeChunk + 7
        var records: [[UInt8]] = []
        for _ in 0..<count { records.append(try Self.record(&g)) }
        let damagedAt = [0, EventRecord.decodeChunk - 1, EventRecord.decodeChunk, 2 * EventRecord.decodeChunk + 1, count - 1]
        for index in damagedAt { records[index][10] ^= 0x01 }  // a digit of the id: it no longer matches
        let decoded = EventRecord.decodeAll(records)
        #expect(decoded.count == count)
        for (index, (record, result)) in zip(records, decoded).enumerated() {
            switch (result, Result { try EventRecord.decode(record) }) {
            case (.success(let event), .success(let alone)):
                #expect(event.id == alone.id && event.record == record, "record \(index)")
            case (.failure(let error), .failure(let alone)):
                #expect("\(error)" == "\(alone)", "record \(index)")
            default:
                Issue.record("record \(index): decoded alone and in a batch, it gives different outcomes")
            }
            #expect(((try? result.get()) == nil) == damagedAt.contains(index), "record \(index)")
        }
    }

    @Test func theLastIDIsReusedForPrevOnlyWhenAllItsDigitsAreTheSame() throws {
        // The decoder remembers the last record's id and reuses it for the next record's `prev`
        // when the 64 digits are the same bytes: a `prev` that differs in its first or last
        // digit (a fork, re-hashed so that only the decoding decides) must get its own value.
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let records = try journal.openWriter().append(Fixtures.realisticDrafts(count: 40), now: Fixtures.time()).map(\.record)
        var memo = CanonicalRecordDecoder.Memo()
        for (n, record) in records.enumerated() {
            let decoded = try EventRecord.decode(record, memo: &memo)
            #expect(decoded.prev == (try EventRecord.decodeByReencoding(record)).prev, "record \(n)")
            guard n + 1 < records.count else { break }
            for digit in [0, 63] {
                var canonical = Self.canonical(of: records[n + 1])
                let text = String(decoding: canonical, as: UTF8.self)
                let prevAt = text.utf8.count - (text.components(separatedBy: "\"prev\":\"").last?.utf8.count ?? 0)
                canonical[prevAt + digit] = canonical[prevAt + digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
                let forked = Self.rehashed(canonical)
                var copy = memo
                let forkedEvent = try EventRecord.decode(forked, memo: &copy)
                #expect(forkedEvent.prev == (try EventRecord.decodeByReencoding(forked)).prev && forkedEvent.prev != decoded.id,
                        "record \(n + 1), digit \(digit) of prev changed")
            }
        }
    }

    @Test(arguments: [61, 62, 63])
    func nestingIsLimitedAtTheParsersDepth(levels: Int) throws {
        var g = Generator(state: UInt64(levels))
        // `data` is level 2 of the record: 62 more levels reach the limit of 64.
        let accepted = Self.expectAgreement(try Self.record(&g, data: Self.nested(levels)), "data nested \(levels) levels")
        #expect(accepted == (levels <= 62))
        // Arrays count as levels too.
        var inner = JSONValue.array([])
        for _ in 0..<levels { inner = .array([inner]) }
        let arrays = Self.expectAgreement(try Self.record(&g, data: JSONObject([("a", inner)])), "arrays nested \(levels) levels")
        #expect(arrays == (levels <= 61))
    }

    @Test func damagedRecordsAreRefusedOrAcceptedByBothAlike() throws {
        var g = Generator(state: 7)
        let interesting: [UInt8] = Array("\"\\/{}[],:019-.eEtnuafAFZT ".utf8) + [0x00, 0x08, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var cases = 0, accepted = 0
        for n in 0..<400 {
            let record = try Self.record(&g)
            let canonical = Self.canonical(of: record)
            for _ in 0..<12 {
                var damaged = canonical
                let position = Int.random(in: 0..<damaged.count, using: &g)
                switch Int.random(in: 0..<4, using: &g) {
                case 0: damaged[position] = interesting.randomElement(using: &g)!
                case 1: damaged.remove(at: position)
                case 2: damaged.insert(interesting.randomElement(using: &g)!, at: position)
                default: damaged[position] ^= 1 << UInt8.random(in: 0...7, using: &g)
                }
                // Re-hashed: only the form checks can refuse it.
                if Self.expectAgreement(Self.rehashed(damaged), "record \(n), canonical bytes damaged at \(position), re-hashed") { accepted += 1 }
                cases += 1
            }
            // Damage to the stored record itself, id and signature included.
            var damaged = record
            damaged[Int.random(in: 0..<damaged.count, using: &g)] = interesting.randomElement(using: &g)!
            Self.expectAgreement(damaged, "record \(n) damaged")
            cases += 1
        }
        #expect(cases == 400 * 13)
        // Both outcomes occur often: damage inside a string's text keeps a valid record.
        #expect(accepted > 200 && cases - accepted > 2_000, "\(accepted) of \(cases) accepted")
    }

    @Test func everyTruncationIsRefusedByBoth() throws {
        var g = Generator(state: 11)
        for n in 0..<5 {
            let record = try Self.record(&g)
            for cut in 0..<record.count {
                let truncated = Array(record[..<cut])
                #expect(truncated.withUnsafeBytes { CanonicalRecordDecoder.decode($0) } == nil, "record \(n) cut at \(cut) accepted")
                #expect((try? EventRecord.decodeByReencoding(truncated)) == nil)
                #expect((try? EventRecord.decode(truncated)) == nil, "record \(n) cut at \(cut) accepted with its data deferred")
            }
        }
    }

    @Test func textThatIsValidJSONButNotTheStoredFormIsRefusedByBoth() throws {
        let canonical = Array(#"{"site":"astana","seq":2,"prev":"0000000000000000000000000000000000000000000000000000000000000000","time":"2023-05-19T08:30:00.5Z","hlc":"1684485000500:3","seen":{"brussels":5},"type":"t.v1","subject":"a/b","actor":"a","data":{"a":"\u001f","b":[1,-2]}}"#.utf8)
        Self.expectAgreement(Self.rehashed(canonical), "canonical")
        #expect(Self.rehashed(canonical).withUnsafeBytes { CanonicalRecordDecoder.decode($0) } != nil)
        let variants: [(String, String)] = [
            (#""data":{"a":"\u001f""#, #""data":{"a":"\u001F""#),           // upper-case hex
            (#""data":{"a":"\u001f""#, #""data":{"a":"\u0041""#),           // an escape with no canonical use
            (#""subject":"a/b""#, #""subject":"a\/b""#),                   // an escaped slash
            (#""data":{"a":"\u001f","b":[1,-2]}"#, #""data":{"b":[1,-2],"a":"\u001f"}"#),  // keys out of order
            (#""b":[1,-2]"#, #""b":[1,-2.0]"#),                              // a fraction
            (#""b":[1,-2]"#, #""b":[1,-0]"#),                                // minus zero
            (#""b":[1,-2]"#, #""b":[1, -2]"#),                               // whitespace
            (#""time":"2023-05-19T08:30:00.5Z""#, #""time":"2023-05-19T08:30:00.50Z""#),  // a trailing zero
            (#""time":"2023-05-19T08:30:00.5Z""#, #""time":"2023-05-19t08:30:00.5Z""#),
            (#""time":"2023-05-19T08:30:00.5Z""#, #""time":"2023-05-19T11:30:00.5+03:00""#),
            (#""hlc":"1684485000500:3""#, #""hlc":"1684485000500:03""#),
            (#""seen":{"brussels":5}"#, #""seen":{"astana":5,"brussels":5}"#),  // its own site
            (#""seen":{"brussels":5}"#, #""seen":{"brussels":0}"#),
            (#""seq":2"#, #""seq":02"#),
        ]
        for (original, replacement) in variants {
            let text = String(decoding: canonical, as: UTF8.self)
            #expect(text.contains(original), "\(original) not found")
            let changed = Array(text.replacingOccurrences(of: original, with: replacement).utf8)
            let record = Self.rehashed(changed)
            #expect(record.withUnsafeBytes { CanonicalRecordDecoder.decode($0) } == nil, "\(replacement) accepted")
            Self.expectAgreement(record, replacement)
        }
    }

    @Test func eventIDsHeldAsBytesKeepTheTextAndOrderOfTheirHexDigits() throws {
        var g = Generator(state: 13)
        var ids: [(id: EventID, text: String)] = []
        for n in 0..<500 {
            let digest = SHA256.hash(data: Array(String(n).utf8))
            let text = digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            let id = EventRecord.id(ofCanonical: Array(String(n).utf8))
            #expect(id.hex == text && id.description == text && id.short == String(text.prefix(12)))
            #expect(try EventID(hex: text) == id)
            var appended: [UInt8] = [0x7B]
            id.appendHex(to: &appended)
            #expect(appended == [0x7B] + Array(text.utf8))
            ids.append((id, text))
            // Any digit changed to one that is not a lower-case hex digit is refused.
            var bad = Array(text.utf8)
            bad[Int.random(in: 0..<64, using: &g)] = Array("ABCDEFgz/:`G \u{0}".utf8).randomElement(using: &g)!
            #expect((try? EventID(hex: String(decoding: bad, as: UTF8.self))) == nil, "\(String(decoding: bad, as: UTF8.self)) accepted")
        }
        #expect((try? EventID(hex: String(ids[0].text.dropLast()))) == nil)
        #expect((try? EventID(hex: ids[0].text + "0")) == nil)
        #expect((try? EventID(hex: "")) == nil)
        // Ordered as the hex digits are (byte order); equal and hashed by value.
        for (a, b) in zip(ids, ids.shuffled(using: &g)) {
            #expect((a.id < b.id) == Array(a.text.utf8).lexicographicallyPrecedes(Array(b.text.utf8)))
            #expect((a.id == b.id) == (a.text == b.text))
        }
        #expect(Set(ids.map(\.id)).count == 500)
    }

    @Test func theWritersOneBufferRecordIsTheCanonicalRecordByteForByte() throws {
        var g = Generator(state: 17)
        let sites = ["brussels", "astana", "windhoek", "a", "site-9"]
        for n in 0..<1_000 {
            let site = try SiteID(sites.randomElement(using: &g)!)
            let seq = UInt64.random(in: 1...3, using: &g) == 1 ? 1 : UInt64.random(in: 2...999_999_999_999_999_999, using: &g)
            let prev = seq == 1 ? nil : EventRecord.id(ofCanonical: Array(String(seq).utf8))
            let time = Timestamp(seconds: Int64.random(in: -62_167_219_200...253_402_300_799, using: &g),
                                 nanoseconds: [0, 500_000_000, 1, Int32.random(in: 0..<1_000_000_000, using: &g)].randomElement(using: &g)!)
            let hlc = HybridTimestamp(milliseconds: Int64.random(in: 0...999_999_999_999_999, using: &g) >> Int.random(in: 0...50, using: &g),
                                      counter: UInt32.random(in: 0...UInt32.max, using: &g) >> UInt32.random(in: 0...31, using: &g))
            var seen: [SiteID: SequenceNumber] = [:]
            for other in sites where Bool.random(using: &g) { seen[try SiteID(other)] = SequenceNumber(UInt64.random(in: 0...99, using: &g)) }
            let type = EventType(["finance.committed.v2", "x.v1"].randomElement(using: &g)!)
            let subject = try Subject(["funding/eib-kz-h2", "a/b"].randomElement(using: &g)!)
            let actor = ["eu-secretariat", "astana/kz-secretariat", "a.b"].randomElement(using: &g)!
            let data = Self.object(&g, depth: 2)
            var encoded: [UInt8] = []
            try CanonicalJSON.encode(data, into: &encoded, path: "data")
            let signs = Bool.random(using: &g)
            let signature = (0..<64).map { _ in UInt8.random(in: 0...255, using: &g) }
            var signedID: EventID?
            let built = try EventRecord.buildRecord(
                site: site, seq: SequenceNumber(seq), prev: prev, timeText: Array(time.text.utf8), hlc: hlc,
                seenMembers: EventRecord.seenMembers(seen, site: site), type: type, subject: subject, actor: actor,
                encodedData: encoded, sign: signs ? { signedID = $0; return signature } : nil)
            let canonical = try EventRecord.canonicalBytes(
                site: site, seq: SequenceNumber(seq), prev: prev, time: time, hlc: hlc, seen: seen, type: type,
                subject: subject, actor: actor, data: data)
            let id = EventRecord.id(ofCanonical: canonical)
            #expect(built.id == id, "record \(n): id")
            #expect(built.record == EventRecord.record(canonical: canonical, id: id, signature: signs ? signature : nil), "record \(n)")
            #expect(built.signature == (signs ? signature : nil) && signedID == (signs ? id : nil), "record \(n): signature")
            #expect(try EventRecord.decodeByReencoding(built.record).id == id)
        }
    }

    /// One memo across a run of one site's records (as a batch is decoded), with envelopes
    /// damaged and re-hashed between them: a remembered `site`, `seen` or `actor` must never
    /// let a damaged record through, nor change what a good one decodes to.
    @Test func valuesRememberedFromEarlierRecordsNeverLetADamagedEnvelopeThrough() throws {
        var g = Generator(state: 19)
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        // Brussels's records, given a `seen` that they share (re-hashed), as a batch's events do.
        let good = try journal.openWriter().append(Fixtures.realisticDrafts(count: 300), now: Fixtures.time()).map { event in
            Self.rehashed(Array(String(decoding: Self.canonical(of: event.record), as: UTF8.self)
                .replacingOccurrences(of: "\"seen\":{}", with: "\"seen\":{\"almaty\":5,\"astana\":12}").utf8))
        }
        #expect(good.allSatisfy { String(decoding: $0, as: UTF8.self).contains("\"seen\":{\"almaty\":5,\"astana\":12}") })
        let interesting: [UInt8] = Array("\"\\/{}[],:019-.a".utf8) + [0x00, 0x1F, 0x80, 0xC3]
        var memo = CanonicalRecordDecoder.Memo()
        var refused = 0
        func same(_ a: Event, _ b: Event) -> Bool {
            a.id == b.id && a.site == b.site && a.seq == b.seq && a.prev == b.prev && a.seen == b.seen && sameBytes(a.actor, b.actor)
                && a.type == b.type && a.subject == b.subject && a.time == b.time && a.hlc == b.hlc && a.data == b.data && a.record == b.record
        }
        for (n, record) in good.enumerated() {
            let decoded = try EventRecord.decode(record, memo: &memo)
            #expect(same(decoded, try EventRecord.decodeByReencoding(record)), "record \(n)")
            // Damage between `"site"` and `"data"`, re-hashed so that only the form checks refuse it.
            var damaged = Self.canonical(of: record)
            let dataAt = String(decoding: damaged, as: UTF8.self).utf8.count - (String(decoding: damaged, as: UTF8.self).components(separatedBy: ",\"data\":").last?.utf8.count ?? 0)
            let position = Int.random(in: 1..<max(2, dataAt), using: &g)
            switch Int.random(in: 0..<3, using: &g) {
            case 0: damaged[position] = interesting.randomElement(using: &g)!
            case 1: damaged.remove(at: position)
            default: damaged.insert(interesting.randomElement(using: &g)!, at: position)
            }
            let bad = Self.rehashed(damaged)
            let reference = try? EventRecord.decodeByReencoding(bad)
            let remembered = try? EventRecord.decode(bad, memo: &memo)
            #expect((remembered == nil) == (reference == nil), "record \(n) damaged at \(position): \(String(decoding: bad, as: UTF8.self))")
            if let remembered, let reference { #expect(same(remembered, reference), "record \(n) damaged at \(position)") }
            if reference == nil { refused += 1 }
        }
        #expect(refused > 150, "\(refused) of 300 damaged records refused")
    }
}

import AccordModel
import AccordTesting
import Crypto
import Testing

@Suite("Clock readings and public keys have one bound, shared by writer and readers")
struct ClockAndKeyBoundTests {
    static let limit = HybridTimestamp.latestMilliseconds

    /// A signed record of site `astana` at seq 1 that carries `hlc`.
    static func record(hlc: HybridTimestamp) throws -> [UInt8] {
        let key = try SiteKey(seed: Fixtures.seed("astana"))
        let draft = Fixtures.realisticDraft(1)
        let canonical = try EventRecord.canonicalBytes(
            site: SiteID("astana"), seq: SequenceNumber(1), prev: nil, time: Fixtures.time(), hlc: hlc, seen: [:],
            type: draft.type, subject: draft.subject, actor: "astana", data: draft.data)
        let id = EventRecord.id(ofCanonical: canonical)
        return EventRecord.record(canonical: canonical, id: id, signature: try key.signature(forBatchEndingAt: id))
    }

    @Test func theLimitIsTheGreatestEighteenDigitInteger() {
        #expect(Self.limit == 999_999_999_999_999_999)
        #expect(String(Self.limit).count == 18)
        #expect(HybridTimestamp.latest == HybridTimestamp(milliseconds: Self.limit, counter: UInt32.max))
    }

    @Test(arguments: [
        ("999999999999999998:0", true), ("999999999999999998:4294967295", true),
        ("999999999999999999:0", true), ("999999999999999999:4294967295", true),
        ("1000000000000000000:0", false), ("4611686018427387903:0", false), ("9223372036854775807:0", false),
        ("999999999999999999:4294967296", false), ("0:0", true),
    ])
    func everyReaderAcceptsExactlyTheReadingsUpToTheLimit(text: String, accepted: Bool) throws {
        #expect(((try? HybridTimestamp(parsing: text)) != nil) == accepted, "HybridTimestamp(parsing:) \(text)")
        // The record decoders agree with the parser, at every boundary.
        guard let reading = try? HybridTimestamp(parsing: text) else {
            // Build the record with a reading the parser refuses: the decoders refuse it too.
            guard let colon = text.firstIndex(of: ":"), let ms = Int64(text[..<colon]), let counter = UInt32(text[text.index(after: colon)...]) else { return }
            let record = try Self.record(hlc: HybridTimestamp(milliseconds: ms, counter: counter))
            #expect(throws: AccordError.self) { try EventRecord.decode(record) }
            #expect(throws: AccordError.self) { try EventRecord.decodeByReencoding(record) }
            return
        }
        let record = try Self.record(hlc: reading)
        #expect(try EventRecord.decode(record).hlc == reading)
        #expect(try EventRecord.decodeByReencoding(record).hlc == reading)
    }

    @Test func theClockTicksUpToTheLimitAndRefusesToPassIt() throws {
        var clock = HybridClock(latest: HybridTimestamp(milliseconds: Self.limit - 1, counter: UInt32.max))
        // limit - 1 with a full counter: the next reading moves on to the limit.
        #expect(try clock.tick(physical: 0) == HybridTimestamp(milliseconds: Self.limit, counter: 0))
        clock = HybridClock(latest: HybridTimestamp(milliseconds: Self.limit, counter: UInt32.max - 1))
        #expect(try clock.tick(physical: 0) == HybridTimestamp.latest)
        // At the limit with a full counter there is no readable next reading: refused, clock unchanged.
        let error = #expect(throws: AccordError.self) { try clock.tick(physical: 0) }
        #expect(error?.field == "hlc")
        #expect(error?.message.contains("999999999999999999") == true)
        #expect(clock.latest == HybridTimestamp.latest)
        // Every reading the clock made is readable.
        var late = HybridClock(latest: HybridTimestamp(milliseconds: Self.limit - 1, counter: UInt32.max - 2))
        for _ in 0..<4 {
            let reading = try late.tick(physical: 1_700_000_000_000)
            #expect(try HybridTimestamp(parsing: reading.text) == reading)
        }
    }

    // MARK: Keys

    /// The eight encodings of the points of small order on edwards25519 (the blocklist of
    /// libsodium, and the small-order points of "Taming the many EdDSAs").
    static let smallOrder = [
        "0100000000000000000000000000000000000000000000000000000000000000",  // identity, order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  // order 4, other sign
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  // order 8
    ]

    /// Encodings whose y-coordinate is p = 2^255 - 19 or more (not canonical).
    static let nonCanonical = [
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 1 (= 1, the identity)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = p + 1, sign bit set
        "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 3
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = 2^255 - 1
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = 2^255 - 1, sign bit set
    ]

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test(arguments: smallOrder)
    func aSmallOrderPointIsRefusedAsAKey(hex: String) {
        let raw = Self.bytes(hex)
        #expect(SitePublicKey.weakness(of: raw)?.contains("small order") == true)
        let error = #expect(throws: AccordError.self) { try SitePublicKey(base64: Base64.encode(raw)) }
        #expect(error?.code == .badInput)
        #expect(error?.field == "key")
        #expect(error?.message.contains("small order") == true)
    }

    @Test(arguments: nonCanonical)
    func aNonCanonicalEncodingIsRefusedAsAKey(hex: String) {
        let raw = Self.bytes(hex)
        #expect(SitePublicKey.weakness(of: raw) != nil)
        #expect(throws: AccordError.self) { try SitePublicKey(base64: Base64.encode(raw)) }
    }

    @Test func underTheIdentityAnySignatureOfRIdentityAndSZeroWouldVerify() throws {
        // Why the refusal matters: swift-crypto itself verifies this forgery under the identity.
        let identity = Self.bytes(Self.smallOrder[0])
        let forged = identity + [UInt8](repeating: 0, count: 32)  // R = identity, S = 0
        let raw = try Curve25519.Signing.PublicKey(rawRepresentation: identity)
        #expect(raw.isValidSignature(forged, for: Array("accord-batch-v1:any".utf8)))
        // Accord never takes the identity as a key.
        #expect(throws: AccordError.self) { try SitePublicKey(base64: Base64.encode(identity)) }
    }

    @Test func realKeysAndTheLargestCanonicalYAreAccepted() throws {
        for label in ["astana", "brussels", "lusaka", "x"] {
            let key = try SiteKey(seed: Fixtures.seed(label)).publicKey
            #expect(SitePublicKey.weakness(of: Self.bytes(hexOf(key))) == nil)
            #expect(try SitePublicKey(base64: key.base64) == key)
        }
        for _ in 0..<64 {
            let key = SiteKey().publicKey
            #expect(try SitePublicKey(base64: key.base64) == key)
        }
        // y = p - 1 is canonical (and is the point of order 2, refused as such); y = p - 2 is
        // canonical and not small order.
        #expect(SitePublicKey.weakness(of: Self.bytes("ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")) == nil)
    }

    func hexOf(_ key: SitePublicKey) -> String {
        Base64.decode(key.base64)!.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

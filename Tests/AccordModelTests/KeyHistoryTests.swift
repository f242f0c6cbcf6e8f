import AccordModel
import AccordTesting
import Testing

@Suite("Key histories (Trust.md \"Verification\")")
struct KeyHistoryTests {
    @Test func theDigestRuleHashesTheRawKeyBytesNotTheirBase64() throws {
        // RFC 8032 §7.1, test 1: the public key; the digest as Trust.md gives it (Python's hashlib).
        let key = try SitePublicKey(base64: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        #expect(KeyHistory.digest(of: key) == "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9")
    }

    @Test func keyEventsAreInTheCatalogueWithTheirFieldKinds() throws {
        let digest = String(repeating: "a", count: 64)
        let key = try SiteKey(seed: Fixtures.seed("next")).publicKey.base64
        try Catalogue.validate(type: KeyHistory.inceptionType, subject: Subject("key/brussels"), data: Fixtures.object(#"{"next":"\#(digest)"}"#))
        try Catalogue.validate(type: KeyHistory.revocationType, subject: Subject("key/brussels"),
                               data: Fixtures.object(#"{"fromSeq":4,"key":"\#(key)","next":"\#(digest)","reason":"stolen"}"#))
        // Upper-case hex, a key that is not canonical base64, seq 0: refused.
        #expect(throws: AccordError.self) { try Catalogue.validate(type: KeyHistory.inceptionType, subject: Subject("key/brussels"), data: Fixtures.object(#"{"next":"\#(digest.uppercased())"}"#)) }
        #expect(throws: AccordError.self) {
            try Catalogue.validate(type: KeyHistory.rotationType, subject: Subject("key/brussels"), data: Fixtures.object(#"{"key":"\#(key.dropLast())","next":"\#(digest)"}"#))
        }
        #expect(throws: AccordError.self) {
            try Catalogue.validate(type: KeyHistory.revocationType, subject: Subject("key/brussels"), data: Fixtures.object(#"{"fromSeq":0,"key":"\#(key)","next":"\#(digest)"}"#))
        }
    }

    @Test func aFeedWithoutKeyEventsVerifiesUnderItsAnchorAtEverySeq() throws {
        let anchor = try SiteKey(seed: Fixtures.seed("brussels")).publicKey
        let history = KeyHistory(anchor: anchor)
        #expect(history.key(inForceAt: SequenceNumber(1)) == anchor)
        #expect(history.key(inForceAt: SequenceNumber(1_000_000)) == anchor)
        #expect(!history.hasInception)
    }
}

import AccordModel
import AccordTesting
import Testing

@Suite("Money, text and time keep their exact form")
struct ValuesTests {
    @Test func amountsRoundTripByteExact() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        let amounts = [("80.60", "USD"), ("0.10", "EUR"), ("0.10", "EUR"), ("0.10", "EUR"), ("1234567.89", "KZT"), ("-250000.00", "EUR")]
        let drafts = amounts.enumerated().map { index, amount in
            Fixtures.draft("finance.disbursed.v1", "funding/f-\(index)", #"{"provider":"eib","receiver":"kz-miid","amount":"\#(amount.0)","currency":"\#(amount.1)","date":"2023-01-01"}"#)
        }
        try writer.append(drafts, now: Fixtures.time())
        var events = try journal.events()
        var read: [(String, String)] = []
        while let event = try events.next() {
            read.append((event.data["amount"]!.stringValue!, event.data["currency"]!.stringValue!))
            let text = String(decoding: event.record, as: UTF8.self)
            #expect(text.contains("\"amount\":\"\(read.last!.0)\""))
        }
        #expect(read.map(\.0) == amounts.map(\.0))
        #expect(read.map(\.1) == amounts.map(\.1))
        let money = try Amount(decimal: "80.60", currency: "USD")
        #expect(money.description == "80.60 USD")
    }

    @Test func aJSONNumberAsAmountIsRefusedNamingTheField() throws {
        let draft = Fixtures.draft("finance.committed.v1", "funding/x", #"{"provider":"eib","receiver":"kz","amount":80.60,"currency":"USD","date":"2023-01-01"}"#)
        let error = #expect(throws: AccordError.self) { try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data) }
        #expect(error?.field == "data.amount")
        #expect(error?.message.contains("decimal string") == true)
    }

    @Test(arguments: ["1,5", "1.", ".5", "01.5", "1e3", "+3", "", "١٢٣", "0.0000000001", "1000000000000000000"])
    func malformedDecimalsAreRefused(text: String) {
        #expect(!DecimalText.isValid(text, allowNegative: true))
    }

    @Test(arguments: ["0", "0.10", "-0.5", "1234567.89", "100"])
    func wellFormedDecimalsAreAccepted(text: String) {
        #expect(DecimalText.isValid(text, allowNegative: true))
    }

    @Test func unknownCurrencyCodesAreRefused() {
        #expect(throws: AccordError.self) { try Amount(decimal: "1.00", currency: "XYZ") }
        #expect(throws: AccordError.self) { try Amount(decimal: "1.00", currency: "eur") }
    }

    @Test func namesInNFCAndNFDStayDifferentByteStrings() throws {
        let nfc = "Caf\u{E9}"
        let nfd = "Cafe\u{301}"
        #expect(nfc == nfd)  // Swift's String equality is canonical equivalence …
        #expect(Array(nfc.utf8) != Array(nfd.utf8))  // … but the bytes differ, and bytes are what we keep.
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        try writer.append([
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/a", #"{"name":"\#(nfc)","kind":"research","country":"FR"}"#),
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/b", #"{"name":"\#(nfd)","kind":"research","country":"FR"}"#),
            Fixtures.draft("stakeholder.registered.v1", "stakeholder/kz-government", #"{"name":"Қазақстан Республикасының Үкіметі","kind":"government","country":"KZ"}"#),
        ], now: Fixtures.time())
        var events = try journal.events()
        let a = try #require(try events.next()), b = try #require(try events.next()), kz = try #require(try events.next())
        #expect(Array(a.data["name"]!.stringValue!.utf8) == Array(nfc.utf8))
        #expect(Array(b.data["name"]!.stringValue!.utf8) == Array(nfd.utf8))
        #expect(a.data["name"] != b.data["name"])
        #expect(a.id != b.id)
        #expect(Array(kz.data["name"]!.stringValue!.utf8) == Array("Қазақстан Республикасының Үкіметі".utf8))
        #expect(String(decoding: kz.record, as: UTF8.self).contains("Қазақстан"))
    }

    @Test(arguments: [
        ("2022-11-07T10:00:00Z", "2022-11-07T10:00:00Z"),
        ("2022-11-07T10:00:00.000Z", "2022-11-07T10:00:00Z"),
        ("2022-11-07T10:00:00.120Z", "2022-11-07T10:00:00.12Z"),
        ("2022-11-07T15:00:00+05:00", "2022-11-07T10:00:00Z"),
        ("2022-11-07t01:30:00.5-03:30", "2022-11-07T05:00:00.5Z"),
        ("2022-12-31T23:30:00-01:00", "2023-01-01T00:30:00Z"),
        ("2024-03-01T00:10:00+01:00", "2024-02-29T23:10:00Z"),
        ("2022-11-07T10:00:00.123456789Z", "2022-11-07T10:00:00.123456789Z"),
    ])
    func rfc3339TimesAreStoredInUTC(input: String, stored: String) throws {
        #expect(try Timestamp(rfc3339: input).text == stored)
    }

    @Test(arguments: ["2022-11-07", "2022-11-07T10:00:00", "2022-02-30T10:00:00Z", "2022-11-07T24:00:00Z", "2022-11-07T10:00:60Z",
                      "2022-11-07T10:00:00.Z", "2022-11-07T10:00:00+0500", "0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "2022-11-07 10:00:00Z", "2022-11-07T10:00:00.1234567890Z", "yesterday"])
    func malformedTimesAreRefusedNamingTheField(input: String) {
        let error = #expect(throws: AccordError.self) { try Timestamp(rfc3339: input, field: "time") }
        #expect(error?.field == "time")
    }

    @Test func theHybridClockNeverGoesBackwards() throws {
        var clock = HybridClock()
        let a = try clock.tick(physical: 1000)
        let b = try clock.tick(physical: 999)  // the wall clock stepped back
        let c = try clock.tick(physical: 1000)
        clock.observe(HybridTimestamp(milliseconds: 5000, counter: 7))  // a peer's clock is ahead
        let d = try clock.tick(physical: 1001)
        #expect(a < b && b < c && c < d)
        #expect(d == HybridTimestamp(milliseconds: 5000, counter: 8))
        #expect(try! HybridTimestamp(parsing: d.text) == d)
    }

    @Test func base64RoundTripsAndRejectsNonCanonicalText() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("QQ") == nil)
        #expect(Base64.decode("QR==") == nil)  // non-zero padding bits
    }

    @Test func bytewiseTextFindsEqualBytesWhateverTheStringIsMadeOfAndKeepsNFCAndNFDApart() {
        let long = "participating-org/XM-DAC-41114/caf\u{E9}-\u{41A}\u{430}\u{437}\u{430}\u{445}\u{441}\u{442}\u{430}\u{43D}"
        let bytes = Array(long.utf8)
        let spellings = [
            long,
            String(decoding: bytes, as: UTF8.self),
            String(("x" + long).dropFirst()),
            long.map { String($0) }.joined(),
            String(long.unicodeScalars),
        ]
        var set = Set<BytewiseText>()
        for spelling in spellings { set.insert(BytewiseText(spelling)) }
        #expect(set.count == 1)
        for short in ["caf\u{E9}", "a", ""] { #expect(Set([BytewiseText(short), BytewiseText(String(decoding: Array(short.utf8), as: UTF8.self))]).count == 1) }
        #expect(Set([BytewiseText("caf\u{E9}"), BytewiseText("cafe\u{301}")]).count == 2)
        let decomposed = "participating-org/XM-DAC-41114/cafe\u{301}-\u{41A}\u{430}\u{437}\u{430}\u{445}\u{441}\u{442}\u{430}\u{43D}"
        #expect(decomposed == long)  // Swift's String equates them; BytewiseText must not
        #expect(!set.contains(BytewiseText(decomposed)))
    }
}

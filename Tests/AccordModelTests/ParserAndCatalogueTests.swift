import AccordModel
import AccordTesting
import Testing

@Suite("Strict JSON and the v1 catalogue")
struct ParserAndCatalogueTests {
    @Test(arguments: [
        ("\u{FEFF}{}", "byte-order mark"),
        ("{\"a\":1,\"a\":2}", "appears twice"),
        ("{\"a\":\"\\ud800\"}", "surrogate"),
        ("{\"a\":1", "ends"),
        ("{\"a\":01}", "leading zero"),
        ("{'a':1}", "quoted key"),
        ("{\"a\":\"x\ty\"}", "control character"),
        ("{} {}", "after the JSON value"),
        (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nesting"),
    ])
    func malformedJSONIsRefusedWithAReason(text: String, reason: String) {
        let error = #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // an encoded surrogate
    }

    @Test func escapedNonASCIIDecodesToTheSameBytesAsLiteral() throws {
        let escaped = try JSONParser.parse(Array(#""\u049a\u0430\u0437\ud83d\ude00""#.utf8))
        #expect(escaped == .string("Қаз😀"))
    }

    @Test(arguments: [
        ("no.such.type.v1", "stakeholder/x", #"{}"#, "type"),
        ("stakeholder.registered.v1", "action/x", #"{"name":"A","kind":"government","country":"KZ"}"#, "subject"),
        ("stakeholder.registered.v1", "stakeholder/x", #"{"kind":"government","country":"KZ"}"#, "data.name"),
        ("stakeholder.registered.v1", "stakeholder/x", #"{"name":"A","kind":"ministry","country":"KZ"}"#, "data.kind"),
        ("stakeholder.registered.v1", "stakeholder/x", #"{"name":"A","kind":"government","country":"XX"}"#, "data.country"),
        ("stakeholder.registered.v1", "stakeholder/x", #"{"name":"A","kind":"government","country":"KZ","nmae":"typo"}"#, "data.nmae"),
        ("agreement.signed.v1", "agreement/x", #"{"title":"T","parties":["a"],"date":"2022-11-31"}"#, "data.date"),
        ("agreement.signed.v1", "agreement/x", #"{"title":"T","parties":[],"date":"2022-11-07"}"#, "data.parties"),
        ("action.proposed.v1", "action/x", #"{"title":"T","pillar":"energy"}"#, "data.pillar"),
        ("finance.committed.v1", "funding/x", #"{"provider":"a","receiver":"b","amount":"1.00","currency":"EURO","date":"2023-01-01"}"#, "data.currency"),
        ("finance.committed.v1", "funding/x", #"{"provider":"a","receiver":"b","amount":"1,00","currency":"EUR","date":"2023-01-01"}"#, "data.amount"),
        ("skills.programme.delivered.v1", "programme/x", #"{"title":"T","provider":"a","participants":"12","date":"2023-01-01"}"#, "data.participants"),
        ("skills.programme.delivered.v1", "programme/x", #"{"title":"T","provider":"a","participants":-3,"date":"2023-01-01"}"#, "data.participants"),
        ("action.cancelled.v1", "action/x", #"{}"#, "data.reason"),
        ("stakeholder.updated.v1", "stakeholder/x", #"{}"#, "data"),
        ("research.output.published.v1", "research/x", #"{"title":"T","date":"2023-01-01","url":"ftp://x"}"#, "data.url"),
    ])
    func catalogueViolationsNameTheField(type: String, subject: String, data: String, field: String) throws {
        let error = #expect(throws: AccordError.self) {
            try Catalogue.validate(type: type, subject: try Subject(subject), data: Fixtures.object(data))
        }
        #expect(error?.field == field, "\(String(describing: error))")
    }

    /// Codes and URL schemes are compared as bytes (Format.md, Conventions; §7.5): a Kelvin sign
    /// (U+212A) is canonically equivalent to `K`, so `Set<String>` took "\u{212A}Z" for `KZ`;
    /// and `hasPrefix` compares characters, so a scheme followed by a combining mark was no
    /// prefix, though Format.md's `url` allows any byte from 0x80 after it.
    @Test func codesAndURLSchemesAreComparedAsBytes() throws {
        let kelvinCountry = #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "stakeholder.registered.v1", subject: try Subject("stakeholder/x"),
                                   data: JSONObject([("name", .string("A")), ("kind", .string("government")), ("country", .string("\u{212A}Z"))]))
        }
        #expect(kelvinCountry?.field == "data.country")
        let kelvinCurrency = #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "finance.committed.v1", subject: try Subject("funding/x"),
                                   data: JSONObject([("provider", .string("a")), ("receiver", .string("b")), ("amount", .string("1.00")),
                                                     ("currency", .string("\u{212A}ZT")), ("date", .string("2023-01-01"))]))
        }
        #expect(kelvinCurrency?.field == "data.currency")
        #expect(throws: AccordError.self) { try Amount(decimal: "1.00", currency: "\u{212A}ZT") }
        #expect(!Codes.isCountry("\u{212A}Z") && Codes.isCountry("KZ") && !Codes.isCurrency("\u{212A}ZT") && Codes.isCurrency("KZT"))
        for url in ["https://\u{301}x.example", "http://\u{20DD}", "https://"] {
            try Catalogue.validate(type: "research.output.published.v1", subject: try Subject("research/r"),
                                   data: JSONObject([("title", .string("T")), ("date", .string("2023-01-01")), ("url", .string(url))]))
        }
    }

    @Test func everyRealisticFixtureEventIsValid() throws {
        for draft in Fixtures.realisticDrafts(count: 20) {
            try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
        }
    }

    @Test(arguments: ["Brussels", "astana_1", "-astana", "astana-", "a--b", "", String(repeating: "a", count: 65)])
    func siteNamesMustBeSlugs(name: String) {
        #expect(throws: AccordError.self) { try SiteID(name) }
    }
}

@Suite("Large JSON objects")
struct LargeObjectTests {
    @Test func duplicateKeysAreFoundInLargeObjectsToo() throws {
        let keys = (0..<5000).map { "\"k\($0)\":\($0)" }
        #expect(throws: Never.self) { try JSONParser.parse(Array(("{" + keys.joined(separator: ",") + "}").utf8)) }
        let duplicated = keys + ["\"k4321\":0"]
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(("{" + duplicated.joined(separator: ",") + "}").utf8)) }
        // Canonically equivalent but different bytes: two keys, not a duplicate.
        let unicode = keys + ["\"Caf\u{E9}\":1", "\"Cafe\u{301}\":2"]
        #expect(throws: Never.self) { try JSONParser.parse(Array(("{" + unicode.joined(separator: ",") + "}").utf8)) }
    }
}

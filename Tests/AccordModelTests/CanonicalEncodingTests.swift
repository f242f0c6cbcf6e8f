import AccordModel
import AccordTesting
import Testing

@Suite("Canonical encoding and event ids")
struct CanonicalEncodingTests {
    /// Golden vectors: canonical bytes written out by hand, and their SHA-256 computed outside
    /// Swift (`printf '%s' BYTES | sha256sum`). They must match on every platform and forever
    /// (Format.md §7.2, §7.3).
    static let golden: [(canonical: String, id: String)] = [
        (
            #"{"site":"brussels","seq":1,"prev":null,"time":"2022-11-07T10:00:00Z","hlc":"1667815200000:0","seen":{},"type":"agreement.signed.v1","subject":"agreement/eu-kz-mou-2022","actor":"eu-secretariat","data":{"date":"2022-11-07","parties":["european-commission","kz-government"],"place":"Sharm el-Sheikh","title":"Memorandum of Understanding on a strategic partnership on raw materials, batteries and renewable hydrogen"}}"#,
            "fbd511b50c09e8f9a21b509237e41e0b40df47e1730575c8e5c7c3665c3e3c4e"
        ),
        (
            #"{"site":"astana","seq":2,"prev":"0000000000000000000000000000000000000000000000000000000000000000","time":"2023-05-19T08:30:00.5Z","hlc":"1684485000500:3","seen":{"brussels":5,"windhoek":12},"type":"finance.committed.v1","subject":"funding/h2-feasibility","actor":"kz-secretariat","data":{"amount":"1234567.89","currency":"KZT","date":"2023-05-19","provider":"kz-government","receiver":"kz-miid"}}"#,
            "ae416f68207cd2c104905d0f2b2c9c9a70d89dabc54be23bd9cadfce4c6036bd"
        ),
        (
            #"{"site":"astana","seq":3,"prev":"1111111111111111111111111111111111111111111111111111111111111111","time":"2023-05-20T00:00:00Z","hlc":"1684540800000:0","seen":{"brussels":7},"type":"stakeholder.registered.v1","subject":"stakeholder/kz-government","actor":"kz-secretariat","data":{"country":"KZ","kind":"government","name":"Қазақстан Республикасының Үкіметі \"quoted\" \\ tab\t"}}"#,
            "ab4b6bc3483677d00b2263a05f44b783dea186d186d8aac2a77daeb4353f8f8e"
        ),
    ]

    @Test(arguments: 0..<3)
    func canonicalBytesAndIdsMatchTheGoldenVectors(index: Int) throws {
        let vector = Self.golden[index]
        let bytes = Array(vector.canonical.utf8)
        // Decode the golden text with the strict parser, then re-encode the envelope from values.
        guard case .object(let object) = try JSONParser.parse(bytes) else { Issue.record("not an object"); return }
        let prev = object["prev"]?.stringValue
        let data: JSONObject
        guard case .object(let parsedData)? = object["data"] else { Issue.record("no data"); return }
        // Shuffle the data's members: canonical order must not depend on input order.
        data = JSONObject(parsedData.members.reversed())
        guard case .number(let seq)? = object["seq"] else { Issue.record("no seq"); return }
        guard case .object(let seenObject)? = object["seen"] else { Issue.record("no seen"); return }
        var seen: [SiteID: SequenceNumber] = [:]
        for member in seenObject.members.reversed() {
            guard case .number(let value) = member.value else { continue }
            seen[try SiteID(member.key)] = SequenceNumber(UInt64(value)!)
        }
        let canonical = try EventRecord.canonicalBytes(
            site: SiteID(object["site"]!.stringValue!), seq: SequenceNumber(UInt64(seq)!),
            prev: try prev.map { try EventID(hex: $0) }, time: Timestamp(rfc3339: object["time"]!.stringValue!),
            hlc: HybridTimestamp(parsing: object["hlc"]!.stringValue!), seen: seen, type: EventType(object["type"]!.stringValue!),
            subject: Subject(object["subject"]!.stringValue!), actor: object["actor"]!.stringValue!, data: data)
        #expect(canonical == bytes)
        #expect(EventRecord.id(ofCanonical: canonical).hex == vector.id)
    }

    @Test func objectKeysAreSortedByUTF8BytesAndStringsAreMinimallyEscaped() throws {
        let value = try JSONParser.parse(Array(#"{"b":1,"a":[true,false,null],"é":"x","Z":"\u00e9\u0001\/"}"#.utf8))
        let encoded = String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)
        #expect(encoded == "{\"Z\":\"é\\u0001/\",\"a\":[true,false,null],\"b\":1,\"é\":\"x\"}")
    }

    @Test func nonIntegerNumbersHaveNoCanonicalForm() throws {
        for literal in ["80.60", "1e3", "-0", "12345678901234567890"] {
            let value = JSONValue.object(JSONObject([("amount", .number(literal))]))
            let error = #expect(throws: AccordError.self) { try CanonicalJSON.encode(value) }
            #expect(error?.field == "amount")
        }
    }

    @Test func storedRecordsThatAreNotCanonicalAreRejected() throws {
        let good = Array(#"{"id":"x"}"#.utf8)
        #expect(throws: AccordError.self) { try EventRecord.decode(good) }
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let event = try journal.openWriter().append([Fixtures.realisticDraft(0)], now: Fixtures.time())[0]
        let decoded = try EventRecord.decode(event.record)
        #expect(decoded.id == event.id)
        // The same JSON with a space added is the same value but not the stored bytes.
        var spaced = event.record
        spaced.insert(0x20, at: 1)
        let error = #expect(throws: AccordError.self) { try EventRecord.decode(spaced) }
        #expect(error?.code == .damaged)
        // Changing one character of the data breaks the id.
        var altered = String(decoding: event.record, as: UTF8.self)
        altered = altered.replacingOccurrences(of: "Organisation 0", with: "Organisation 9")
        let idError = #expect(throws: AccordError.self) { try EventRecord.decode(Array(altered.utf8)) }
        #expect(idError?.field == "id")
    }
}

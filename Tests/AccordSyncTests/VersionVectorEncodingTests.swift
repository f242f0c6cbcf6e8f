import AccordModel
import AccordTesting
import Foundation
import Testing

@testable import AccordSync

/// The bytes of a version vector and of a bundle header, as written to `peers/<site>.json` and
/// sent on the wire, pinned: typed identifiers inside must not change a byte of them.
@Suite("Version vector encoding")
struct VersionVectorEncodingTests {
    static let astanaID = String(repeating: "a", count: 64)
    static let brusselsID = String(repeating: "b", count: 64)

    static func vector() throws -> VersionVector {
        try VersionVector(json: JSONParser.parse(Array("{\"brussels\":{\"id\":\"\(brusselsID)\",\"seq\":21},\"astana\":{\"id\":\"\(astanaID)\",\"seq\":3}}".utf8)))
    }

    @Test func theWireFormOfAVectorIsCanonicalJSONBySiteName() throws {
        let bytes = try CanonicalJSON.encode(try Self.vector().json())
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"astana\":{\"id\":\"\(Self.astanaID)\",\"seq\":3},\"brussels\":{\"id\":\"\(Self.brusselsID)\",\"seq\":21}}")
        #expect(try Self.vector().description == "astana 3, brussels 21")
    }

    @Test func theCodableFormOfAVectorIsUnchanged() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(try Self.vector()), as: UTF8.self)
        #expect(text == "{\"entries\":{\"astana\":{\"id\":\"\(Self.astanaID)\",\"seq\":3},\"brussels\":{\"id\":\"\(Self.brusselsID)\",\"seq\":21}}}")
        #expect(try JSONDecoder().decode(VersionVector.self, from: Data(text.utf8)) == (try Self.vector()))
    }

    @Test func aPeerRecordIsWrittenByteForByteAsBefore() throws {
        let record = PeerRecord(site: "astana", url: "http://10.0.0.5:8740", have: try Self.vector(), lastExchange: "2024-05-01T10:00:00Z")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try encoder.encode(record), as: UTF8.self)
        #expect(text == """
            {
              "have" : {
                "entries" : {
                  "astana" : {
                    "id" : "\(Self.astanaID)",
                    "seq" : 3
                  },
                  "brussels" : {
                    "id" : "\(Self.brusselsID)",
                    "seq" : 21
                  }
                }
              },
              "lastExchange" : "2024-05-01T10:00:00Z",
              "site" : "astana",
              "url" : "http:\\/\\/10.0.0.5:8740"
            }
            """)
    }

    @Test func aBundleHeaderIsWrittenByteForByteAsBefore() throws {
        let signature = String(repeating: "A", count: 86) + "=="
        let text = """
            {"brings":{"astana":{"first":4,"last":5,"lastID":"\(Self.astanaID)"}},"bundle":"accord","bytes":0,"created":"2024-05-01T10:00:00Z",\
            "events":0,"partnership":"eu-kz-2022","requires":{"astana":{"id":"\(Self.brusselsID)","seq":3}},"sig":"\(signature)","source":"astana","version":2}
            """
        let header = try Bundle.parse(batches: [[Array(text.utf8)]], name: "test")
        #expect(String(decoding: try header.header(), as: UTF8.self) == text)
        // What the signature signs: the same header without `sig`.
        let unsigned = text.replacingOccurrences(of: #""sig":"\#(signature)","#, with: "")
        #expect(String(decoding: try header.unsignedHeader(), as: UTF8.self) == unsigned)
    }

    @Test func aVersionOneHeaderIsRefusedAsUnsigned() throws {
        let error = #expect(throws: AccordError.self) {
            try Bundle.parse(batches: [[Array("""
                {"brings":{"astana":{"first":4,"last":5,"lastID":"\(Self.astanaID)"}},"bundle":"accord","created":"2024-05-01T10:00:00Z",\
                "events":0,"partnership":"eu-kz-2022","requires":{"astana":{"id":"\(Self.brusselsID)","seq":3}},"source":"astana","version":1}
                """.utf8)]], name: "test")
        }
        #expect(error?.message.contains("whose header is not signed") == true)
    }
}

import AccordModel
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// A record's place read from its envelope's first and last bytes (what a bundle needs of each
/// record, issue 16) is the place the full decoder finds, and any other shape is left to it.
@Suite("A stored record's place, read from its envelope's fixed bytes, is the decoder's or nothing")
struct EventRecordPlaceTests {
    static func place(_ record: [UInt8], site: SiteID? = nil) -> EventRecord.Place? {
        record.withUnsafeBytes { EventRecord.place(of: $0, site: site) }
    }

    /// Records of two sites, signed and unsigned, first of their feed and later.
    static func records() throws -> [[UInt8]] {
        let temp = TemporaryDirectory()
        var records: [[UInt8]] = []
        for site in ["brussels", "astana-2"] {
            let journal = try Fixtures.makeJournal(at: temp.child(site), site: site)
            let writer = try journal.openWriter()
            _ = try writer.append(Fixtures.realisticDrafts(count: 40), now: Fixtures.time())
            _ = try writer.append(Fixtures.realisticDrafts(count: 1, startingAt: 40), now: Fixtures.time(60))
            var events = try journal.events()
            while let event = try events.next() { records.append(event.record) }
        }
        return records
    }

    @Test func everyRecordsPlaceIsTheOneItsFullDecodingGives() throws {
        var previous: SiteID?
        var signed = 0
        for record in try Self.records() {
            let event = try EventRecord.decode(record)
            let place = try #require(Self.place(record, site: previous))
            #expect(place.site == event.site && place.seq == event.seq && place.id == event.id)
            #expect(place.signed == (event.signature != nil))
            if place.signed { signed += 1 }
            previous = place.site
        }
        #expect(signed == 4)
    }

    @Test func aRecordOfAnyOtherShapeHasNoPlaceHere() throws {
        let records = try Self.records()
        let unsigned = records[0], signed = records[39]
        let text = String(decoding: unsigned, as: UTF8.self)
        var shapes: [[UInt8]] = [
            [], Array(" ".utf8) + unsigned, Array(unsigned.dropLast()), Array(signed.dropLast(2)) + Array("}".utf8),
            Array(text.replacingOccurrences(of: "\"site\":\"brussels\"", with: "\"site\":\"Brussels\"").utf8),
            Array(text.replacingOccurrences(of: "\"site\":\"brussels\"", with: "\"site\":\"brus\\u0073els\"").utf8),
            Array(text.replacingOccurrences(of: "\"seq\":1,", with: "\"seq\":01,").utf8),
            Array(text.replacingOccurrences(of: "\"seq\":1,", with: "\"seq\":1234567890123456789,").utf8),
            Array(text.replacingOccurrences(of: "\"seq\":1,", with: "\"seq\":\"1\",").utf8),
            Array(text.replacingOccurrences(of: "{\"id\":\"", with: "{\"id\": \"").utf8),
            Array(text.replacingOccurrences(of: ",\"prev\":", with: ",\"prev\" :").utf8),
            Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: ",\"sig\":\"", with: ",\"sgn\":\"").utf8),
        ]
        // Every cut of the prefix and every upper-cased hex digit.
        shapes += (1..<120).map { Array(unsigned.prefix($0)) }
        shapes += (7..<71).compactMap { index in
            guard (0x61...0x66).contains(unsigned[index]) else { return nil }
            var changed = unsigned
            changed[index] -= 0x20
            return changed
        }
        for shape in shapes {
            #expect(Self.place(shape) == nil, "\(String(decoding: shape.prefix(100), as: UTF8.self))")
        }
    }
}

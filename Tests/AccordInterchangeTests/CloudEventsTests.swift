import AccordInterchange
import AccordModel
import AccordTesting
import Foundation
import Testing

@Suite("CloudEvents export and import", .serialized)
struct CloudEventsTests {
    static let sample = Fixtures.repositoryRoot + "/Journal/sample"

    /// A journal of another office (Windhoek) that trusts the sample's two sites.
    static func trustingPeer(_ temp: TemporaryDirectory) throws -> String {
        let journal = try newJournal(temp, name: "windhoek", site: "windhoek", partnership: "eu-kz-2022")
        for site in ["brussels", "astana"] {
            let key = try String(contentsOfFile: sample + "/keys/\(site).pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try accord(["peer", "add", site, "--key", key], journal: journal).status == 0)
        }
        return journal
    }

    @Test(arguments: [false, true])
    func exportThenImportIntoATrustingPeerReproducesTheEventsByteForByte(ndjson: Bool) throws {
        let temp = TemporaryDirectory("ce")
        let out = temp.child(ndjson ? "events.ndjson" : "events.json")
        let export = try accord(["export", "cloudevents", "--out", out] + (ndjson ? ["--ndjson"] : []), journal: Self.sample)
        #expect(export.status == 0, "\(export.stderr)")
        let peer = try Self.trustingPeer(temp)
        let imported = try accord(["import", "cloudevents", out], journal: peer)
        #expect(imported.status == 0, "\(imported.stderr)")
        let original = try accord(["log", "--json"], journal: Self.sample)
        let copy = try accord(["log", "--json", "--site", "brussels"], journal: peer).stdout + (try accord(["log", "--json", "--site", "astana"], journal: peer)).stdout
        let originalSorted = original.stdout.split(separator: 0x0a).map(Array.init).sorted { $0.lexicographicallyPrecedes($1) }
        let copySorted = copy.split(separator: 0x0a).map(Array.init).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(originalSorted.count == 24)
        #expect(copySorted == originalSorted)
        #expect(try accord(["verify"], journal: peer).status == 0)
        // Once more: nothing new.
        let again = try accord(["import", "cloudevents", out], journal: peer)
        #expect(again.status == 0)
        #expect(again.output.contains("appended 0, already known 24"), "\(again.output)")
    }

    @Test func theExportFollowsCloudEvents1Point0() throws {
        let export = try accord(["export", "cloudevents"], journal: Self.sample)
        #expect(export.status == 0)
        let batch = try #require(try JSONSerialization.jsonObject(with: Data(export.stdout)) as? [[String: Any]])
        #expect(batch.count == 24)
        for event in batch {
            #expect(event["specversion"] as? String == "1.0")
            for required in ["id", "source", "type"] { #expect((event[required] as? String)?.isEmpty == false) }
            #expect(event["datacontenttype"] as? String == "application/json")
            for name in event.keys where name != "data" {
                #expect(name.count <= 20 && name.allSatisfy { $0.isLowercase || $0.isNumber }, "attribute name \(name)")
            }
            #expect((event["source"] as? String)?.hasPrefix("urn:accord:") == true)
        }
    }

    @Test func anAlteredEventIsRefusedAndNothingIsWritten() throws {
        let temp = TemporaryDirectory("ce")
        let export = try accord(["export", "cloudevents", "--ndjson"], journal: Self.sample)
        var lines = export.output.split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: "\"accordactor\":\"", with: "\"accordactor\":\"x")
        try FileDamage.write(temp.child("altered.ndjson"), Array((lines.joined(separator: "\n") + "\n").utf8))
        let peer = try Self.trustingPeer(temp)
        let before = try FileDamage.snapshot(of: peer)
        let result = try accord(["import", "cloudevents", temp.child("altered.ndjson")], journal: peer)
        #expect(result.status != 0)
        #expect(result.stderr.contains("altered.ndjson:4"), "\(result.stderr)")
        #expect(try FileDamage.snapshot(of: peer) == before)
    }

    @Test func eventsOfAnUntrustedSiteAreRefused() throws {
        let temp = TemporaryDirectory("ce")
        let out = temp.child("events.json")
        #expect(try accord(["export", "cloudevents", "--out", out], journal: Self.sample).status == 0)
        let stranger = try newJournal(temp, name: "stranger", site: "stranger", partnership: "eu-kz-2022")
        let result = try accord(["import", "cloudevents", out], journal: stranger)
        #expect(result.status == 3)
        #expect(result.stderr.contains("does not trust"), "\(result.stderr)")
        #expect(try accord(["log", "--json"], journal: stranger).stdout.isEmpty)
    }

    @Test func eventsOfAnotherPartnershipOrCutInsideABatchAreRefusedAndNothingIsWritten() throws {
        let temp = TemporaryDirectory("ce")
        let export = try accord(["export", "cloudevents", "--ndjson"], journal: Self.sample)
        let lines = export.output.split(separator: "\n").map(String.init)
        // Another partnership: the peer was created for another one.
        let other = try newJournal(temp, name: "other", site: "windhoek", partnership: "eu-na-2022")
        for site in ["brussels", "astana"] {
            let key = try String(contentsOfFile: Self.sample + "/keys/\(site).pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try accord(["peer", "add", site, "--key", key], journal: other).status == 0)
        }
        try FileDamage.write(temp.child("all.ndjson"), Array(export.stdout))
        let before = try FileDamage.snapshot(of: other)
        let refused = try accord(["import", "cloudevents", temp.child("all.ndjson")], journal: other)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("partnership 'eu-na-2022'"), "\(refused.stderr)")
        #expect(try FileDamage.snapshot(of: other) == before)
        // Cut inside a batch, or stripped of a signature: refused, not left waiting in pending/.
        let peer = try Self.trustingPeer(temp)
        let unsignedEnd = lines.lastIndex { !$0.contains("\"accordsig\"") }!
        try FileDamage.write(temp.child("cut.ndjson"), Array((lines[...unsignedEnd].joined(separator: "\n") + "\n").utf8))
        let peerBefore = try FileDamage.snapshot(of: peer)
        let cut = try accord(["import", "cloudevents", temp.child("cut.ndjson")], journal: peer)
        #expect(cut.status == 2)
        #expect(cut.stderr.contains("inside a batch"), "\(cut.stderr)")
        #expect(try FileDamage.snapshot(of: peer) == peerBefore)
        // An exported event with its accordsite nulled is not taken for a foreign one.
        let nulled = lines.map { $0.contains("\"accordseq\":3,") ? $0.replacingOccurrences(of: "\"accordsite\":\"", with: "\"accordsite\":null,\"x\":\"") : $0 }
        try FileDamage.write(temp.child("nulled.ndjson"), Array((nulled.joined(separator: "\n") + "\n").utf8))
        let nulledResult = try accord(["import", "cloudevents", temp.child("nulled.ndjson")], journal: peer)
        #expect(nulledResult.status == 2)
        #expect(nulledResult.stderr.contains("no 'accordsite'"), "\(nulledResult.stderr)")
        #expect(try FileDamage.snapshot(of: peer) == peerBefore)
    }

    static let foreign = #"{"specversion":"1.0","id":"evt-1","source":"https://example.org/registry","type":"stakeholder.registered.v1","subject":"stakeholder/kaz-hydrogen-association","time":"2023-03-01T09:00:00Z","datacontenttype":"application/json","dataschema":null,"data":{"name":"Kazakhstan Hydrogen Association","kind":"civil-society","country":"KZ"}}"#

    @Test func aCloudEventFromAnotherSystemIsRecordedOnceByItsSourceAndID() throws {
        let temp = TemporaryDirectory("ce")
        let journal = try newJournal(temp)
        try FileDamage.write(temp.child("in.ndjson"), Array((Self.foreign + "\n").utf8))
        let first = try accord(["import", "cloudevents", temp.child("in.ndjson")], journal: journal)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.output.contains("1 new events"))
        let again = try accord(["import", "cloudevents", temp.child("in.ndjson")], journal: journal)
        #expect(again.output.contains("0 new events"))
        let log = try accord(["log", "--json"], journal: journal)
        #expect(log.output.contains("\"source\":\"ce:https://example.org/registry evt-1\""))
        #expect(log.output.contains("\"time\":\"2023-03-01T09:00:00Z\""))
    }

    struct BadEvent: CustomTestStringConvertible, Sendable {
        var name: String
        var json: String
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badEvents: [BadEvent] = [
        BadEvent(name: "null id counts as absent", json: foreign.replacingOccurrences(of: #""id":"evt-1""#, with: #""id":null"#), mentions: [":1", "'id' is missing"]),
        BadEvent(name: "another specversion", json: foreign.replacingOccurrences(of: #""specversion":"1.0""#, with: #""specversion":"0.3""#), mentions: ["specversion", "'0.3'"]),
        BadEvent(name: "an attribute name with capitals", json: foreign.replacingOccurrences(of: #""dataschema":null"#, with: #""traceParent":"x""#), mentions: ["'traceParent'"]),
        BadEvent(name: "a type outside the catalogue", json: foreign.replacingOccurrences(of: "stakeholder.registered.v1", with: "com.example.created"), mentions: ["unknown event type"]),
        BadEvent(name: "data that is not JSON", json: foreign.replacingOccurrences(of: #""datacontenttype":"application/json""#, with: #""datacontenttype":"text/xml""#), mentions: ["datacontenttype"]),
        BadEvent(name: "not JSON", json: "specversion=1.0", mentions: [":1", "not valid JSON"]),
    ]

    @Test(arguments: badEvents)
    func aBadCloudEventIsRefusedNamingTheLineAndAttributeAndNothingIsWritten(_ bad: BadEvent) throws {
        let temp = TemporaryDirectory("ce")
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        try FileDamage.write(temp.child("in.ndjson"), Array((bad.json + "\n").utf8))
        let result = try accord(["import", "cloudevents", temp.child("in.ndjson")], journal: journal)
        #expect(result.status == 2, "\(result.output) \(result.stderr)")
        for mention in bad.mentions { #expect(result.stderr.contains(mention), "'\(mention)' not in: \(result.stderr)") }
        #expect(try FileDamage.snapshot(of: journal) == before)
    }
}

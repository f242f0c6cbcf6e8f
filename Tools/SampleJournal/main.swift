import AccordModel
import AccordSegments
import AccordStore
import Foundation

// accord-sample: builds the sample partnership journal, reproducibly, from its readable source,
// and the golden fixture journals of Journal/Fixtures.
//
//   swift run accord-sample sample  Journal/sample-source.jsonl Journal/sample brussels
//   (Tools/build-sample.sh does exactly this, replacing Journal/sample)
//   swift run accord-sample fixture three-batches Journal/Fixtures/v1-three-batches
//
// The keys are derived from fixed, public seeds: the sample and the fixtures are demonstrations,
// and anyone may rebuild them byte for byte. Never use these keys for a real site.

/// The public seed of a demonstration site's key.
func demoSeed(_ site: String) -> [UInt8] {
    Array(("accord-demo-key-" + site + String(repeating: ".", count: 32)).utf8.prefix(32))
}

struct SourceEntry {
    var line: Int
    var site: String
    var draft: EventDraft
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("accord-sample: " + message + "\n").utf8))
    exit(2)
}

/// Reads the source: `#` comments, blank lines, and one JSON object per line with site, time,
/// type, subject, data and optionally actor.
func readSource(_ path: String) throws -> [SourceEntry] {
    let bytes = try FileBytes.read(path)
    var entries: [SourceEntry] = []
    for (index, line) in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
        let text = String(decoding: line, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespaces).isEmpty || text.hasPrefix("#") { continue }
        guard case .object(var object) = try JSONParser.parse(line) else { fail("line \(index + 1): not an object") }
        guard let site = object["site"]?.stringValue else { fail("line \(index + 1): no site") }
        object.members.removeAll { $0.key == "site" }
        do {
            let draft = try EventDraft.parse(line: try CanonicalJSON.encode(.object(object)))
            guard draft.time != nil else { fail("line \(index + 1): every entry needs a time") }
            try Catalogue.validate(type: draft.type.rawValue, subject: draft.subject, data: draft.data)
            entries.append(SourceEntry(line: index + 1, site: site, draft: draft))
        } catch let error as AccordError {
            fail("line \(index + 1): \(error.message)")
        }
    }
    return entries
}

/// Builds a multi-site journal: the `home` site's journal at `output`, the others' feeds copied
/// in verbatim (as sync does). Consecutive entries of one site recorded on the same day form
/// one batch.
func buildSample(source: String, output: String, home: String) throws {
    let entries = try readSource(source)
    var sites: [String] = [home]
    for entry in entries where !sites.contains(entry.site) { sites.append(entry.site) }
    let scratch = NSTemporaryDirectory() + "/accord-sample-\(getpid())"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    let journal = try EventJournal.create(at: output, site: SiteID(home), seed: demoSeed(home), partnership: "eu-kz-2022")
    var writers: [String: EventWriter] = [home: try journal.openWriter()]
    var journals = [journal]
    for site in sites.dropFirst() {
        let other = try EventJournal.create(at: scratch + "/" + site, site: SiteID(site), seed: demoSeed(site), partnership: "eu-kz-2022")
        journals.append(other)
        writers[site] = try other.openWriter()
    }
    for receiver in journals {
        for sender in journals where sender.site != receiver.site {
            try receiver.trust(try sender.signingKey().publicKey, for: sender.site)
        }
    }
    var index = 0
    var batches = 0
    while index < entries.count {
        let first = entries[index]
        var batch = [first.draft]
        index += 1
        while index < entries.count, entries[index].site == first.site,
              entries[index].draft.time!.date == first.draft.time!.date {
            batch.append(entries[index].draft)
            index += 1
        }
        let events = try writers[first.site]!.append(batch)
        // Every office receives the batch at once (as if synced the same day), so that each later
        // event's `seen` records what its office knew.
        for (site, writer) in writers where site != first.site {
            try writer.appendReplicated(events.map(\.record))
        }
        batches += 1
    }
    print("Built '\(output)': \(entries.count) events of \(sites.count) sites (\(sites.joined(separator: ", "))) in \(batches) batches.")
}

/// The golden journal of Format.md's tests: three batches (two, three and one events) of
/// realistic events, site 'brussels', fixed times.
func buildThreeBatchFixture(output: String) throws {
    let journal = try EventJournal.create(at: output, site: SiteID("brussels"), seed: demoSeed("brussels"))
    let writer = try journal.openWriter()
    let base = try Timestamp(rfc3339: "2022-11-07T10:00:00Z")
    let drafts: [EventDraft] = [
        EventDraft(type: EventType("stakeholder.registered.v1"), subject: try Subject("stakeholder/european-commission"),
                   data: try object(#"{"name":"European Commission","kind":"government","country":"EU"}"#)),
        EventDraft(type: EventType("stakeholder.registered.v1"), subject: try Subject("stakeholder/kz-government"),
                   data: try object(#"{"name":"Қазақстан Республикасының Үкіметі","kind":"government","country":"KZ"}"#)),
        EventDraft(type: EventType("agreement.signed.v1"), subject: try Subject("agreement/eu-kz-mou-2022"),
                   data: try object(#"{"title":"Strategic partnership on raw materials, batteries and renewable hydrogen","parties":["european-commission","kz-government"],"date":"2022-11-07","place":"Sharm el-Sheikh"}"#)),
        EventDraft(type: EventType("finance.committed.v1"), subject: try Subject("funding/demo-1"),
                   data: try object(#"{"provider":"european-commission","receiver":"kz-government","amount":"80.60","currency":"USD","date":"2023-01-10"}"#)),
        EventDraft(type: EventType("finance.disbursed.v1"), subject: try Subject("funding/demo-1"),
                   data: try object(#"{"provider":"european-commission","receiver":"kz-government","amount":"0.10","currency":"EUR","date":"2023-02-10"}"#)),
        EventDraft(type: EventType("finance.committed.v1"), subject: try Subject("funding/demo-2"),
                   data: try object(#"{"provider":"kz-government","receiver":"kz-government","amount":"1234567.89","currency":"KZT","date":"2023-03-10"}"#)),
    ]
    try writer.append(Array(drafts[0..<2]), now: base)
    try writer.append(Array(drafts[2..<5]), now: Timestamp(seconds: base.seconds + 3600, nanoseconds: 0))
    try writer.append(Array(drafts[5..<6]), now: Timestamp(seconds: base.seconds + 7200, nanoseconds: 0))
    print("Built '\(output)': 6 events in 3 batches.")
}

func object(_ json: String) throws -> JSONObject {
    guard case .object(let object) = try JSONParser.parse(Array(json.utf8)) else { fail("not an object: \(json)") }
    return object
}

let arguments = CommandLine.arguments
do {
    switch (arguments.count, arguments.dropFirst().first) {
    case (5, "sample"): try buildSample(source: arguments[2], output: arguments[3], home: arguments[4])
    case (4, "fixture") where arguments[2] == "three-batches": try buildThreeBatchFixture(output: arguments[3])
    default:
        fail("usage: accord-sample sample SOURCE.jsonl OUTPUT-DIR HOME-SITE | accord-sample fixture three-batches OUTPUT-DIR")
    }
} catch {
    fail("\(error)")
}

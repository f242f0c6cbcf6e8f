import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation

/// A fuzz target: one input in, no crash out. Expected failures (damage, bad input) are thrown
/// and ignored; a broken invariant stops the process with `fatalError`, which libFuzzer
/// reports as a crash.
protocol FuzzTarget: AnyObject {
    /// Runs one input through the code under test.
    func run(_ input: [UInt8])
    /// Writes seed inputs into `folder` (created), from the repository's fixtures and from
    /// bundles and requests made by the code itself.
    func writeSeeds(to folder: String) throws
}

/// The targets by name, as given on the command line.
enum FuzzTargets {
    static let names = ["segment", "record", "bundle", "http", "projection"]

    static func make(_ name: String) -> FuzzTarget? {
        switch name {
        case "segment": return SegmentTarget()
        case "record": return RecordTarget()
        case "bundle": return BundleTarget()
        case "http": return HTTPTarget()
        case "projection": return ProjectionTarget()
        default: return nil
        }
    }
}

/// Scratch journals for the targets, under one temporary directory removed at exit.
enum Scratch {
    static let root = TemporaryDirectory("fuzz")

    /// A copy of the fixture journal `v1-three-batches` with no segments, at `name`.
    static func emptyFixtureJournal(_ name: String) -> String {
        let path = root.child(name)
        try? FileManager.default.removeItem(atPath: path)
        let fixture = Fixtures.journalFixture("v1-three-batches")
        try! FileManager.default.createDirectory(atPath: path + "/segments", withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: path + "/quarantine", withIntermediateDirectories: true)
        for file in ["FORMAT", "PARTNERSHIP", "SITE", "LOCK", "keys"] {
            try! FileManager.default.copyItem(atPath: fixture + "/" + file, toPath: path + "/" + file)
        }
        return path
    }

    /// Writes `bytes` to `path`, replacing it.
    static func write(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot write \(path)")
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let wrote = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                precondition(wrote > 0)
                done += wrote
            }
        }
        close(fd)
    }

    /// Two offices of partnership `eu-kz-2022` that trust each other: `brussels` (with events,
    /// the sender) and `astana` (the receiver, with a few events of its own). `astana` is kept
    /// as a pristine template; ``resetReceiver()`` copies it back after a write.
    final class Offices {
        let brussels: EventJournal
        let template: String
        let receiverPath: String
        private(set) var receiver: EventJournal

        init(_ label: String) {
            let base = Scratch.root.child(label)
            try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            brussels = try! EventJournal.create(at: base + "/brussels", site: SiteID("brussels"), seed: Fixtures.seed("brussels"), partnership: "eu-kz-2022")
            let astana = try! EventJournal.create(at: base + "/astana-template", site: SiteID("astana"), seed: Fixtures.seed("astana"), partnership: "eu-kz-2022")
            try! brussels.trust(try! astana.signingKey().publicKey, for: astana.site)
            try! astana.trust(try! brussels.signingKey().publicKey, for: brussels.site)
            for (journal, start) in [(brussels, 0), (astana, 40)] {
                let writer = try! journal.openWriter()
                for batch in 0..<3 {
                    _ = try! writer.append(Fixtures.realisticDrafts(count: 4, startingAt: start + batch * 4), now: Fixtures.time(Int64(start + batch) * 60))
                }
                writer.close()
            }
            template = astana.path
            receiverPath = base + "/astana"
            receiver = astana
            resetReceiver()
        }

        /// Replaces the receiver with a fresh copy of the template.
        func resetReceiver() {
            try? FileManager.default.removeItem(atPath: receiverPath)
            try! FileManager.default.copyItem(atPath: template, toPath: receiverPath)
            receiver = try! EventJournal(opening: receiverPath)
        }
    }
}

/// (a) The segment reader: arbitrary bytes as the only segment of a journal, read by
/// `SegmentDirectory.scan` (what `verify` uses), the `BatchIterator` (what `log`/`state` use)
/// with and without a tolerated torn tail, `EventJournal.verify` and the event iterator.
final class SegmentTarget: FuzzTarget {
    let path = Scratch.emptyFixtureJournal("segment")

    func run(_ input: [UInt8]) {
        Scratch.write(input, to: path + "/segments/00000001.gz")
        try? FileManager.default.removeItem(atPath: path + "/cache")
        guard let directory = try? SegmentDirectory(opening: path) else { fatalError("the fixture copy does not open") }
        var batchCount = 0
        let report = try? directory.scan { _ in batchCount += 1 }
        if let report, report.batches != batchCount { fatalError("scan counted \(report.batches) batches but visited \(batchCount)") }
        for tolerate in [true, false] {
            guard var batches = try? directory.batches(tolerateTornTail: tolerate) else { continue }
            var read = 0
            while true {
                guard let batch = try? batches.next() else { break }
                read += batch.records.count
            }
            // A clean journal reads the same batches both ways.
            if let report, report.isClean, read != report.records {
                fatalError("scan found \(report.records) records in a clean journal, the iterator \(read)")
            }
        }
        guard let journal = try? EventJournal(opening: path) else { return }
        let verification = try? journal.verify()
        var events = 0
        if var iterator = try? journal.events() {
            while true {
                guard let event = try? iterator.next() else { break }
                _ = event.id
                events += 1
            }
        }
        if let verification, verification.isClean, verification.events != events {
            fatalError("verify found \(verification.events) events in a clean journal, the iterator \(events)")
        }
    }

    func writeSeeds(to folder: String) throws {
        for journal in ["Fixtures/v1-three-batches", "sample"] {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/Journal/" + journal + "/segments/00000001.gz")))
            Scratch.write(bytes, to: folder + "/" + journal.replacingOccurrences(of: "/", with: "-") + ".gz")
            // The first batch alone, and the file cut in the middle of its last batch.
            Scratch.write(Array(bytes.prefix(bytes.count / 2)), to: folder + "/" + journal.replacingOccurrences(of: "/", with: "-") + "-cut.gz")
        }
        Scratch.write([], to: folder + "/empty.gz")
    }
}

/// (b) The record decoder: one record's bytes through `EventRecord.decode` (JSON parser, key
/// order, field forms, canonical form, id), plus two properties:
/// - any JSON that parses and encodes canonically parses back and encodes to the same bytes;
/// - any `{"type","subject","data"}` the catalogue accepts becomes a record that decodes back
///   to the same data (so nothing `append` accepts is unreadable later).
final class RecordTarget: FuzzTarget {
    func run(_ input: [UInt8]) {
        _ = try? EventRecord.decode(input)
        guard let value = try? JSONParser.parse(input) else { return }
        if let canonical = try? CanonicalJSON.encode(value) {
            guard let again = try? JSONParser.parse(canonical) else {
                fatalError("canonical JSON does not parse again: \(String(decoding: canonical, as: UTF8.self))")
            }
            guard (try? CanonicalJSON.encode(again)) == canonical else { fatalError("canonical JSON is not a fixed point of parse and encode") }
        }
        guard case .object(let object) = value, let type = object["type"]?.stringValue,
              let subjectText = object["subject"]?.stringValue, let subject = try? Subject(subjectText),
              case .object(let data)? = object["data"] else { return }
        guard (try? Catalogue.validate(type: type, subject: subject, data: data)) != nil else { return }
        let site = try! SiteID("brussels")
        guard let canonical = try? EventRecord.canonicalBytes(
            site: site, seq: SequenceNumber(1), prev: nil, time: Fixtures.time(), hlc: HybridTimestamp(milliseconds: 1_667_815_200_000, counter: 0),
            seen: [:], type: EventType(type), subject: subject, actor: "fuzz", data: data) else { return }
        let record = EventRecord.record(canonical: canonical, id: EventRecord.id(ofCanonical: canonical), signature: nil)
        do {
            let event = try EventRecord.decode(record)
            guard event.data == data else { fatalError("a valid event decodes to other data") }
        } catch {
            fatalError("an event the catalogue accepts does not decode: \(error)")
        }
    }

    func writeSeeds(to folder: String) throws {
        var count = 0
        for journal in ["Fixtures/v1-three-batches", "sample"] {
            let batches = try MemberFile.read(Fixtures.repositoryRoot + "/Journal/" + journal + "/segments/00000001.gz")
            for record in batches.flatMap(\.records) {
                count += 1
                Scratch.write(Array(record), to: folder + "/record-\(count).json")
                // The same event as a draft, for the catalogue round trip.
                if case .object(let object)? = try? JSONParser.parse(record), let type = object["type"], let subject = object["subject"], let data = object["data"] {
                    let draft = try CanonicalJSON.encode(.object(JSONObject([("type", type), ("subject", subject), ("data", data)])))
                    Scratch.write(draft, to: folder + "/draft-\(count).json")
                }
            }
        }
    }
}

/// (c) The bundle reader: bytes as a bundle (`Bundle.parse`, which reads it through
/// `MemberFile.read`), checked against a journal (`verify`), and applied when it verifies.
final class BundleTarget: FuzzTarget {
    let offices = Scratch.Offices("bundle")

    func run(_ input: [UInt8]) {
        guard let bundle = try? Bundle.parse(bytes: input, limit: 1 << 24) else { return }
        _ = try? bundle.encoded()
        guard (try? bundle.verify(against: offices.receiver)) != nil else { return }
        if let session = try? SyncSession(journal: offices.receiver) {
            _ = try? session.apply(bundle.records)
            session.close()
        }
        if let report = try? offices.receiver.verify(), !report.isClean {
            fatalError("applying a verified bundle damaged the journal: \(report.problems) \(report.integrity.damages)")
        }
        offices.resetReceiver()
    }

    func writeSeeds(to folder: String) throws {
        let full = try Bundle.make(from: offices.brussels)
        Scratch.write(try full.encoded(), to: folder + "/brussels-all.bundle")
        let astanaVector = try offices.receiver.versionVector()
        Scratch.write(try Bundle.make(from: offices.brussels, beyond: astanaVector).encoded(), to: folder + "/brussels-delta.bundle")
        for (index, part) in try full.split(maxBytes: 1000).enumerated() {
            Scratch.write(try part.encoded(), to: folder + "/brussels-part-\(index).bundle")
        }
    }
}

/// (d) The HTTP sync request handler (`SyncService.handle`) against a temporary journal: the
/// whole request — method, path, headers, body — comes from the input, in this text form:
///
///     s POST /v1/push            first byte 's': the harness signs the request as 'brussels'
///     Header-Name: value         (any other first byte: sent as it is, usually refused 401)
///     …
///     <empty line>
///     body bytes
///
/// The receiver is reset after any request that may have written (a push, a pull that notes a
/// peer's position), so every input runs against the same journal.
final class HTTPTarget: FuzzTarget {
    let offices = Scratch.Offices("http")
    lazy var service = SyncService(journal: offices.receiver, maxBody: 1 << 20)

    struct Parsed {
        var sign: Bool
        var request: SyncService.Request
    }

    static func parse(_ input: [UInt8]) -> Parsed {
        var rest = input[...]
        var sign = false
        if let first = rest.first, first == UInt8(ascii: "s") { sign = true }
        if !rest.isEmpty { rest = rest.dropFirst() }
        let headEnd = rest.indices.first { rest[$0] == 0x0a && $0 + 1 < rest.endIndex && rest[$0 + 1] == 0x0a }
        let head = headEnd.map { rest[rest.startIndex..<$0] } ?? rest
        let body = headEnd.map { Array(rest[($0 + 2)...]) } ?? []
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = (lines.first ?? "").split(separator: " ", maxSplits: 1)
        let method = requestLine.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let path = requestLine.count > 1 ? String(requestLine[1]).trimmingCharacters(in: .whitespaces) : ""
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return Parsed(sign: sign, request: SyncService.Request(method: method, path: path, headers: headers, body: body))
    }

    func run(_ input: [UInt8]) {
        var parsed = Self.parse(input)
        if parsed.sign, let signed = try? RequestSigning.headers(for: offices.brussels, method: parsed.request.method, path: parsed.request.path, body: parsed.request.body, to: "astana") {
            for (key, value) in signed { parsed.request.headers[key] = value }
        }
        let response = service.handle(parsed.request)
        guard [200, 400, 401, 403, 404, 405, 409, 413, 500, 503].contains(response.status) else {
            fatalError("undocumented status \(response.status)")
        }
        if response.status == 500 { fatalError("a request made the server fail: \(String(decoding: response.body, as: UTF8.self))") }
        if parsed.request.path != "/v1/vector", ![401, 403, 404, 405, 413].contains(response.status) {
            offices.resetReceiver()
            service = SyncService(journal: offices.receiver, maxBody: 1 << 20)
        }
    }

    static func text(sign: Bool, _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) -> [UInt8] {
        var head = (sign ? "s" : "-") + "\(method) \(path)\n"
        for (key, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(key): \(value)\n" }
        return Array((head + "\n").utf8) + body
    }

    func writeSeeds(to folder: String) throws {
        let vector = try offices.receiver.versionVector()
        let pullBody = try CanonicalJSON.encode(.object(JSONObject([("vector", vector.json())])))
        let push = try Bundle.make(from: offices.brussels, beyond: vector).encoded()
        let seeds: [(String, [UInt8])] = [
            ("vector", Self.text(sign: true, "GET", "/v1/vector")),
            ("pull", Self.text(sign: true, "POST", "/v1/pull", body: pullBody)),
            ("pull-empty", Self.text(sign: true, "POST", "/v1/pull", body: Array(#"{"vector":{}}"#.utf8))),
            ("push", Self.text(sign: true, "POST", "/v1/push", headers: ["Content-Type": "application/vnd.accord.bundle"], body: push)),
            ("unsigned", Self.text(sign: false, "GET", "/v1/vector")),
            ("stale", Self.text(sign: false, "GET", "/v1/vector", headers: [RequestSigning.siteHeader: "brussels", RequestSigning.timeHeader: "2022-11-07T10:00:00Z", RequestSigning.signatureHeader: "AAAA"])),
        ]
        for (name, bytes) in seeds { Scratch.write(bytes, to: folder + "/" + name + ".req") }
    }
}

/// (e) What a decoded record goes through next: the state fold and its views. Records read from
/// a journal or a peer are checked for form, id and signature but not against this catalogue
/// (a newer peer may write fields this one does not know), so the projection must take any data.
/// One input is up to 64 lines, each `{"type":…,"subject":…,"data":{…}}`; each becomes an event
/// of `brussels` or `astana` (alternating, one minute apart). Properties: folding the events in
/// reverse order gives the same state digest (the fold is order-independent); every view renders
/// in every format.
final class ProjectionTarget: FuzzTarget {
    static let sites = [try! SiteID("brussels"), try! SiteID("astana")]

    static func events(_ input: [UInt8]) -> [Event] {
        var events: [Event] = []
        var seqs: [UInt64] = [0, 0]
        var previous: [EventID?] = [nil, nil]
        for (index, line) in input.split(separator: 0x0a, omittingEmptySubsequences: true).prefix(64).enumerated() {
            guard case .object(let object)? = try? JSONParser.parse(line), let type = object["type"]?.stringValue, EventType.isValidName(type),
                  let subjectText = object["subject"]?.stringValue, let subject = try? Subject(subjectText),
                  case .object(let data)? = object["data"] else { continue }
            let feed = index % 2
            let time = Fixtures.time(Int64(index) * 60)
            guard let canonical = try? EventRecord.canonicalBytes(
                site: sites[feed], seq: SequenceNumber(seqs[feed] + 1), prev: previous[feed], time: time,
                hlc: HybridTimestamp(milliseconds: time.seconds * 1000, counter: 0), seen: [:], type: EventType(type),
                subject: subject, actor: "fuzz", data: data) else { continue }
            let id = EventRecord.id(ofCanonical: canonical)
            guard let event = try? EventRecord.decode(EventRecord.record(canonical: canonical, id: id, signature: nil)) else {
                fatalError("an event made by canonicalBytes does not decode")
            }
            seqs[feed] += 1
            previous[feed] = id
            events.append(event)
        }
        return events
    }

    func run(_ input: [UInt8]) {
        let events = Self.events(input)
        var forward = PartnershipState()
        for event in events { PartnershipProjection.apply(event, to: &forward) }
        var backward = PartnershipState()
        for event in events.reversed() { PartnershipProjection.apply(event, to: &backward) }
        let digest = try? forward.digest()
        guard digest == (try? backward.digest()) else { fatalError("the state depends on the order events are applied in") }
        for view in View.allCases {
            for table in view.tables(of: forward, reference: Fixtures.time(86_400 * 400).date) {
                _ = table.text()
                _ = table.csv()
                _ = table.jsonLines()
            }
        }
    }

    func writeSeeds(to folder: String) throws {
        for journal in ["Fixtures/v1-three-batches", "sample"] {
            let batches = try MemberFile.read(Fixtures.repositoryRoot + "/Journal/" + journal + "/segments/00000001.gz")
            var lines: [UInt8] = []
            for (count, record) in batches.flatMap(\.records).enumerated() {
                if case .object(let object)? = try? JSONParser.parse(record), let type = object["type"], let subject = object["subject"], let data = object["data"] {
                    lines += try CanonicalJSON.encode(.object(JSONObject([("type", type), ("subject", subject), ("data", data)]))) + [0x0a]
                }
                if count % 32 == 31 {
                    Scratch.write(lines, to: folder + "/\(journal.replacingOccurrences(of: "/", with: "-"))-\(count / 32).jsonl")
                    lines = []
                }
            }
            if !lines.isEmpty { Scratch.write(lines, to: folder + "/\(journal.replacingOccurrences(of: "/", with: "-"))-last.jsonl") }
        }
        var realistic: [UInt8] = []
        for draft in Fixtures.realisticDrafts(count: 30) {
            realistic += try CanonicalJSON.encode(.object(JSONObject([("type", .string(draft.type.rawValue)), ("subject", .string(draft.subject.description)), ("data", .object(draft.data))]))) + [0x0a]
        }
        Scratch.write(realistic, to: folder + "/realistic.jsonl")
    }
}

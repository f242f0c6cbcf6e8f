import AccordModel
import AccordSync

/// Accord events as CloudEvents 1.0 (https://github.com/cloudevents/spec, `spec.md` and
/// `formats/json-format.md`), structured mode, one JSON object per event:
///
/// | CloudEvents attribute | from the event |
/// |---|---|
/// | `specversion` | `"1.0"` |
/// | `id` | the event id (64 hex digits) |
/// | `source` | `urn:accord:<partnership>:<site>` |
/// | `type`, `subject`, `time` | the event's type, subject, time (RFC 3339, UTC) |
/// | `datacontenttype`, `data` | `application/json`, the event's data |
/// | `accordsite`, `accordseq`, `accordprev`, `accordhlc`, `accordseen`, `accordactor`, `accordsig` | the envelope (extension attributes) |
///
/// `accordseq` is a JSON integer; `accordseen` is the canonical JSON text of the `seen` object
/// (an extension value must be a string, number or boolean); `accordprev` (first event of a
/// feed), `accordseen` (when empty) and `accordsig` (not last of a batch) are absent. From
/// these attributes the stored record is rebuilt byte for byte (Format.md §7), so an export
/// imported into a journal that trusts the sites' keys reproduces the events exactly.
public enum CloudEvents {
    public static let specVersion = "1.0"
    public static let contentType = "application/json"
    /// The media type of a JSON batch (`formats/json-format.md` §4).
    public static let batchContentType = "application/cloudevents-batch+json"
    public static let extensions = ["accordsite", "accordseq", "accordprev", "accordhlc", "accordseen", "accordactor", "accordsig"]

    /// The CloudEvents JSON object of `event`, attributes in a fixed order.
    public static func encode(_ event: Event, partnership: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(event.record.count + 300)
        func member(_ name: String, _ text: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendString(text, to: &out)
        }
        out.append(UInt8(ascii: "{"))
        member("specversion", specVersion, first: true)
        member("id", event.id.hex)
        member("source", "urn:accord:\(partnership):\(event.site)")
        member("type", event.type.rawValue)
        member("subject", event.subject.description)
        member("time", event.time.text)
        member("datacontenttype", contentType)
        member("accordsite", event.site.rawValue)
        out.append(contentsOf: Array(",\"accordseq\":\(event.seq.rawValue)".utf8))
        if let prev = event.prev { member("accordprev", prev.hex) }
        member("accordhlc", event.hlc.text)
        let seen = event.seen.filter { $0.key != event.site }
        if !seen.isEmpty {
            let object = JSONObject(seen.sorted { $0.key < $1.key }.map { ($0.key.rawValue, JSONValue.number(String($0.value.rawValue))) })
            member("accordseen", String(decoding: try CanonicalJSON.encode(.object(object)), as: UTF8.self))
        }
        member("accordactor", event.actor)
        if let signature = event.signature { member("accordsig", Base64.encode(signature)) }
        out.append(contentsOf: Array(",\"data\":".utf8))
        try CanonicalJSON.encode(event.data, into: &out, path: "data")
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// One CloudEvent read from a file.
    public struct Incoming: Sendable {
        /// Its 1-based position in the file (line for NDJSON, element for a JSON batch).
        public var position: Int
        public var line: Int
        public var id: String
        public var source: String
        public var type: String
        public var subject: String?
        public var time: String?
        public var data: JSONObject
        /// Extension attributes (null ones removed).
        public var extensions: [String: JSONValue]
    }

    /// Parses a file of CloudEvents: a JSON batch (`[…]`) or JSON Lines (one event per line).
    /// - Returns: the events and the problems found (an event with a problem is left out).
    public static func parse(_ bytes: [UInt8], file: String) -> (events: [Incoming], problems: [ImportProblem]) {
        var events: [Incoming] = []
        var problems: [ImportProblem] = []
        let firstNonSpace = bytes.first { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }
        if firstNonSpace == UInt8(ascii: "[") {
            do {
                guard case .array(let items) = try JSONParser.parse(bytes) else { return ([], []) }
                for (index, item) in items.enumerated() {
                    do {
                        events.append(try incoming(item, position: index + 1, line: 0))
                    } catch let error as AccordError {
                        problems.append(ImportProblem(file: file, line: nil, item: "event \(index + 1) of the batch", message: error.message))
                    } catch {}
                }
            } catch let error as JSONParser.SyntaxError {
                problems.append(ImportProblem(file: file, line: line(of: error.offset, in: bytes), item: "", message: "not a valid JSON batch of CloudEvents: \(error)."))
            } catch {}
            return (events, problems)
        }
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + 1
            if line.allSatisfy({ [0x20, 0x09, 0x0d].contains($0) }) { continue }
            do {
                events.append(try incoming(try JSONParser.parse(line), position: lineNumber, line: lineNumber))
            } catch let error as JSONParser.SyntaxError {
                problems.append(ImportProblem(file: file, line: lineNumber, item: "", message: "not valid JSON: \(error)."))
            } catch let error as AccordError {
                problems.append(ImportProblem(file: file, line: lineNumber, item: "", message: error.message))
            } catch {}
        }
        return (events, problems)
    }

    static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        bytes.prefix(max(0, min(offset, bytes.count))).reduce(1) { $0 + ($1 == 0x0a ? 1 : 0) }
    }

    /// Checks one CloudEvent (spec.md, "Context Attributes"): required attributes present and
    /// non-empty strings, `specversion` 1.0, attribute names of lower-case letters and digits of
    /// at most 20 characters, `data` a JSON object with a JSON `datacontenttype`. Attributes
    /// whose value is `null` count as absent.
    static func incoming(_ value: JSONValue, position: Int, line: Int) throws -> Incoming {
        guard case .object(let object) = value else {
            throw AccordError(.badInput, "a CloudEvent is a JSON object, not \(value.kindDescription).")
        }
        var attributes: [String: JSONValue] = [:]
        for member in object.members {
            if case .null = member.value { continue }
            guard member.key == "data" || (1...20).contains(member.key.utf8.count) && member.key.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) else {
                throw AccordError(.badInput, "attribute '\(member.key.prefix(40))' is not a valid CloudEvents attribute name (lower-case letters and digits, at most 20).", field: member.key)
            }
            attributes[member.key] = member.value
        }
        func required(_ name: String) throws -> String {
            guard let value = attributes.removeValue(forKey: name) else {
                throw AccordError(.badInput, "required attribute '\(name)' is missing.", field: name)
            }
            guard case .string(let text) = value, !text.isEmpty else {
                throw AccordError(.badInput, "attribute '\(name)' must be a non-empty string.", field: name)
            }
            return text
        }
        func optional(_ name: String) throws -> String? {
            guard let value = attributes.removeValue(forKey: name) else { return nil }
            guard case .string(let text) = value else { throw AccordError(.badInput, "attribute '\(name)' must be a string.", field: name) }
            return text
        }
        let version = try required("specversion")
        guard version == specVersion else {
            throw AccordError(.badInput, "specversion is '\(version.prefix(10))'; this reader takes CloudEvents 1.0.", field: "specversion")
        }
        let id = try required("id")
        let source = try required("source")
        let type = try required("type")
        let subject = try optional("subject")
        let time = try optional("time")
        let contentType = try optional("datacontenttype")
        if attributes["data_base64"] != nil {
            throw AccordError(.badInput, "'data_base64' (binary data) is not an event's data; Accord events carry a JSON object in 'data'.", field: "data_base64")
        }
        guard case .object(let data)? = attributes.removeValue(forKey: "data") else {
            throw AccordError(.badInput, "'data' must be a JSON object.", field: "data")
        }
        if let contentType, contentType != contentType.lowercased() || !(contentType.hasPrefix("application/json") || contentType.hasSuffix("+json")) {
            throw AccordError(.badInput, "datacontenttype is '\(contentType.prefix(60))'; the data of an Accord event is JSON (application/json).", field: "datacontenttype")
        }
        attributes.removeValue(forKey: "dataschema")
        return Incoming(position: position, line: line, id: id, source: source, type: type, subject: subject, time: time, data: data, extensions: attributes)
    }

    /// The stored record an exported CloudEvent stands for, rebuilt from its attributes.
    /// - Throws: ``AccordError`` `.badInput` naming the attribute; `.damaged` when the rebuilt
    ///   record is not canonical or its id is not the hash of its content (it was altered).
    public static func record(of event: Incoming) throws -> [UInt8] {
        func text(_ name: String) throws -> String {
            guard case .string(let value)? = event.extensions[name] else {
                throw AccordError(.badInput, "extension '\(name)' is missing or not a string.", field: name)
            }
            return value
        }
        let seqValue: UInt64?
        switch event.extensions["accordseq"] {
        case .number(let literal)?: seqValue = UInt64(literal)
        case .string(let literal)?: seqValue = UInt64(literal)
        default: seqValue = nil
        }
        guard let seqValue, seqValue >= 1 else { throw AccordError(.badInput, "extension 'accordseq' must be a sequence number (1 or more).", field: "accordseq") }
        let prev: EventID? = event.extensions["accordprev"] == nil ? nil : try EventID(hex: try text("accordprev"))
        var seen: [SiteID: SequenceNumber] = [:]
        if event.extensions["accordseen"] != nil {
            guard case .object(let object)? = try? JSONParser.parse(Array(try text("accordseen").utf8)) else {
                throw AccordError(.badInput, "extension 'accordseen' must hold a JSON object of sequence numbers.", field: "accordseen")
            }
            for member in object.members {
                guard case .number(let literal) = member.value, let value = UInt64(literal) else {
                    throw AccordError(.badInput, "extension 'accordseen' must hold a JSON object of sequence numbers.", field: "accordseen")
                }
                seen[try SiteID(member.key)] = SequenceNumber(value)
            }
        }
        guard let time = event.time else { throw AccordError(.badInput, "attribute 'time' is missing.", field: "time") }
        guard let subject = event.subject else { throw AccordError(.badInput, "attribute 'subject' is missing.", field: "subject") }
        let canonical = try EventRecord.canonicalBytes(
            site: try SiteID(try text("accordsite")), seq: SequenceNumber(seqValue), prev: prev,
            time: try Timestamp(rfc3339: time), hlc: try HybridTimestamp(parsing: try text("accordhlc")), seen: seen,
            type: EventType(event.type), subject: try Subject(subject), actor: try text("accordactor"), data: event.data)
        var signature: [UInt8]?
        if event.extensions["accordsig"] != nil {
            guard let decoded = Base64.decode(try text("accordsig")), decoded.count == 64 else {
                throw AccordError(.badInput, "extension 'accordsig' is not a base64 Ed25519 signature.", field: "accordsig")
            }
            signature = decoded
        }
        let id = try EventID(hex: event.id)
        let record = EventRecord.record(canonical: canonical, id: id, signature: signature)
        _ = try EventRecord.decode(record)
        return record
    }

    /// An event recorded here for a CloudEvent from another system (no `accordsite`): its type,
    /// subject and data are checked against the catalogue; its identity is `ce:<source> <id>`,
    /// the pair CloudEvents makes unique (spec.md, `id`).
    public static func draft(of event: Incoming) throws -> ImportedEvent {
        guard let subjectText = event.subject else {
            throw AccordError(.badInput, "attribute 'subject' is missing; an Accord event is about a subject such as 'funding/eib-2024'.", field: "subject")
        }
        let subject = try Subject(subjectText)
        let identity = "ce:\(event.source) \(event.id)"
        guard let source = importText(identity), source == identity else {
            throw AccordError(.badInput, "'source' and 'id' together must be text of at most 4,096 bytes without control characters.", field: "id")
        }
        var data = event.data
        if data[Catalogue.sourceField] == nil { data.members.append((Catalogue.sourceField, .string(source))) }
        try Catalogue.validate(type: event.type, subject: subject, data: data)
        let time = try event.time.map { try Timestamp(rfc3339: $0) }
        return ImportedEvent(draft: EventDraft(type: EventType(event.type), subject: subject, data: data, time: time), identity: data[Catalogue.sourceField]?.stringValue ?? source)
    }
}

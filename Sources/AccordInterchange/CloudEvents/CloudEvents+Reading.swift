import AccordModel

extension CloudEvents {
    /// One CloudEvent read from a file.
    public struct Incoming: Sendable {
        /// Its 1-based position in the file (line for NDJSON, element for a JSON batch).
        public var position: Int
        /// Its 1-based line (JSON Lines), or 0 for an element of a JSON batch.
        public var line: Int
        /// Its `id` attribute.
        public var id: String
        /// Its `source` attribute (a URI-reference).
        public var source: String
        /// Its `type` attribute: an Accord event type.
        public var type: String
        /// Its `subject` attribute, if any.
        public var subject: String?
        /// Its `time` attribute (RFC 3339), if any.
        public var time: String?
        /// Its `data`, a JSON object.
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
            // 'data_base64' is the JSON format's member for binary data (json-format.md §3.1),
            // not an attribute: it gets its own refusal below.
            guard sameBytes(member.key, "data") || sameBytes(member.key, "data_base64") || (1...20).contains(member.key.utf8.count) && member.key.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) else {
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
            throw AccordError(.badInput, "'data_base64' (binary data) is not supported: an Accord event's data is a JSON object. Send it as JSON in 'data' (with datacontenttype 'application/json' or none) instead.", field: "data_base64")
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
}

/// An event to append: what the user supplies. The writer adds the envelope (`site`, `seq`,
/// `prev`, `hlc`, `id`, signature).
public struct EventDraft: Sendable {
    /// The event's versioned type, checked against the catalogue when appended.
    public var type: EventType
    /// What the event is about, e.g. `funding/eib-kz-h2-2024`.
    public var subject: Subject
    /// The payload, checked against the catalogue entry of ``type`` when appended.
    public var data: JSONObject
    /// When the event was recorded (UTC); nil means now.
    public var time: Timestamp?
    /// Who recorded it; nil means the writer's default actor.
    public var actor: String?

    /// A draft from its parts; nothing is checked until it is appended.
    public init(type: EventType, subject: Subject, data: JSONObject, time: Timestamp? = nil, actor: String? = nil) {
        self.type = type
        self.subject = subject
        self.data = data
        self.time = time
        self.actor = actor
    }

    /// Parses one line of `accord append --from` input: a JSON object with `type`, `subject`,
    /// `data`, and optionally `time` (RFC 3339) and `actor`.
    /// - Throws: ``AccordError`` `.badInput` naming the field; the caller adds the line.
    public static func parse<Bytes: Collection<UInt8>>(line: Bytes) throws -> EventDraft {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch let error as JSONParser.SyntaxError {
            throw AccordError(.badInput, "not valid JSON: \(error).")
        }
        guard case .object(let object) = value else {
            throw AccordError(.badInput, "expected a JSON object with \"type\", \"subject\" and \"data\", found \(value.kindDescription).")
        }
        let allowed = ["type", "subject", "data", "time", "actor"]
        for key in object.keys where !allowed.contains(where: { $0.utf8.elementsEqual(key.utf8) }) {
            throw AccordError(.badInput, "Field '\(key.prefix(60))' is not allowed here; a line holds type, subject, data and optionally time and actor.", field: key)
        }
        func string(_ key: String) throws -> String? {
            guard let member = object[key] else { return nil }
            guard case .string(let text) = member else {
                throw AccordError(.badInput, "Field '\(key)' must be a string, not \(member.kindDescription).", field: key)
            }
            return text
        }
        guard let type = try string("type") else { throw AccordError(.badInput, "Field 'type' is missing.", field: "type") }
        guard let subjectText = try string("subject") else { throw AccordError(.badInput, "Field 'subject' is missing.", field: "subject") }
        guard let dataValue = object["data"] else { throw AccordError(.badInput, "Field 'data' is missing.", field: "data") }
        guard case .object(let data) = dataValue else {
            throw AccordError(.badInput, "Field 'data' must be a JSON object, not \(dataValue.kindDescription).", field: "data")
        }
        let time = try string("time").map { try Timestamp(rfc3339: $0, field: "time") }
        return EventDraft(type: EventType(type), subject: try Subject(subjectText), data: data, time: time, actor: try string("actor"))
    }
}

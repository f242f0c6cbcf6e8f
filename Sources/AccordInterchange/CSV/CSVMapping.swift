import AccordModel

/// How the rows of a table become events: a JSON file described in Journal/Import.md,
/// "CSV mappings". Shape:
///
/// ```json
/// {"format": "accord-csv-mapping/1", "source": "iea-h2-projects-2022",
///  "key": ["Project Name", "Country"],
///  "subject": {"kind": "project", "name": "Project Name"},
///  "events": [{"type": "industry.project.registered.v1",
///              "fields": {"name": {"column": "Project Name"}, "sponsor": {"value": "unspecified"}}}]}
/// ```
public struct CSVMapping: Sendable {
    /// What to do with a cell that a `map` does not list.
    public enum Otherwise: String, Sendable {
        /// The row is refused, and with it the file (the default).
        case error
        /// This event is not made for the row; the row's other events are.
        case skipEvent = "skip-event"
        /// The field is left out.
        case skipField = "skip-field"
        /// The cell's text is kept as it is (a map that corrects only some values).
        case keep
    }

    /// One `data` field: from a column or a constant, converted, mapped.
    public struct Field: Sendable {
        /// The `data` member it fills.
        public var name: String
        /// The column it is read from (`column`), or nil for a constant.
        public var column: String?
        /// The constant it holds (`value`), or nil when read from a column.
        public var value: String?
        /// `iso3166-alpha3` (a 3-letter country code to the catalogue's 2-letter one), `decimal`
        /// (an `xsd:decimal`, normalised), `slug` (text to an identifier), `count` (a whole
        /// number, as a JSON integer).
        public var convert: String?
        /// Cell text → the text to use (`map`), matched by UTF-8 bytes (NFC and NFD cells differ).
        public var map: [BytewiseText: String]?
        /// What to do with a cell that ``map`` does not list.
        public var otherwise: Otherwise
        /// An empty cell leaves the field out instead of refusing the row.
        public var optional: Bool
        /// Only when this other field is present (e.g. a unit with its quantity).
        public var with: String?
    }

    /// One event made of each row: its type and fields.
    public struct EventTemplate: Sendable {
        /// The event type, from the catalogue.
        public var type: String
        /// Its `data` fields, in order.
        public var fields: [Field]
    }

    /// The `format` a mapping file names.
    public static let formatName = "accord-csv-mapping/1"
    /// The values `convert` may take (see ``Field/convert``).
    public static let conversions = ["iso3166-alpha3", "decimal", "slug", "count"]

    /// Prefix of the source identities (`csv:<source> …`).
    public var source: String
    /// Columns that identify a row; empty: all columns.
    public var key: [String]
    /// The kind of the events' subject (`subject.kind`).
    public var subjectKind: String
    /// The column whose text makes the readable part of the subject id.
    public var subjectName: String
    /// The events made of each row.
    public var events: [EventTemplate]

    /// Every column the mapping reads.
    public var columns: [String] {
        var all = key + [subjectName]
        for event in events { all += event.fields.compactMap(\.column) }
        var seen = Set<BytewiseText>()
        return all.filter { seen.insert(BytewiseText($0)).inserted }
    }

    /// Parses and checks a mapping file's bytes.
    /// - Throws: ``AccordError`` `.badInput` naming the member (`events[1].fields.country.convert`).
    public init(json bytes: [UInt8], file: String) throws {
        func bad(_ path: String, _ message: String) -> AccordError {
            AccordError(.badInput, "Mapping '\(file)', '\(path)': \(message)", field: path)
        }
        let root: JSONObject
        do {
            guard case .object(let object) = try JSONParser.parse(bytes) else { throw bad("", "a mapping is a JSON object.") }
            root = object
        } catch let error as JSONParser.SyntaxError {
            throw AccordError(.badInput, "Mapping '\(file)' is not valid JSON: \(error).")
        }
        func string(_ object: JSONObject, _ key: String, _ path: String, required: Bool = true) throws -> String? {
            guard let value = object[key] else {
                if required { throw bad(path + key, "missing.") }
                return nil
            }
            guard case .string(let text) = value, !text.isEmpty else { throw bad(path + key, "must be a non-empty string.") }
            return text
        }
        func allowOnly(_ object: JSONObject, _ keys: [String], _ path: String) throws {
            for key in object.keys where !keys.contains(key) {
                throw bad(path + key, "not a member of a mapping here; allowed: \(keys.joined(separator: ", ")).")
            }
        }
        try allowOnly(root, ["format", "source", "key", "subject", "events", "description"], "")
        guard try string(root, "format", "") == Self.formatName else { throw bad("format", "must be \"\(Self.formatName)\".") }
        source = try string(root, "source", "")!
        guard Slug.isValid(source) else { throw bad("source", "must be a slug such as \"iea-h2-projects-2022\".") }
        if let keyValue = root["key"] {
            guard case .array(let items) = keyValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
                throw bad("key", "must be a non-empty array of column names.")
            }
            key = items.compactMap(\.stringValue)
        } else {
            key = []
        }
        guard case .object(let subject)? = root["subject"] else { throw bad("subject", "must be an object {\"kind\": …, \"name\": column}.") }
        try allowOnly(subject, ["kind", "name"], "subject.")
        subjectKind = try string(subject, "kind", "subject.")!
        subjectName = try string(subject, "name", "subject.")!
        guard case .array(let eventValues)? = root["events"], !eventValues.isEmpty else { throw bad("events", "must be a non-empty array.") }
        var events: [EventTemplate] = []
        for (index, value) in eventValues.enumerated() {
            let path = "events[\(index)]."
            guard case .object(let object) = value else { throw bad("events[\(index)]", "must be an object.") }
            try allowOnly(object, ["type", "fields"], path)
            let type = try string(object, "type", path)!
            guard let entry = Catalogue.entries[type] else { throw bad(path + "type", "'\(type)' is not an event type of the catalogue.") }
            guard entry.allows(kind: subjectKind) else { throw bad(path + "type", "a '\(type)' event is about '\(entry.subjectKind)/…', not '\(subjectKind)/…'.") }
            guard case .object(let fieldObject)? = object["fields"] else { throw bad(path + "fields", "must be an object of field specifications.") }
            var fields: [Field] = []
            for member in fieldObject.members {
                let fieldPath = path + "fields." + member.key + "."
                guard case .object(let spec) = member.value else { throw bad(path + "fields." + member.key, "must be an object.") }
                try allowOnly(spec, ["column", "value", "convert", "map", "otherwise", "optional", "with"], fieldPath)
                let column = try string(spec, "column", fieldPath, required: false)
                let constant = try string(spec, "value", fieldPath, required: false)
                guard (column == nil) != (constant == nil) else { throw bad(path + "fields." + member.key, "give exactly one of \"column\" and \"value\".") }
                let convert = try string(spec, "convert", fieldPath, required: false)
                if let convert, !Self.conversions.contains(convert) {
                    throw bad(fieldPath + "convert", "'\(convert)' is not a conversion; use one of \(Self.conversions.joined(separator: ", ")).")
                }
                var map: [BytewiseText: String]?
                if let mapValue = spec["map"] {
                    guard case .object(let mapObject) = mapValue, mapObject.members.allSatisfy({ $0.value.stringValue != nil }) else {
                        throw bad(fieldPath + "map", "must be an object of strings (cell text → value).")
                    }
                    map = Dictionary(mapObject.members.map { (BytewiseText($0.key), $0.value.stringValue!) }, uniquingKeysWith: { first, _ in first })
                }
                let otherwiseText = try string(spec, "otherwise", fieldPath, required: false) ?? "error"
                guard let otherwise = Otherwise(rawValue: otherwiseText) else {
                    throw bad(fieldPath + "otherwise", "must be error, skip-event, skip-field or keep.")
                }
                var optional = false
                if let flag = spec["optional"] {
                    guard case .bool(let value) = flag else { throw bad(fieldPath + "optional", "must be true or false.") }
                    optional = value
                }
                let with = try string(spec, "with", fieldPath, required: false)
                fields.append(Field(name: member.key, column: column, value: constant, convert: convert, map: map,
                                    otherwise: otherwise, optional: optional, with: with))
            }
            let known = (entry.required + entry.optional).map(\.0) + [Catalogue.sourceField]
            for field in fields {
                guard known.contains(field.name) else {
                    throw bad(path + "fields." + field.name, "'\(type)' has no field '\(field.name)'; its fields are \(known.joined(separator: ", ")).")
                }
                if let with = field.with, with == field.name || !fields.contains(where: { $0.name == with }) {
                    throw bad(path + "fields." + field.name + ".with", "names '\(with)', which is not a field of this event.")
                }
            }
            for (name, _) in entry.required where !fields.contains(where: { $0.name == name }) {
                throw bad(path + "fields", "'\(type)' requires '\(name)', which the mapping does not give.")
            }
            events.append(EventTemplate(type: type, fields: fields))
        }
        self.events = events
    }
}

/// The view rows a mirror's commits have written, as `COPY` lines (Mirror.md §3, step 6): a
/// transaction deletes and writes again only the rows of the touched subjects whose bytes
/// changed, and deletes those that are gone.
///
/// Kept for every view table but `research_outputs` and `programme_deliveries` (their rows are
/// added, or rewritten with their subject's, by ``MirrorFold/changes(kind:)``). In each of those
/// tables the first COPY field is the subject's id, and the first ``keyFields(_:)`` fields are
/// the table's key after `partnership`. Lines are compared as bytes. Memory: the lines of those
/// view tables, which follow the number of subjects, not of events.
struct WrittenRows {
    /// Table → subject id (escaped as in COPY) → row key (the key fields, escaped, with their
    /// tabs) → line.
    private var tables: [String: [[UInt8]: [[UInt8]: [UInt8]]]] = [:]

    /// How many leading COPY fields of `table` form its key after `partnership`; nil for the
    /// tables whose rows are not kept here.
    static func keyFields(_ table: String) -> Int? {
        switch table {
        case "research_outputs", "programme_deliveries": nil
        case "funding_stages": 2
        case "funding_sums": 3
        default: 1
        }
    }

    /// Forgets every row (before a rewrite of every row).
    mutating func reset() { tables = [:] }

    /// Records `lines` as every row of `table`.
    mutating func replaceAll(_ table: String, lines: [[UInt8]]) {
        guard let fields = Self.keyFields(table) else { return }
        var rows: [[UInt8]: [[UInt8]: [UInt8]]] = [:]
        for line in lines { rows[Array(Self.prefix(line, 1)), default: [:]][Array(Self.prefix(line, fields))] = line }
        tables[table] = rows
    }

    /// What changes in `table` when the rows of `subjects` become `lines`: the keys of the rows
    /// to delete (changed or gone), one array per key field, and the lines to write (changed or
    /// new); records `lines` as those subjects' rows.
    mutating func update(_ table: String, subjects: [String], lines: [[UInt8]], keyFields fields: Int) -> (delete: [[String]], write: [[UInt8]]) {
        var rows = tables.removeValue(forKey: table) ?? [:]
        defer { tables[table] = rows }
        var old: [[UInt8]: [UInt8]] = [:]
        for subject in subjects {
            var escaped = CopyLine()
            escaped.text(subject)
            if let held = rows.removeValue(forKey: escaped.bytes) { old.merge(held) { $1 } }
        }
        var write: [[UInt8]] = []
        var kept = Set<[UInt8]>()
        for line in lines {
            let key = Array(Self.prefix(line, fields))
            if old[key] == line { kept.insert(key) } else { write.append(line) }
            rows[Array(Self.prefix(line, 1)), default: [:]][key] = line
        }
        var delete = Array(repeating: [String](), count: fields)
        for key in old.keys where !kept.contains(key) {
            let parts = key.split(separator: 0x09, omittingEmptySubsequences: false)
            for column in 0..<fields { delete[column].append(Self.unescape(parts[column])) }
        }
        return (delete, write)
    }

    /// The first `fields` fields of a COPY line, with the tabs between them.
    static func prefix(_ line: [UInt8], _ fields: Int) -> ArraySlice<UInt8> {
        var seen = 0
        for index in line.indices where line[index] == 0x09 {
            seen += 1
            if seen == fields { return line[..<index] }
        }
        return line[...]
    }

    /// A COPY text field's value (never `\N` here: key fields are NOT NULL).
    static func unescape(_ field: ArraySlice<UInt8>) -> String {
        var bytes: [UInt8] = []
        var index = field.startIndex
        while index < field.endIndex {
            let byte = field[index]
            if byte == 0x5c, index + 1 < field.endIndex {
                switch field[index + 1] {
                case 0x74: bytes.append(0x09)
                case 0x6e: bytes.append(0x0a)
                case 0x72: bytes.append(0x0d)
                case let other: bytes.append(other)
                }
                index += 2
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

import AccordModel

/// A rectangular view of the state, rendered as an aligned text table, CSV (RFC 4180) or JSON
/// Lines.
public struct Table: Sendable, Equatable {
    /// The title line.
    public var title: String
    /// The column names.
    public var columns: [String]
    /// Columns that hold numbers (right-aligned in text).
    public var numeric: Set<Int>
    /// The rows, one cell per column.
    public var rows: [[String]]
    /// An optional totals row, printed under a rule.
    public var totals: [String]?

    /// A table of `rows` under `columns`; `numeric` holds the indices of number columns.
    public init(title: String, columns: [String], numeric: Set<Int> = [], rows: [[String]], totals: [String]? = nil) {
        self.title = title
        self.columns = columns
        self.numeric = numeric
        self.rows = rows
        self.totals = totals
    }

    /// Aligned text: a title line, a header, the rows, then the totals under a rule. Text cells
    /// longer than `maxWidth` characters are clipped with "…".
    public func text(maxWidth: Int = 60) -> String {
        func clip(_ cell: String) -> String { cell.count <= maxWidth ? cell : String(cell.prefix(maxWidth - 1)) + "…" }
        let rows = self.rows.map { $0.map(clip) }
        var widths = columns.map(\.count)
        for row in rows + (totals.map { [$0] } ?? []) {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return numeric.contains(index) ? padding + cell : cell + padding
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        var out = title + "\n" + line(columns.map { $0.uppercased() })
        if rows.isEmpty { out += "  (none)\n" }
        for row in rows { out += line(row) }
        if let totals {
            out += widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
            out += line(totals)
        }
        return out
    }

    /// CSV (RFC 4180): a header row, then the rows (not the totals), CRLF line ends; fields with
    /// a comma, quote or line break are quoted, quotes doubled.
    public func csv() -> String {
        ([columns] + rows).map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    /// One JSON object per row, keys the column names (canonical JSON; values are strings).
    public func jsonLines() -> [[UInt8]] {
        rows.map { row in
            var out: [UInt8] = [UInt8(ascii: "{")]
            let keyed = zip(columns, row).sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            for (index, (column, cell)) in keyed.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(column, to: &out)
                out.append(UInt8(ascii: ":"))
                CanonicalJSON.appendString(cell, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            return out
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}

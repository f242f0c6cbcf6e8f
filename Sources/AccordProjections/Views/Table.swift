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
    /// Columns of whole-number counts (events, transactions, participants): JSON numbers in
    /// ``jsonLines()``. Amounts and other decimals stay strings, exact as stored.
    public var integers: Set<Int>

    /// A table of `rows` under `columns`; `numeric` holds the indices of number columns,
    /// `integers` those of count columns (a subset of `numeric`).
    public init(title: String, columns: [String], numeric: Set<Int> = [], integers: Set<Int> = [], rows: [[String]], totals: [String]? = nil) {
        self.title = title
        self.columns = columns
        self.numeric = numeric
        self.integers = integers
        self.rows = rows
        self.totals = totals
    }

    /// Aligned text: a title line, a header, the rows, then the totals under a rule. Text cells
    /// longer than `maxWidth` characters are clipped with "…".
    public func text(maxWidth: Int = 60) -> String {
        text(clippingTo: maxWidth)
    }

    /// Aligned text that fits a terminal `width` characters wide, or every character when
    /// `width` is nil (output to a pipe or a file, where ids must survive whole).
    ///
    /// To fit, the widest text column is narrowed (clipped with "…") one character at a time,
    /// down to 12 characters; numbers are never clipped. A table that cannot fit stays wider.
    /// - Parameter width: the terminal's width in characters, or nil for no clipping.
    /// - Returns: the table as text.
    public func text(fitting width: Int?) -> String {
        guard let width else { return text(clippingTo: nil) }
        let human = humanCells()
        var natural = columns.map(\.count)
        for row in human.rows + (human.totals.map { [$0] } ?? []) {
            for (index, cell) in row.enumerated() where index < natural.count { natural[index] = max(natural[index], cell.count) }
        }
        var limits = natural
        while limits.reduce(0, +) + 2 * max(0, limits.count - 1) > width {
            guard let widest = limits.indices.filter({ !numeric.contains($0) && limits[$0] > 12 }).max(by: { limits[$0] < limits[$1] }) else { break }
            limits[widest] -= 1
        }
        return text(clippingTo: nil, columnLimits: limits)
    }

    private func text(clippingTo maxWidth: Int?, columnLimits: [Int]? = nil) -> String {
        func clip(_ cell: String, _ limit: Int?) -> String {
            guard let limit, cell.count > limit else { return cell }
            return String(cell.prefix(max(1, limit - 1))) + "…"
        }
        let human = humanCells()
        let totals = human.totals
        let rows = human.rows.map { row in row.enumerated().map { index, cell in
            numeric.contains(index) ? cell : clip(clip(cell, maxWidth), columnLimits.flatMap { index < $0.count ? $0[index] : nil })
        } }
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

    /// The rows and totals as people read them: in number columns, each decimal with thousands
    /// separators and the column's largest number of decimal places (`1,234,567.89`,
    /// `80.60`, `12.50`). Never used for CSV or JSON, which keep the exact text.
    func humanCells() -> (rows: [[String]], totals: [String]?) {
        guard !numeric.isEmpty else { return (rows, totals) }
        let all = rows + (totals.map { [$0] } ?? [])
        var scales: [Int: Int] = [:]
        for index in numeric {
            scales[index] = all.compactMap { index < $0.count ? Self.decimalParts($0[index]) : nil }.map(\.fraction.count).max() ?? 0
        }
        func format(_ row: [String]) -> [String] {
            row.enumerated().map { index, cell in
                guard let scale = scales[index], let parts = Self.decimalParts(cell) else { return cell }
                var grouped = ""
                for (offset, digit) in parts.integer.enumerated() {
                    if offset > 0, (parts.integer.count - offset) % 3 == 0 { grouped.append(",") }
                    grouped.append(digit)
                }
                let fraction = parts.fraction + String(repeating: "0", count: scale - parts.fraction.count)
                return (parts.negative ? "-" : "") + grouped + (fraction.isEmpty ? "" : "." + fraction)
            }
        }
        return (rows.map(format), totals.map(format))
    }

    /// A plain decimal's parts (`-1234.5` → negative, "1234", "5"), or nil for any other text.
    static func decimalParts(_ text: String) -> (negative: Bool, integer: String, fraction: String)? {
        var bytes = Substring(text).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let integer = bytes.prefix { (0x30...0x39).contains($0) }
        guard !integer.isEmpty else { return nil }
        var rest = bytes.dropFirst(integer.count)
        var fraction = rest.prefix(0)
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            fraction = rest.prefix { (0x30...0x39).contains($0) }
            guard !fraction.isEmpty else { return nil }
            rest = rest.dropFirst(fraction.count)
        }
        guard rest.isEmpty else { return nil }
        return (negative, String(decoding: integer, as: UTF8.self), String(decoding: fraction, as: UTF8.self))
    }

    /// CSV (RFC 4180): a header row, then the rows (not the totals), CRLF line ends; fields with
    /// a comma, quote or line break are quoted, quotes doubled.
    public func csv() -> String {
        ([columns] + rows).map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    /// One CSV field (RFC 4180), quoted when needed. Looks at bytes, not Characters: a comma or quote followed
    /// by a combining mark is one Swift Character that equals neither, yet is a comma or a quote
    /// to every CSV reader.
    public static func csvField(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            out.append(byte)
            if byte == 0x22 { out.append(0x22) }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// One JSON object per row, keys the column names (canonical JSON). Values are strings,
    /// except in ``integers`` columns, whose whole numbers are JSON numbers.
    /// - Parameter titled: also give each row a `"table"` key holding the table's title, so that
    ///   the rows of a view's several tables can be told apart in one stream (`accord state
    ///   finance --json`). A column of that name, if a table had one, keeps its own value.
    public func jsonLines(titled: Bool = false) -> [[UInt8]] {
        let tableColumn = titled && !columns.contains { $0.utf8.elementsEqual("table".utf8) }
        return rows.map { row in
            var out: [UInt8] = [UInt8(ascii: "{")]
            var keyed = zip(columns.indices, row).map { (index: $0, column: columns[$0], cell: $1) }
            if tableColumn { keyed.append((index: -1, column: "table", cell: title)) }
            keyed.sort { $0.column.utf8.lexicographicallyPrecedes($1.column.utf8) }
            for (position, item) in keyed.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(item.column, to: &out)
                out.append(UInt8(ascii: ":"))
                if integers.contains(item.index), let parts = Self.decimalParts(item.cell), parts.fraction.isEmpty,
                   parts.integer.utf8.count == 1 || parts.integer.utf8.first != UInt8(ascii: "0") {
                    out.append(contentsOf: ((parts.negative && parts.integer != "0" ? "-" : "") + parts.integer).utf8)
                } else {
                    CanonicalJSON.appendString(item.cell, to: &out)
                }
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

    /// Replaces every occurrence of the scalar `target`, also where a combining mark follows it
    /// (Character comparison would miss "|" + U+0301, which is still a '|' to a Markdown reader).
    func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == target { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }
}

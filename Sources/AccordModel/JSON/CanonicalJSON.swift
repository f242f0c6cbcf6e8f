/// The canonical JSON encoding of Accord (Format.md §7.2): the bytes that event ids hash.
///
/// - Objects: members sorted by the UTF-8 bytes of their keys (byte-wise, like `memcmp`), no
///   whitespace.
/// - Strings: UTF-8 as given, never normalised; only `"` `\` and control characters below
///   U+0020 are escaped: `\b \t \n \f \r` by their short forms, the rest as `\u00xx` (lower-case
///   hex). `/` and every non-ASCII character are written as they are.
/// - Numbers: integers only, `-?(0|[1-9][0-9]*)` without `-0`, at most 18 digits. Decimals are
///   written as strings (`"amount": "80.60"`).
/// - `true`, `false`, `null` as themselves.
///
/// Unlike Foundation's `JSONEncoder`, whose key order differs between runs and platforms, this
/// gives the same bytes everywhere; golden vectors in `AccordModelTests` pin it.
public enum CanonicalJSON {
    /// Encodes `value` canonically.
    /// - Throws: ``AccordError`` `.badInput` for a number that is not a canonical integer, with
    ///   the field's path.
    public static func encode(_ value: JSONValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try encode(value, into: &out, path: "")
        return out
    }

    /// Appends the canonical encoding of `value` to `out`; `path` names the value in errors.
    public static func encode(_ value: JSONValue, into out: inout [UInt8], path: String) throws {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag): out.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .number(let literal):
            guard isCanonicalInteger(literal) else {
                throw AccordError(.badInput, "Field '\(path)' is the number \(literal.prefix(24)); only whole numbers are stored as JSON numbers — write decimals as strings, e.g. \"80.60\".", field: path)
            }
            out.append(contentsOf: literal.utf8)
        case .string(let text): appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                try encode(element, into: &out, path: "\(path)[\(position)]")
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            try encode(object, into: &out, path: path)
        }
    }

    /// Appends the canonical encoding of an object (members sorted by key bytes).
    public static func encode(_ object: JSONObject, into out: inout [UInt8], path: String) throws {
        out.append(UInt8(ascii: "{"))
        let sorted = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (position, member) in sorted.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            try encode(member.value, into: &out, path: path.isEmpty ? member.key : path + "." + member.key)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// True for `-?(0|[1-9][0-9]*)` with at most 18 digits, excluding `-0`.
    public static func isCanonicalInteger(_ literal: String) -> Bool {
        var digits = Substring(literal)
        if digits.hasPrefix("-") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        if digits.first == "0" { return digits.count == 1 && !literal.hasPrefix("-") }
        return true
    }

    /// Appends `text` as a canonical JSON string.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(0x22)
        // Fast path: most strings need no escape and are copied whole.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(0x22)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}

import Glibc

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
        // Fast path: no error paths built (they cost a string per member); only when a number
        // is not canonical is the object encoded again by the path-tracking encoder, to throw.
        let mark = out.count
        if appendFast(object, to: &out) { return }
        out.removeSubrange(mark...)
        try encodeTracking(object, into: &out, path: path)
    }

    private static func encodeTracking(_ object: JSONObject, into out: inout [UInt8], path: String) throws {
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

    /// Appends `value` canonically; false (with `out` partly written) at the first number that
    /// is not a canonical integer.
    static func appendFast(_ value: JSONValue, to out: inout [UInt8]) -> Bool {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag): flag ? appendASCII("true", to: &out) : appendASCII("false", to: &out)
        case .number(let literal):
            guard isCanonicalInteger(literal) else { return false }
            out.append(contentsOf: literal.utf8)
        case .string(let text): appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                if !appendFast(element, to: &out) { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            return appendFast(object, to: &out)
        }
        return true
    }

    static func appendFast(_ object: JSONObject, to out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "{"))
        let members = object.members
        // Objects read from stored records are already in canonical order: check before sorting.
        var inOrder = true
        if members.count > 1 {
            for index in 1..<members.count where !keyPrecedes(members[index - 1].key, members[index].key) {
                inOrder = false
                break
            }
        }
        if inOrder {
            for index in members.indices {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(members[index].key, to: &out)
                out.append(UInt8(ascii: ":"))
                if !appendFast(members[index].value, to: &out) { return false }
            }
        } else {
            let order = members.indices.sorted { keyPrecedes(members[$0].key, members[$1].key) }
            for (position, index) in order.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(members[index].key, to: &out)
                out.append(UInt8(ascii: ":"))
                if !appendFast(members[index].value, to: &out) { return false }
            }
        }
        out.append(UInt8(ascii: "}"))
        return true
    }

    /// Byte-wise order of keys (like `memcmp`, a shorter prefix first).
    @inline(__always)
    static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        let fast: Bool?? = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
        if let fast = fast ?? nil { return fast }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Appends the bytes of an ASCII literal.
    @inline(__always)
    package static func appendASCII(_ literal: StaticString, to out: inout [UInt8]) {
        literal.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// Appends the decimal digits of `value`.
    package static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[23 - count] = 0x30 + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// The most digits of a JSON number in a record (Format.md §7.2, `MAX_INTEGER_DIGITS`): 18
    /// digits always fit a signed 64-bit integer.
    public static let maxIntegerDigits = 18

    /// True for `-?(0|[1-9][0-9]*)` with at most ``maxIntegerDigits`` digits, excluding `-0`.
    public static func isCanonicalInteger(_ literal: String) -> Bool {
        if let checked = literal.utf8.withContiguousStorageIfAvailable({ isCanonicalInteger(bytes: $0) }) { return checked }
        return Array(literal.utf8).withUnsafeBufferPointer { isCanonicalInteger(bytes: $0) }
    }

    /// ``isCanonicalInteger(_:)`` over a literal's UTF-8 bytes.
    static func isCanonicalInteger(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        if bytes.count > 0, bytes[0] == 0x2D { start = 1 }
        let digits = bytes.count - start
        guard digits >= 1, digits <= maxIntegerDigits else { return false }
        for index in start..<bytes.count where bytes[index] < 0x30 || bytes[index] > 0x39 { return false }
        if bytes[start] == 0x30 { return digits == 1 && start == 0 }
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

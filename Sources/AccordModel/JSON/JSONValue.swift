import Glibc

/// A parsed JSON value (RFC 8259) that keeps text exactly as written.
///
/// Strings are compared by their UTF-8 bytes, never by Unicode canonical equivalence: "é" written
/// as U+00E9 and as "e" + U+0301 are two different values (DESIGN: text is kept byte for byte).
/// Numbers keep their literal text; the model decides which it accepts.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// A number's literal text as written (`42`, `-3`, `80.60`, `1e3`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Equal when of the same kind with the same bytes: strings and number literals by UTF-8 bytes,
    /// objects member by member in order, arrays element by element.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return sameBytes(x, y)
        case (.string(let x), .string(let y)): return sameBytes(x, y)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }

    /// The JSON kind, for error messages ("a number", "a string").
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The text of a string value; nil for any other kind.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value's canonical JSON (Format.md §7.2), or `<not canonical JSON>` when it has none
    /// (a number that is not an integer).
    public var description: String {
        (try? String(decoding: CanonicalJSON.encode(self), as: UTF8.self)) ?? "<not canonical JSON>"
    }
}

/// A JSON object: its members in the order written, keys unique by UTF-8 bytes.
public struct JSONObject: Sendable, Equatable {
    /// The members in the order written.
    public var members: [(key: String, value: JSONValue)]

    /// An object of these members, in this order (the caller keeps keys unique).
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value for `key`, matched by UTF-8 bytes.
    public subscript(key: String) -> JSONValue? {
        members.first { sameBytes($0.key, key) }?.value
    }

    /// The keys in the order written.
    public var keys: [String] { members.map(\.key) }

    /// Equal when the members are equal in the same order (keys by UTF-8 bytes).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for (x, y) in zip(a.members, b.members) where !sameBytes(x.key, y.key) || x.value != y.value {
            return false
        }
        return true
    }
}

/// True when two strings hold the same UTF-8 bytes (not merely canonically equivalent text).
@inlinable
public func sameBytes(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    let fast: Bool? = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
        }
    } ?? nil
    return fast ?? a.utf8.elementsEqual(b.utf8)
}

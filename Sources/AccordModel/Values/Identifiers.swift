/// Identifier rules shared by sites, subjects and references: lower-case slugs
/// `[a-z0-9]+(-[a-z0-9]+)*`, 1 to 64 bytes (Format.md §7.1, ABNF `slug`).
public enum Slug {
    /// The longest slug, in bytes.
    public static let maxLength = 64

    /// True when `text` is a slug.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength, bytes.first != 0x2D else { return false }
        var previousDash = false
        for byte in bytes {
            switch byte {
            case 0x61...0x7A, 0x30...0x39: previousDash = false
            case 0x2D:
                if previousDash { return false }
                previousDash = true
            default: return false
            }
        }
        return !previousDash  // no dash at the end
    }
}

/// The name of a site (an office): a slug such as `brussels` or `astana`. Each site is the only
/// writer of its own feed.
public struct SiteID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The site's name, a slug (ASCII).
    public let rawValue: String
    /// - Throws: ``AccordError`` `.badInput` when `rawValue` is not a slug.
    public init(_ rawValue: String) throws {
        guard Slug.isValid(rawValue) else {
            throw AccordError(.badInput, "The site name '\(rawValue.prefix(80))' is not valid: use lower-case letters, digits and single dashes, at most \(Slug.maxLength) characters (e.g. 'astana').", field: "site")
        }
        self.rawValue = rawValue
    }
    /// The site's name.
    public var description: String { rawValue }
    /// Orders by the names' bytes (the order of `seen` in records, Format.md §7.2).
    public static func < (a: Self, b: Self) -> Bool { a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8) }
    /// Equal when the names' bytes are equal (never by Unicode equivalence).
    public static func == (a: Self, b: Self) -> Bool { sameBytes(a.rawValue, b.rawValue) }
    /// Hashes the name.
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// A position in one site's feed: 1, 2, 3 … with no gaps.
public struct SequenceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number: 1 for a feed's first event; 0 stands for "no event yet" in vectors.
    public let rawValue: UInt64
    /// A sequence number from its value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The number after this one.
    public var next: SequenceNumber { SequenceNumber(rawValue + 1) }
    /// The number in decimal.
    public var description: String { String(rawValue) }
    /// Orders numerically.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// An event's id: the SHA-256 of its canonical bytes (Format.md §7.3), shown as 64 lower-case
/// hex digits.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64 lower-case hex digits.
    public let hex: String

    /// - Throws: ``AccordError`` `.badInput` unless `hex` is 64 lower-case hex digits.
    public init(hex: String) throws {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw AccordError(.badInput, "'\(hex.prefix(80))' is not an event id: an id is 64 lower-case hexadecimal digits.", field: "id")
        }
        self.hex = hex
    }

    /// An id from digits already checked to be 64 lower-case hex digits.
    init(validatedHex hex: String) {
        self.hex = hex
    }

    init(digest bytes: some Sequence<UInt8>) {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        hex = String(decoding: text, as: UTF8.self)
    }

    /// The 64 hex digits.
    public var description: String { hex }
    /// The first 12 digits, for tables.
    public var short: String { String(hex.prefix(12)) }
    /// Orders by the hex digits (ASCII, so the same as by the digest's bytes).
    public static func < (a: Self, b: Self) -> Bool { a.hex < b.hex }
}

/// A versioned event type name such as `finance.committed.v1` (STYLE §4: explicit versioned
/// strings, never derived from Swift type names).
public struct EventType: Hashable, Sendable, CustomStringConvertible {
    /// The type's name, e.g. `finance.committed.v1`.
    public let rawValue: String
    /// A type from its name (not checked against the catalogue).
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The type's name.
    public var description: String { rawValue }

    /// The version suffix (`1` for `finance.committed.v1`), or nil if the name has none.
    public var version: Int? {
        guard let dot = rawValue.lastIndex(of: "."), rawValue[rawValue.index(after: dot)...].hasPrefix("v") else { return nil }
        return Int(rawValue[rawValue.index(dot, offsetBy: 2)...])
    }
}

/// What an event is about: `kind/id`, e.g. `action/raw-materials-01` (Format.md §7.1, ABNF `subject`).
public struct Subject: Hashable, Sendable, CustomStringConvertible {
    /// The part before `/`: lower-case letters, e.g. `action`.
    public let kind: String
    /// The part after `/`: a slug, e.g. `raw-materials-01`.
    public let id: String

    /// - Throws: ``AccordError`` `.badInput` unless `text` is `kind/slug` with a lower-case kind.
    public init(_ text: String) throws {
        let slash = text.utf8.firstIndex(of: 0x2F)
        let parts = slash.map { [text[..<$0], text[text.utf8.index(after: $0)...]] } ?? [Substring(text)]
        // (A second '/' is refused by the slug check of the id.)
        guard parts.count == 2, parts[0].utf8.allSatisfy({ (0x61...0x7A).contains($0) }), !parts[0].isEmpty,
              parts[0].utf8.count <= Self.maxKindLength, Slug.isValid(parts[1]) else {
            throw AccordError(.badInput, "The subject '\(text.prefix(80))' is not valid: write 'kind/id' with a kind of at most \(Self.maxKindLength) lower-case letters and a lower-case slug id, e.g. 'action/raw-materials-01'.", field: "subject")
        }
        kind = String(parts[0])
        id = String(parts[1])
    }

    /// A subject from its two parts; nil unless `kind` is lower-case letters and `id` a slug.
    init?(kind: String, id: String) {
        guard !kind.isEmpty, kind.utf8.count <= Self.maxKindLength, kind.utf8.allSatisfy({ (0x61...0x7A).contains($0) }), Slug.isValid(id) else { return nil }
        self.kind = kind
        self.id = id
    }

    /// The longest kind, in bytes (Format.md §7.1, `subject`): a subject is at most 129 bytes.
    public static let maxKindLength = 64

    /// The subject as stored: `kind/id`.
    public var description: String { kind + "/" + id }
}

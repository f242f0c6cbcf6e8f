/// Identifier rules shared by sites, subjects and references: lower-case slugs
/// `[a-z0-9]+(-[a-z0-9]+)*`, 1 to 64 bytes (Format.md §7.1, ABNF `slug`).
public enum Slug {
    /// The longest slug, in bytes.
    public static let maxLength = 64

    /// True when `text` is a slug.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        var text = String(text)
        return text.withUTF8 { isValid(bytes: $0) }
    }

    /// ``isValid(_:)`` over UTF-8 bytes (the catalogue's byte check).
    package static func isValid(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxLength, bytes[0] != 0x2D else { return false }
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
///
/// Held as the digest's 32 bytes (four big-endian words, so that comparing the words compares
/// the bytes and hence the hex digits); the hex text is made only where it is shown or stored
/// (``hex``, ``appendHex(to:)``). Comparing, hashing and copying an id allocate nothing.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Digest bytes 0..<8, 8..<16, 16..<24, 24..<32, each read big-endian.
    private let w0, w1, w2, w3: UInt64

    /// The 64 lower-case hex digits (made on each call).
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { buffer in
            Self.writeHex(w0, w1, w2, w3, into: UnsafeMutableRawBufferPointer(buffer))
            return 64
        }
    }

    /// - Throws: ``AccordError`` `.badInput` unless `hex` is 64 lower-case hex digits.
    public init(hex: String) throws {
        var text = hex
        let parsed: EventID? = text.withUTF8 { Self(hexDigits: UnsafeRawBufferPointer($0)) }
        guard let parsed else {
            throw AccordError(.badInput, "'\(hex.prefix(80))' is not an event id: an id is 64 lower-case hexadecimal digits.", field: "id")
        }
        self = parsed
    }

    /// An id from digits already checked to be 64 lower-case hex digits.
    init(validatedHex hex: String) {
        var text = hex
        self = text.withUTF8 { Self(hexDigits: UnsafeRawBufferPointer($0)) }!
    }

    /// The id spelled by `digits`: nil unless they are exactly 64 lower-case hex digits.
    package init?(hexDigits digits: UnsafeRawBufferPointer) {
        guard digits.count == 64, let base = digits.baseAddress else { return nil }
        let (a, okA) = Self.word(base)
        let (b, okB) = Self.word(base + 16)
        let (c, okC) = Self.word(base + 32)
        let (d, okD) = Self.word(base + 48)
        guard okA && okB && okC && okD else { return nil }
        (w0, w1, w2, w3) = (a, b, c, d)
    }

    /// The value of the 16 hex digits at `base`, and whether all were lower-case hex digits.
    @inline(__always)
    private static func word(_ base: UnsafeRawPointer) -> (UInt64, Bool) {
        var value: UInt64 = 0
        var bad: UInt8 = 0
        for offset in 0..<16 {
            let c = base.load(fromByteOffset: offset, as: UInt8.self)
            // 0-9 → 0…9, a-f → 10…15, without branches; anything else marks the word bad.
            let digit = c &- 0x30, letter = c &- 0x61
            let isDigit = digit < 10, isLetter = letter < 6
            bad |= (isDigit || isLetter) ? 0 : 1
            value = value &<< 4 | UInt64(isDigit ? digit : letter &+ 10)
        }
        return (value, bad == 0)
    }

    /// The id of a 32-byte digest (a SHA-256).
    init(digest bytes: some Sequence<UInt8>) {
        var words: [UInt64] = [0, 0, 0, 0]
        var count = 0
        for byte in bytes where count < 32 {
            words[count / 8] = words[count / 8] << 8 | UInt64(byte)
            count += 1
        }
        precondition(count == 32, "an event id is a 32-byte digest")
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// The id of the 32 digest bytes at `bytes` (a SHA-256 as swift-crypto hands it over).
    package init(digestBytes bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "an event id is a 32-byte digest")
        func word(_ at: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        (w0, w1, w2, w3) = (word(0), word(8), word(16), word(24))
    }

    /// Appends the 64 hex digits to `out` (records and canonical bytes, without a `String`).
    package func appendHex(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 64))
        out.withUnsafeMutableBytes { Self.writeHex(w0, w1, w2, w3, into: UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start + 64)])) }
    }

    private static func writeHex(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64, into out: UnsafeMutableRawBufferPointer) {
        writeHex(w0, into: out, at: 0)
        writeHex(w1, into: out, at: 16)
        writeHex(w2, into: out, at: 32)
        writeHex(w3, into: out, at: 48)
    }

    @inline(__always)
    private static func writeHex(_ word: UInt64, into out: UnsafeMutableRawBufferPointer, at start: Int) {
        for nibble in 0..<16 {
            let digit = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * nibble)) & 15
            out[start + nibble] = digit < 10 ? 0x30 + digit : 0x61 - 10 + digit
        }
    }

    /// The 64 hex digits.
    public var description: String { hex }
    /// The first 12 digits, for tables.
    public var short: String { String(hex.prefix(12)) }
    /// Orders by the digest's bytes (the same order as by the hex digits, which are ASCII).
    public static func < (a: Self, b: Self) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }
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

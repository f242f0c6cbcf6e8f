/// Text that is equal, hashed and ordered by its UTF-8 bytes: the key to use wherever user
/// text is deduplicated or looked up (a `Set`, a `Dictionary` key).
///
/// Swift's `String` equates canonically equivalent spellings, such as "é" as U+00E9 (NFC) and
/// as "e" + U+0301 (NFD), so a `Set<String>` or `[String: …]` merges two texts that Accord keeps
/// apart (DESIGN: text is kept byte for byte). Wrap the text in this type instead.
///
/// ```swift
/// var seen = Set<BytewiseText>()
/// seen.insert(BytewiseText("caf\u{E9}"))
/// seen.contains(BytewiseText("cafe\u{301}"))  // false
/// ```
/// - Complexity: equality, hashing and ordering are O(n) in the UTF-8 length.
public struct BytewiseText: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The text.
    public let text: String

    /// The text `text`, compared by its bytes.
    public init(_ text: String) { self.text = text }

    /// Equal when the UTF-8 bytes are equal.
    public static func == (a: Self, b: Self) -> Bool { sameBytes(a.text, b.text) }

    /// Hashes the UTF-8 bytes, in one call (a `combine` per byte was a tenth of an IATI import's
    /// time). Equal bytes give equal input to the hasher whatever the string's storage: a string
    /// that is not contiguous UTF-8 is made so on a copy first.
    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// UTF-8 byte order (the order of code points).
    public static func < (a: Self, b: Self) -> Bool { a.text.utf8.lexicographicallyPrecedes(b.text.utf8) }

    /// The text itself.
    public var description: String { text }
}

import AccordModel

/// Text that is equal, hashed and ordered by its UTF-8 bytes (Swift's `String` equates
/// canonically equivalent spellings, such as NFC and NFD).
struct BytewiseText: Hashable, Comparable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: Self, b: Self) -> Bool { sameBytes(a.text, b.text) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        for byte in text.utf8 { hasher.combine(byte) }
    }

    static func < (a: Self, b: Self) -> Bool { a.text.utf8.lexicographicallyPrecedes(b.text.utf8) }
}

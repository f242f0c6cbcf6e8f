/// The decoder's scalar readers that need no decoder state: canonical integers and the
/// hybrid logical clock text (Format.md §7.1).
extension CanonicalRecordDecoder {
    /// The non-negative canonical integer of at most `maxDigits` digits at `position` in
    /// `bytes` (no leading zero), moving `position` past it; nil if there is none.
    static func digits(_ bytes: UnsafeRawBufferPointer, at position: inout Int, maxDigits: Int) -> UInt64? {
        let start = position
        var value: UInt64 = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            value = value &* 10 &+ UInt64(bytes[position] - 0x30)
            position += 1
        }
        let count = position - start
        guard count >= 1, count <= maxDigits, count == 1 || bytes[start] != 0x30 else { return nil }
        return value
    }

    /// `"<milliseconds>:<counter>"`, both canonical non-negative integers (Format.md §7.1).
    static func hybridTimestamp(_ text: String) -> HybridTimestamp? {
        var text = text
        return text.withUTF8 { utf8 -> HybridTimestamp? in
            let raw = UnsafeRawBufferPointer(utf8)
            var position = 0
            func number(maxDigits: Int) -> UInt64? { digits(raw, at: &position, maxDigits: maxDigits) }
            guard let milliseconds = number(maxDigits: CanonicalJSON.maxIntegerDigits), milliseconds <= UInt64(HybridTimestamp.latestMilliseconds),
                  position < utf8.count, utf8[position] == 0x3A
            else { return nil }
            position += 1
            guard let counter = number(maxDigits: 10), counter <= UInt64(UInt32.max), position == utf8.count else { return nil }
            return HybridTimestamp(milliseconds: Int64(milliseconds), counter: UInt32(counter))
        }
    }
}

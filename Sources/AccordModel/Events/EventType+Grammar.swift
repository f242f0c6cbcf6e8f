extension EventType {
    /// The longest type name, in bytes (Format.md §7.1, `type`).
    public static let maxLength = 128
    /// The most digits of a type's version (Format.md §7.1, `MAX_TYPE_VERSION_DIGITS`).
    public static let maxVersionDigits = 9

    /// True when `name` is an event type name (Format.md §7.1, ABNF `type`): one or more names
    /// joined by `.`, then `.v` and a version of 1 to 9 digits without a leading zero, at most
    /// ``maxLength`` bytes. A name is a lower-case letter followed by lower-case letters and
    /// digits, with single `-` between them (`finance.committed.v1`, `industry.milestone.reached.v1`).
    ///
    /// The grammar is a reader's check of every stored record; whether the type is in the
    /// catalogue is a separate check, made only when an event is appended (Format.md §7.5).
    /// Compared as UTF-8 bytes; anything outside ASCII is refused.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        bytes.append(contentsOf: name.utf8)
        return bytes.withUnsafeBytes { isValidName(bytes: $0) }
    }

    /// ``isValidName(_:)`` on the UTF-8 bytes of a name.
    public static func isValidName(bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4, bytes.count <= maxLength else { return false }
        // The version: `.v` and digits at the end, no leading zero, at most 9 digits.
        var end = bytes.count
        while end > 0, (0x30...0x39).contains(bytes[end - 1]) { end -= 1 }
        let digits = bytes.count - end
        guard digits >= 1, digits <= maxVersionDigits, bytes[end] != 0x30,
              end >= 3, bytes[end - 1] == UInt8(ascii: "v"), bytes[end - 2] == UInt8(ascii: ".")
        else { return false }
        // The names before it: `name *("." name)`.
        var atStart = true  // at the start of a name
        var afterDash = false
        for position in 0..<(end - 2) {
            let c = bytes[position]
            switch c {
            case 0x61...0x7A:
                atStart = false
                afterDash = false
            case 0x30...0x39:
                guard !atStart else { return false }
                afterDash = false
            case UInt8(ascii: "-"):
                guard !atStart, !afterDash else { return false }
                afterDash = true
            case UInt8(ascii: "."):
                guard !atStart, !afterDash else { return false }
                atStart = true
            default:
                return false
            }
        }
        return !atStart && !afterDash
    }

    /// Whether this type's name is valid (``isValidName(_:)``).
    public var isValid: Bool { Self.isValidName(rawValue) }
}

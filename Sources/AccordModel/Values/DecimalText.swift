/// Decimal numbers written as strings, as money is (DESIGN: "a decimal string plus an ISO 4217
/// code, never a binary floating-point number").
///
/// The grammar is `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 18 digits before the point and 9
/// after; the text is kept exactly as written (`"80.60"` stays `"80.60"`), so it round-trips byte
/// for byte.
public enum DecimalText {
    /// The most digits before the decimal point (18 digits always fit a signed 64-bit integer).
    public static let maxIntegerDigits = 18
    /// The most digits after the decimal point.
    public static let maxFractionDigits = 9

    /// True when `text` matches the grammar; `allowNegative` admits a leading `-` (a correction).
    public static func isValid(_ text: String, allowNegative: Bool) -> Bool {
        if let checked = text.utf8.withContiguousStorageIfAvailable({ isValid(bytes: $0, allowNegative: allowNegative) }) { return checked }
        return Array(text.utf8).withUnsafeBufferPointer { isValid(bytes: $0, allowNegative: allowNegative) }
    }

    /// ``isValid(_:allowNegative:)`` over the text's UTF-8 bytes (the catalogue's byte check).
    package static func isValid(bytes: UnsafeBufferPointer<UInt8>, allowNegative: Bool) -> Bool {
        var start = 0
        if bytes.count > 0, bytes[0] == UInt8(ascii: "-") {
            guard allowNegative else { return false }
            start = 1
        }
        guard start < bytes.count, (0x30...0x39).contains(bytes[start]) else { return false }
        var digits = 0
        var seenPoint = false
        var digitsAfterPoint = 0
        var previous: UInt8 = 0
        for position in 0..<(bytes.count - start) {
            let byte = bytes[start + position]
            if byte == UInt8(ascii: ".") {
                guard !seenPoint, position > 0 else { return false }
                seenPoint = true
            } else if (0x30...0x39).contains(byte) {
                if position == 1, previous == 0x30, !seenPoint { return false }  // leading zero
                digits += 1
                if seenPoint { digitsAfterPoint += 1 }
            } else {
                return false
            }
            previous = byte
        }
        return digits - digitsAfterPoint <= maxIntegerDigits && digitsAfterPoint <= maxFractionDigits && (!seenPoint || digitsAfterPoint > 0)
    }
}

/// A sum of money: a decimal string and an ISO 4217 currency code (DESIGN, Money).
public struct Amount: Hashable, Sendable, CustomStringConvertible {
    /// The decimal text as written, e.g. `"1234567.89"` or `"-250000.00"` (a correction).
    public let decimal: String
    /// The ISO 4217 alphabetic code, e.g. `KZT`.
    public let currency: String

    /// - Throws: ``AccordError`` `.badInput` naming `amount` or `currency`.
    public init(decimal: String, currency: String) throws {
        guard DecimalText.isValid(decimal, allowNegative: true) else {
            throw AccordError(.badInput, "Field 'amount' is '\(decimal.prefix(40))', not a decimal string: write digits with an optional '-' and '.', at most 18 before the point and 9 after, e.g. \"1234567.89\".", field: "amount")
        }
        guard Codes.isCurrency(currency) else {
            throw AccordError(.badInput, "Field 'currency' is '\(currency.prefix(12))', not an ISO 4217 currency code (e.g. EUR, KZT, USD).", field: "currency")
        }
        self.decimal = decimal
        self.currency = currency
    }

    /// The amount and its currency, e.g. `80.60 KZT`.
    public var description: String { decimal + " " + currency }
}

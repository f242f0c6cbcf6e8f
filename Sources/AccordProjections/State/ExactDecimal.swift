import AccordModel

/// An exact decimal number for sums of money and quantities: an integer count of units of
/// 10^-scale (`80.60` is 8060 at scale 2). Addition aligns scales; nothing is ever rounded, and
/// no binary floating point is involved (DESIGN, Money).
///
/// Range: |value| < 2^127 units, enough for 10^30 summed a million times.
public struct ExactDecimal: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The value in units of 10^-``scale``.
    public private(set) var units: Int128
    /// Digits after the decimal point.
    public private(set) var scale: Int

    /// Zero, at scale 0.
    public static let zero = ExactDecimal(units: 0, scale: 0)

    /// The value `units` × 10^-`scale`.
    public init(units: Int128, scale: Int) {
        self.units = units
        self.scale = scale
    }

    /// Most digits before and after the point that a value may have (DecimalText's limits):
    /// |value| < 10^18 at a scale of at most 9 keeps every sum of up to 10^11 values inside
    /// Int128, so addition never overflows in practice; it saturates if it ever would.
    public static let maxIntegerDigits = 18
    /// Most digits after the point (see ``maxIntegerDigits``).
    public static let maxScale = 9

    /// Parses a decimal string of the catalogue's grammar (``DecimalText``).
    /// - Returns: nil when `text` is not such a string or exceeds the limits above.
    public init?(_ text: String) {
        guard DecimalText.isValid(text, allowNegative: true) else { return nil }
        // The digits are counted in the one pass over the bytes (valid text is ASCII: `-`,
        // digits and at most one point), not by splitting and filtering Characters: a status
        // report parses every transaction's amount (issue 18).
        var negative = false
        var units: Int128 = 0
        var integerDigits = 0, scale = 0
        var afterPoint = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): afterPoint = true
            default:
                units = units * 10 + Int128(byte - 0x30)
                if afterPoint { scale += 1 } else { integerDigits += 1 }
            }
        }
        guard integerDigits <= Self.maxIntegerDigits, scale <= Self.maxScale else { return nil }
        self.init(units: negative ? -units : units, scale: scale)
    }

    private static func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    /// `self` at a larger scale (more digits after the point), same value.
    public func rescaled(to newScale: Int) -> ExactDecimal {
        guard newScale > scale else { return self }
        let (product, overflow) = units.multipliedReportingOverflow(by: Self.power(newScale - scale))
        return ExactDecimal(units: overflow ? (units < 0 ? Int128.min : Int128.max) : product, scale: newScale)
    }

    /// The exact sum, at the greater scale; saturates at the bounds of Int128 units.
    public static func + (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let scale = max(a.scale, b.scale)
        let x = a.rescaled(to: scale).units, y = b.rescaled(to: scale).units
        let (sum, overflow) = x.addingReportingOverflow(y)
        return ExactDecimal(units: overflow ? (x < 0 ? Int128.min : Int128.max) : sum, scale: scale)
    }

    /// The exact difference, at the greater scale; saturates as ``+(_:_:)`` does.
    public static func - (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        a + ExactDecimal(units: b.units == Int128.min ? Int128.max : -b.units, scale: b.scale)
    }

    /// Adds `b` to `a` exactly.
    public static func += (a: inout ExactDecimal, b: ExactDecimal) { a = a + b }

    /// Compares values, whatever their scales.
    public static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        let scale = max(a.scale, b.scale)
        return a.rescaled(to: scale).units < b.rescaled(to: scale).units
    }

    /// Whether the values are equal, whatever their scales (`1.50` == `1.5`).
    public static func == (a: ExactDecimal, b: ExactDecimal) -> Bool {
        let scale = max(a.scale, b.scale)
        return a.rescaled(to: scale).units == b.rescaled(to: scale).units
    }

    /// Hashes the value so that equal values at different scales hash alike.
    public func hash(into hasher: inout Hasher) {
        // Equal values at different scales must hash alike: hash the value without trailing zeros.
        var units = self.units
        var scale = self.scale
        while scale > 0, units % 10 == 0 {
            units /= 10
            scale -= 1
        }
        hasher.combine(units)
        hasher.combine(scale)
    }

    /// Whether the value is below zero.
    public var isNegative: Bool { units < 0 }
    /// Whether the value is zero.
    public var isZero: Bool { units == 0 }

    /// The decimal text, with exactly ``scale`` digits after the point (`600.00`).
    public var description: String {
        let negative = units < 0
        var digits = String(units.magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return (negative ? "-" : "") + digits
    }

    /// Decodes the decimal text of ``description``.
    /// - Throws: `DecodingError.dataCorrupted` when the text is not a decimal of the catalogue's grammar.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = ExactDecimal(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a decimal: \(text.prefix(40))"))
        }
        self = value
    }

    /// Encodes the value as its decimal text (``description``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Sums per ISO 4217 currency: never mixed, never converted (DESIGN, Money).
public struct CurrencySums: Hashable, Sendable, Codable {
    /// The sum for each currency code that has appeared.
    public private(set) var byCurrency: [String: ExactDecimal] = [:]

    /// No sums.
    public init() {}

    /// The sums `byCurrency` (a read model's, decoded; Format.md §9.4.3).
    init(byCurrency: [String: ExactDecimal]) { self.byCurrency = byCurrency }

    /// Adds `amount` to the sum of `currency` (an ISO 4217 code).
    public mutating func add(_ amount: ExactDecimal, _ currency: String) {
        byCurrency[currency, default: .zero] += amount
    }

    /// The sums of both, per currency.
    public static func + (a: CurrencySums, b: CurrencySums) -> CurrencySums {
        var sum = a
        for (currency, amount) in b.byCurrency { sum.add(amount, currency) }
        return sum
    }

    /// The sums of `a` less those of `b`, per currency.
    public static func - (a: CurrencySums, b: CurrencySums) -> CurrencySums {
        var difference = a
        for (currency, amount) in b.byCurrency { difference.add(ExactDecimal.zero - amount, currency) }
        return difference
    }

    /// The currencies in code order.
    public var currencies: [String] { byCurrency.keys.sorted() }

    /// The sum of `currency`, zero when it has not appeared.
    public subscript(currency: String) -> ExactDecimal { byCurrency[currency] ?? .zero }

    /// Whether no currency has appeared.
    public var isEmpty: Bool { byCurrency.isEmpty }

    /// "1234567.89 KZT + 80.60 USD".
    public var description: String {
        currencies.map { "\(byCurrency[$0]!) \($0)" }.joined(separator: " + ")
    }
}

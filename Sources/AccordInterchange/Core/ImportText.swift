import AccordModel

/// Text cleaned for a catalogue `text` field: runs of white space (including line breaks and
/// tabs) become one space, other control characters are dropped, and the ends are trimmed;
/// longer than 4,096 bytes, it is cut at a character boundary and ended with "…".
public func importText(_ raw: String) -> String? {
    // Most text is printable ASCII with single inner spaces: kept as it is, without the
    // Unicode property lookups below.
    var previousSpace = true
    var plain = raw.utf8.count <= 4096
    for byte in raw.utf8 where plain {
        if byte == 0x20 {
            if previousSpace { plain = false }
            previousSpace = true
        } else {
            plain = byte > 0x20 && byte < 0x7F
            previousSpace = false
        }
    }
    if plain, !raw.isEmpty, !previousSpace { return raw }
    var out = ""
    var space = false
    for scalar in raw.unicodeScalars {
        if scalar.properties.isWhitespace {
            space = true
            continue
        }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) { continue }
        if space, !out.isEmpty { out.unicodeScalars.append(" ") }
        space = false
        out.unicodeScalars.append(scalar)
    }
    guard !out.isEmpty else { return nil }
    if out.utf8.count > 4096 {
        var cut = ""
        for character in out {
            if cut.utf8.count + character.utf8.count > 4093 { break }
            cut.append(character)
        }
        out = cut + "…"
    }
    return out
}

/// An `xsd:decimal` lexical form (`[+-]?(digits[.digits]|.digits)`, as IATI `value` holds) in
/// the catalogue's decimal form: no `+`, no leading zeros, `.5` → `0.5`, `5.` → `5`; the
/// fraction's digits kept as written. Nil when it is not a decimal or exceeds 18 integer or
/// 9 fraction digits (``DecimalText``).
public func normalizedDecimal(_ raw: String) -> String? {
    var text = Substring(raw)
    var negative = false
    if text.first == "+" || text.first == "-" {
        negative = text.first == "-"
        text = text.dropFirst()
    }
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let integer = parts[0]
    let fraction = parts.count > 1 ? parts[1] : ""
    guard !(integer.isEmpty && fraction.isEmpty),
          integer.utf8.allSatisfy({ (0x30...0x39).contains($0) }), fraction.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    var digits = integer.drop { $0 == "0" }
    if digits.isEmpty { digits = "0" }
    var result = String(digits) + (fraction.isEmpty ? "" : "." + fraction)
    let isZero = result.utf8.allSatisfy { $0 == 0x30 || $0 == 0x2E }
    if negative, !isZero { result = "-" + result }
    return DecimalText.isValid(result, allowNegative: true) ? result : nil
}

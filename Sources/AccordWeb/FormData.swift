/// The fields of an `application/x-www-form-urlencoded` body or a query string, decoded to
/// bytes and then to UTF-8 text (a value that is not UTF-8 is refused, never replaced by U+FFFD).
struct FormData: Sendable {
    /// Every name with its values, in order.
    var fields: [(name: String, value: String)] = []

    /// The largest form body read, in bytes (Journal/UI.md §7).
    static let maxBodyBytes = 256 << 10

    init() {}

    /// Decodes `bytes`; nil when a name or value is not UTF-8 after percent-decoding.
    init?<Bytes: Collection<UInt8>>(urlEncoded bytes: Bytes) {
        for pair in bytes.split(separator: UInt8(ascii: "&")) where !pair.isEmpty {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            guard let name = Self.decode(pair[..<(equals ?? pair.endIndex)]),
                  let value = equals.map({ Self.decode(pair[pair.index(after: $0)...]) }) ?? "" else { return nil }
            fields.append((name, value))
        }
    }

    private static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), let high = bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex), high != bytes.endIndex,
                      let low = bytes.index(high, offsetBy: 1, limitedBy: bytes.endIndex), low != bytes.endIndex,
                      let h = hexValue(bytes[high]), let l = hexValue(bytes[low]) {
                out.append(h << 4 | l)
                index = low
            } else {
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The first value of `name` (names compared as bytes).
    subscript(name: String) -> String? {
        fields.first { $0.name.utf8.elementsEqual(name.utf8) }?.value
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] {
        fields.filter { $0.name.utf8.elementsEqual(name.utf8) }.map(\.value)
    }

    /// The first value of `name`, nil when missing or empty.
    func nonEmpty(_ name: String) -> String? {
        self[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}

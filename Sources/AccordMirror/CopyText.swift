/// Lines of PostgreSQL's `COPY … FROM STDIN (FORMAT text)` (Mirror.md §3): fields separated by a
/// tab, `\N` for NULL, and backslash, tab, newline and carriage return escaped. Text is copied
/// byte for byte: nothing is normalised, so two spellings of one name stay two values.
struct CopyLine {
    private(set) var bytes: [UInt8] = []

    /// An empty line with room for `capacity` bytes.
    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// An empty line.
    init() {}

    /// Appends a text field (nil: NULL).
    mutating func text(_ value: String?) {
        separate()
        guard let value else { bytes.append(contentsOf: [0x5c, 0x4e]); return }
        Self.escape(value.utf8, into: &bytes)
    }

    /// Appends raw bytes as a text field (a stored record, a JSON payload).
    mutating func raw<Bytes: Collection<UInt8>>(_ value: Bytes) {
        separate()
        Self.escape(value, into: &bytes)
    }

    /// Appends a number or any field whose text needs no escaping (nil: NULL).
    mutating func plain(_ value: String?) {
        separate()
        guard let value else { bytes.append(contentsOf: [0x5c, 0x4e]); return }
        bytes.append(contentsOf: value.utf8)
    }

    /// Appends a `text[]` field (nil: NULL), each element quoted as an array literal.
    mutating func array(_ values: [String]?) {
        guard let values else { plain(nil); return }
        var literal: [UInt8] = [UInt8(ascii: "{")]
        for (index, value) in values.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            literal.append(0x22)
            for byte in value.utf8 {
                if byte == 0x22 || byte == 0x5c { literal.append(0x5c) }
                literal.append(byte)
            }
            literal.append(0x22)
        }
        literal.append(UInt8(ascii: "}"))
        raw(literal)
    }

    private var started = false

    private mutating func separate() {
        if started { bytes.append(0x09) }
        started = true
    }

    /// Appends `value` escaped: runs of bytes that need no escape are copied at once.
    private static func escape<Bytes: Collection<UInt8>>(_ value: Bytes, into out: inout [UInt8]) {
        if value.withContiguousStorageIfAvailable({ escape($0, into: &out) }) != nil { return }
        Array(value).withUnsafeBufferPointer { escape($0, into: &out) }
    }

    private static func escape(_ value: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var start = 0
        var index = 0
        let count = value.count
        while index < count {
            // Eight bytes at a time while none of them is one to escape (most runs of text).
            if index + 8 <= count, !Self.mayNeedEscape(UnsafeRawPointer(value.baseAddress! + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let byte = value[index]
            // Every byte to escape is below 0x5d and one of these four; most bytes are above.
            guard byte <= 0x5c, byte == 0x5c || byte == 0x09 || byte == 0x0a || byte == 0x0d else { index += 1; continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: value[start..<index]))
            out.append(0x5c)
            switch byte {
            case 0x09: out.append(0x74)
            case 0x0a: out.append(0x6e)
            case 0x0d: out.append(0x72)
            default: out.append(0x5c)
            }
            index += 1
            start = index
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: value[start..<count]))
    }

    /// Whether any of the eight bytes of `word` may be a backslash, tab, newline or carriage
    /// return (never false when one is; may be true when none is, then the bytes are looked at
    /// one by one).
    @inline(__always)
    private static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasByte(_ byte: UInt64) -> Bool {
            let x = word ^ (ones &* byte)
            return (x &- ones) & ~x & highs != 0
        }
        return hasByte(0x5c) || hasByte(0x09) || hasByte(0x0a) || hasByte(0x0d)
    }
}

/// One field of a COPY line (``CopyLine/init(_:)``): text (escaped), a number or other text that
/// needs no escaping, or a `text[]`; nil is NULL in each.
enum CopyField {
    case text(String?)
    case plain(String?)
    case array([String]?)
}

extension CopyLine {
    /// The line of `fields`, in order: one row of a view table.
    init(_ fields: CopyField...) {
        self.init()
        for field in fields {
            switch field {
            case .text(let value): text(value)
            case .plain(let value): plain(value)
            case .array(let values): array(values)
            }
        }
    }
}

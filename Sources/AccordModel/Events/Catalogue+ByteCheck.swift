import Glibc

/// The catalogue compiled once into flat tables over bytes, for the check of every draft.
///
/// ``Catalogue/validate(type:subject:data:)`` first asks ``accepts(type:subjectKind:data:)``,
/// which only answers yes or "not sure": it looks names up by their UTF-8 bytes (an FNV-1a table
/// of types, a short scan of a type's fields), checks codes against bit sets of their letters,
/// allocates nothing, builds no text, and takes no hash of a `String` (Swift hashes text by
/// canonical equivalence, which is work, and which the catalogue never uses: names are compared
/// by bytes). Whatever it does not accept — any error, and the rare kinds it leaves out
/// (`publicKey`) — goes to the reference check, which gives the verdict and the error. So the
/// answer is the reference's as long as every draft accepted here is accepted there too:
/// `CatalogueByteCheckTests` holds the two to that over realistic and damaged drafts.
struct CatalogueTable: @unchecked Sendable {  // immutable after `build()`, its memory never freed
    /// What a compiled field must hold (``Catalogue/FieldKind`` without payloads).
    enum Kind: UInt8 {
        case text, reference, references, oneOf, listOf, country, date, signedDecimal, decimal, currency, count, url, money
        case narratives, descriptions, activityDates, eventID, keyDigest, sequenceNumber
        /// Left to the reference check.
        case unsupported
    }

    /// A stretch of ``bytes`` (a name) or of ``options``.
    struct Span {
        var start: Int32
        var count: Int32
    }

    /// One allowed field of a type.
    struct Field {
        var name: Span
        var kind: Kind
        /// The allowed values of `oneOf`/`listOf`, a span of ``options``.
        var options: Span
        /// The byte limit of `narratives`.
        var limit: Int32
    }

    /// One type of the catalogue.
    struct TypeEntry {
        var name: Span
        var subjectKind: Span
        var anyKind: Bool
        /// Its allowed fields (required, optional, `source`), a span of ``fields``.
        var fields: Span
        /// One bit per field of `fields` that is required.
        var required: UInt64
        var needsSomeField: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let types: UnsafeBufferPointer<TypeEntry>
    let fields: UnsafeBufferPointer<Field>
    let options: UnsafeBufferPointer<Span>
    /// Open addressing by FNV-1a of the type's name: a type's index + 1, 0 for an empty slot.
    let slots: UnsafeBufferPointer<Int16>
    /// Bit `(a-'A')*26 + (b-'A')` for each two-letter code of ``Codes/countries``.
    let countries: UnsafeBufferPointer<UInt64>
    /// Bit `((a-'A')*26 + (b-'A'))*26 + (c-'A')` for each three-letter code of ``Codes/currencies``.
    let currencies: UnsafeBufferPointer<UInt64>

    static let slotCount = 128
    static let shared = build()

    static func build() -> CatalogueTable {
        var bytes: [UInt8] = []
        var types: [TypeEntry] = []
        var fields: [Field] = []
        var options: [Span] = []
        func span(_ text: String) -> Span {
            let start = Int32(bytes.count)
            bytes.append(contentsOf: text.utf8)
            return Span(start: start, count: Int32(text.utf8.count))
        }
        func optionSpan(_ values: [String]) -> Span {
            let start = Int32(options.count)
            options.append(contentsOf: values.map(span))
            return Span(start: start, count: Int32(values.count))
        }
        for entry in Catalogue.entries.values.sorted(by: { $0.type.utf8.lexicographicallyPrecedes($1.type.utf8) }) {
            // As the reference's table: each name once, its first kind.
            var allowed: [(String, Catalogue.FieldKind)] = []
            for (name, kind) in entry.allowed where !allowed.contains(where: { sameBytes($0.0, name) }) { allowed.append((name, kind)) }
            var required: UInt64 = 0
            var compiled = allowed.count <= 64
            for (name, _) in entry.required {
                guard let index = allowed.firstIndex(where: { sameBytes($0.0, name) }), index < 64 else { compiled = false; continue }
                required |= 1 << UInt64(index)
            }
            let start = Int32(fields.count)
            for (name, kind) in allowed {
                var field = Field(name: span(name), kind: .unsupported, options: Span(start: 0, count: 0), limit: 0)
                switch kind {
                case .text: field.kind = .text
                case .reference: field.kind = .reference
                case .references: field.kind = .references
                case .oneOf(let values): field.kind = .oneOf; field.options = optionSpan(values)
                case .listOf(let values): field.kind = .listOf; field.options = optionSpan(values)
                case .country: field.kind = .country
                case .date: field.kind = .date
                case .signedDecimal: field.kind = .signedDecimal
                case .decimal: field.kind = .decimal
                case .currency: field.kind = .currency
                case .count: field.kind = .count
                case .url: field.kind = .url
                case .money: field.kind = .money
                case .narratives(let limit): field.kind = .narratives; field.limit = Int32(clamping: limit)
                case .descriptions: field.kind = .descriptions
                case .activityDates: field.kind = .activityDates; field.options = optionSpan(Catalogue.activityDateTypes)
                case .eventID: field.kind = .eventID
                case .keyDigest: field.kind = .keyDigest
                case .sequenceNumber: field.kind = .sequenceNumber
                case .publicKey: field.kind = .unsupported
                }
                fields.append(field)
            }
            // A type whose fields do not fit the bit mask is always left to the reference.
            let anyKind = entry.subjectKind == Catalogue.anyKind
            types.append(TypeEntry(name: span(entry.type), subjectKind: span(anyKind ? "" : entry.subjectKind), anyKind: anyKind,
                                   fields: Span(start: start, count: compiled ? Int32(allowed.count) : -1), required: required,
                                   needsSomeField: entry.needsSomeField))
        }
        var slots = [Int16](repeating: 0, count: slotCount)
        for (index, entry) in types.enumerated() {
            let name = Array(bytes[Int(entry.name.start)..<Int(entry.name.start + entry.name.count)])
            var slot = name.withUnsafeBufferPointer { Int(fnv1a($0)) } & (slotCount - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (slotCount - 1) }
            slots[slot] = Int16(index + 1)
        }
        var countries = [UInt64](repeating: 0, count: (26 * 26 + 63) / 64)
        for code in Codes.countries {
            let b = Array(code.utf8)
            guard b.count == 2, b.allSatisfy({ (0x41...0x5A).contains($0) }) else { continue }  // left to the reference
            let bit = Int(b[0] - 0x41) * 26 + Int(b[1] - 0x41)
            countries[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        var currencies = [UInt64](repeating: 0, count: (26 * 26 * 26 + 63) / 64)
        for code in Codes.currencies {
            let b = Array(code.utf8)
            guard b.count == 3, b.allSatisfy({ (0x41...0x5A).contains($0) }) else { continue }
            let bit = (Int(b[0] - 0x41) * 26 + Int(b[1] - 0x41)) * 26 + Int(b[2] - 0x41)
            currencies[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        func immortal<T>(_ array: [T]) -> UnsafeBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return UnsafeBufferPointer(rebasing: buffer[..<array.count])
        }
        return CatalogueTable(bytes: immortal(bytes), types: immortal(types), fields: immortal(fields), options: immortal(options),
                              slots: immortal(slots), countries: immortal(countries), currencies: immortal(currencies))
    }

    @inline(__always)
    static func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    // MARK: - The check

    /// True when a draft of `type` about a subject of `subjectKind` with `data` passes the
    /// catalogue; false when it does not, or when this table leaves the answer to the reference.
    func accepts(type: String, subjectKind: String, data: JSONObject) -> Bool {
        guard let typeIndex = Self.bytes(of: type, { lookUp($0) }) ?? nil else { return false }
        let entry = types[typeIndex]
        guard entry.fields.count >= 0 else { return false }
        if !entry.anyKind {
            guard Self.bytes(of: subjectKind, { equal($0, entry.subjectKind) }) == true else { return false }
        }
        let members = data.members
        if entry.needsSomeField, members.isEmpty { return false }
        var present: UInt64 = 0
        for index in members.indices {
            guard let found = Self.bytes(of: members[index].key, { fieldIndex($0, in: entry.fields) }) ?? nil else { return false }
            guard accepts(members[index].value, as: fields[Int(entry.fields.start) + found]) else { return false }
            present |= 1 << UInt64(found)
        }
        return present & entry.required == entry.required
    }

    /// The index of the type named `name`, if it is one.
    @inline(__always)
    private func lookUp(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = Int(Self.fnv1a(name)) & (Self.slotCount - 1)
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { return nil }
            if equal(name, types[stored - 1].name) { return stored - 1 }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }

    /// The position within `span` of the field named `name`, if it is one.
    @inline(__always)
    private func fieldIndex(_ name: UnsafeBufferPointer<UInt8>, in span: Span) -> Int? {
        for position in 0..<Int(span.count) where equal(name, fields[Int(span.start) + position].name) { return position }
        return nil
    }

    @inline(__always)
    private func equal(_ text: UnsafeBufferPointer<UInt8>, _ span: Span) -> Bool {
        guard text.count == Int(span.count) else { return false }
        return text.count == 0 || memcmp(text.baseAddress!, bytes.baseAddress! + Int(span.start), text.count) == 0
    }

    /// `body` over the UTF-8 bytes of `text`; nil for text without contiguous storage (then the
    /// reference decides).
    @inline(__always)
    private static func bytes<R>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        text.utf8.withContiguousStorageIfAvailable(body)
    }

    /// True when `value` is a string whose bytes pass `test`.
    @inline(__always)
    private static func string(_ value: JSONValue, _ test: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        guard case .string(let text) = value else { return false }
        return bytes(of: text, test) ?? false
    }

    private func accepts(_ value: JSONValue, as field: Field) -> Bool {
        switch field.kind {
        case .text: return Self.string(value) { Self.isText($0) }
        case .reference: return Self.string(value) { Slug.isValid(bytes: $0) }
        case .references:
            guard case .array(let items) = value, !items.isEmpty else { return false }
            for index in items.indices where !Self.string(items[index], { Slug.isValid(bytes: $0) }) { return false }
            return true
        case .oneOf: return Self.string(value) { isOption($0, field.options) }
        case .listOf:
            guard case .array(let items) = value, !items.isEmpty else { return false }
            for index in items.indices where !Self.string(items[index], { isOption($0, field.options) }) { return false }
            return true
        case .country: return Self.string(value) { isCountry($0) }
        case .date: return Self.string(value) { CalendarDate.components(of: $0) != nil }
        case .signedDecimal: return Self.string(value) { DecimalText.isValid(bytes: $0, allowNegative: true) }
        case .decimal: return Self.string(value) { DecimalText.isValid(bytes: $0, allowNegative: false) }
        case .currency: return Self.string(value) { isCurrency($0) }
        case .count: return Self.number(value) { $0.count <= Catalogue.maxCountDigits && $0[0] != 0x2D }
        case .sequenceNumber: return Self.number(value) { $0.count <= Catalogue.maxCountDigits && $0[0] != 0x2D && !($0.count == 1 && $0[0] == 0x30) }
        case .url: return Self.string(value) { Self.isURL($0) }
        case .eventID, .keyDigest: return Self.string(value) { Self.isLowerHex64($0) }
        case .money:
            guard case .object(let money) = value else { return false }
            var seen = 0
            let members = money.members
            for index in members.indices {
                let which = Self.bytes(of: members[index].key, { Self.memberName($0, "amount", "currency") }) ?? 0
                switch which {
                case 1: guard Self.string(members[index].value, { DecimalText.isValid(bytes: $0, allowNegative: true) }) else { return false }
                case 2: guard Self.string(members[index].value, { isCurrency($0) }) else { return false }
                default: return false
                }
                seen |= which
            }
            return seen == 3
        case .narratives: return acceptsNarratives(value, limit: Int(field.limit))
        case .descriptions:
            guard case .array(let items) = value, !items.isEmpty, items.count <= Catalogue.maxDescriptions else { return false }
            for index in items.indices {
                guard case .object(let object) = items[index] else { return false }
                var seen = 0
                let members = object.members
                for position in members.indices {
                    let which = Self.bytes(of: members[position].key, { Self.memberName($0, "type", "narratives") }) ?? 0
                    switch which {
                    case 1: guard Self.string(members[position].value, { Self.isText($0) }) else { return false }
                    case 2: guard acceptsNarratives(members[position].value, limit: Catalogue.descriptionTextLimit) else { return false }
                    default: return false
                    }
                    seen |= which
                }
                guard seen & 2 != 0 else { return false }
            }
            return true
        case .activityDates:
            guard case .array(let items) = value, !items.isEmpty, items.count <= Catalogue.maxActivityDates else { return false }
            for index in items.indices {
                guard case .object(let object) = items[index] else { return false }
                var seen = 0
                let members = object.members
                for position in members.indices {
                    let which = Self.bytes(of: members[position].key, { Self.memberName($0, "type", "date") }) ?? 0
                    switch which {
                    case 1: guard Self.string(members[position].value, { isOption($0, field.options) }) else { return false }
                    case 2: guard Self.string(members[position].value, { CalendarDate.components(of: $0) != nil }) else { return false }
                    default: return false
                    }
                    seen |= which
                }
                guard seen == 3 else { return false }
            }
            return true
        case .unsupported: return false
        }
    }

    private func acceptsNarratives(_ value: JSONValue, limit: Int) -> Bool {
        guard case .array(let items) = value, !items.isEmpty, items.count <= Catalogue.maxNarratives else { return false }
        for index in items.indices {
            guard case .object(let object) = items[index] else { return false }
            var seen = 0
            let members = object.members
            for position in members.indices {
                let which = Self.bytes(of: members[position].key, { Self.memberName($0, "text", "lang") }) ?? 0
                switch which {
                case 1:
                    guard Self.string(members[position].value, { text in
                        !text.isEmpty && text.count <= limit
                            && !text.contains(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F })
                    }) else { return false }
                case 2:
                    guard Self.string(members[position].value, { code in
                        !code.isEmpty && code.count <= 64 && !code.contains(where: { $0 <= 0x20 || $0 == 0x7F })
                    }) else { return false }
                default: return false
                }
                seen |= which
            }
            guard seen & 1 != 0 else { return false }
        }
        return true
    }

    /// 1 when `name` is `first`, 2 when it is `second`, 0 otherwise (by bytes).
    @inline(__always)
    private static func memberName(_ name: UnsafeBufferPointer<UInt8>, _ first: StaticString, _ second: StaticString) -> Int {
        func equal(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == name.count && memcmp(literal.utf8Start, name.baseAddress!, name.count) == 0
        }
        return name.isEmpty ? 0 : equal(first) ? 1 : equal(second) ? 2 : 0
    }

    /// True when `value` is a number whose literal is a canonical integer passing `test`.
    @inline(__always)
    private static func number(_ value: JSONValue, _ test: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        guard case .number(let literal) = value else { return false }
        return bytes(of: literal, { CanonicalJSON.isCanonicalInteger(bytes: $0) && test($0) }) ?? false
    }

    private func isOption(_ text: UnsafeBufferPointer<UInt8>, _ span: Span) -> Bool {
        for position in 0..<Int(span.count) where equal(text, options[Int(span.start) + position]) { return true }
        return false
    }

    @inline(__always)
    private func isCountry(_ code: UnsafeBufferPointer<UInt8>) -> Bool {
        guard code.count == 2, (0x41...0x5A).contains(code[0]), (0x41...0x5A).contains(code[1]) else { return false }
        let bit = Int(code[0] - 0x41) * 26 + Int(code[1] - 0x41)
        return countries[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    @inline(__always)
    private func isCurrency(_ code: UnsafeBufferPointer<UInt8>) -> Bool {
        guard code.count == 3, (0x41...0x5A).contains(code[0]), (0x41...0x5A).contains(code[1]), (0x41...0x5A).contains(code[2]) else { return false }
        let bit = (Int(code[0] - 0x41) * 26 + Int(code[1] - 0x41)) * 26 + Int(code[2] - 0x41)
        return currencies[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// `text`: non-empty, at most ``Catalogue/maxTextBytes``, no byte below 0x20 nor 0x7F.
    @inline(__always)
    private static func isText(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !text.isEmpty, text.count <= Catalogue.maxTextBytes else { return false }
        for byte in text where byte < 0x20 || byte == 0x7F { return false }
        return true
    }

    /// `url`: the scheme, the length, no space or control character (Format.md §7.5).
    private static func isURL(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count <= Catalogue.maxURLBytes else { return false }
        func starts(_ scheme: StaticString) -> Bool {
            let count = scheme.utf8CodeUnitCount
            return text.count >= count && memcmp(scheme.utf8Start, text.baseAddress!, count) == 0
        }
        guard starts("https://") || starts("http://") else { return false }
        for byte in text where byte <= 0x20 || byte == 0x7F { return false }
        return true
    }

    @inline(__always)
    private static func isLowerHex64(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count == 64 else { return false }
        for byte in text where !((0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)) { return false }
        return true
    }
}

extension Catalogue {
    /// True when the byte check alone accepts the draft (`CatalogueTable`); false when it
    /// refuses it or leaves it to ``validateReference(type:subject:data:)``. For the tests that
    /// hold the two checks together.
    package static func acceptsOverBytes(type: String, subject: Subject, data: JSONObject) -> Bool {
        CatalogueTable.shared.accepts(type: type, subjectKind: subject.kind, data: data)
    }
}

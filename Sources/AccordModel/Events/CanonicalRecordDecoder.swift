import Crypto
import Glibc

/// The fast path of ``EventRecord/decode(_:)``: one pass over a stored record that accepts only
/// the canonical form (Format.md §7.2) and builds the ``Event`` as it goes.
///
/// A record is valid exactly when re-encoding its decoded fields gives its own bytes back and
/// its id is the SHA-256 of its canonical bytes. Rather than parse into a tree, re-encode and
/// compare, this reader accepts only what the canonical encoder can write, byte for byte:
///
/// - the envelope's keys as fixed literals in their fixed order, no whitespace;
/// - strings with exactly the escapes ``CanonicalJSON/appendString(_:to:)`` writes (`\"` `\\`
///   `\b` `\t` `\n` `\f` `\r`, other control characters as `\u00xx` in lower-case hex), valid
///   UTF-8 (RFC 3629) and nothing else;
/// - numbers that are canonical integers; object keys in strictly increasing byte order (which
///   also rules out duplicates); nesting at most ``JSONParser/maxDepth`` levels, as the parser;
/// - `time` in its canonical UTC form, `hlc` as `<milliseconds>:<counter>` without leading
///   zeros, `seen` sorted, without the event's own site and without zeros.
///
/// The id is then checked by hashing the canonical bytes in place: they are the record from
/// `"site"` to the end of `data`, between braces, so nothing is copied or re-encoded.
///
/// Anything it does not accept returns nil, and ``EventRecord/decode(_:)`` runs the reference
/// decoder, which names the fault (or, should this reader ever be stricter than the rule,
/// accepts the record). Tests compare the two on damaged records.
struct CanonicalRecordDecoder {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// Whether `data` is built; when false it is only checked, and the event's `data` is empty.
    private let buildsData: Bool

    private init(_ bytes: UnsafeRawBufferPointer, buildsData: Bool = true) {
        self.bytes = bytes
        self.buildsData = buildsData
    }

    /// Values decoded from earlier records of the same run, reused when a field's bytes repeat:
    /// the events of one batch usually share their `time` and a handful of `type`s, and reusing
    /// the value saves parsing it and allocating its text again. A value is reused only for
    /// identical bytes, so the result is the same as without it.
    struct Memo {
        fileprivate var time: (text: [UInt8], value: Timestamp)?
        fileprivate var types: [(text: [UInt8], value: EventType)] = []
        /// The last `site`, `seen` (its members through `}`, for that site) and `actor`: a
        /// batch's events are one site's, and usually share them.
        fileprivate var site: (text: [UInt8], value: SiteID)?
        fileprivate var seen: (site: SiteID, text: [UInt8], value: [SiteID: SequenceNumber])?
        fileprivate var actor: (text: [UInt8], value: String)?
        /// The last accepted record's id, with its 64 digits: the next event of a chain names it
        /// as `prev`, and the same digits give the same id without parsing them again.
        fileprivate var lastID: (digits: HexDigits, value: EventID)?
        init() {}
    }

    /// The event stored in `record`, or nil when the record is not a valid canonical event.
    static func decode(_ record: UnsafeRawBufferPointer) -> Event? {
        var memo = Memo()
        return decode(record, memo: &memo)
    }

    /// The same, reusing (and adding to) `memo`.
    static func decode(_ record: UnsafeRawBufferPointer, memo: inout Memo) -> Event? {
        var reader = CanonicalRecordDecoder(record)
        return reader.readEvent(memo: &memo)
    }

    /// The event stored in `record` with its `data` checked exactly as ``decode(_:memo:)``
    /// checks it, but not built: the event builds it from its record when `data` is first read
    /// (``data(of:at:)``). Nil when the record is not a valid canonical event, and also when
    /// its `data` has an object key with an escape, which only the building path compares;
    /// callers then decode it with ``decode(_:memo:)``.
    static func decodeDeferringData(_ record: UnsafeRawBufferPointer, memo: inout Memo) -> Event? {
        var reader = CanonicalRecordDecoder(record, buildsData: false)
        return reader.readEvent(memo: &memo)
    }

    /// The `data` object whose `{` is at byte `offset` of `record` (a record that
    /// ``decodeDeferringData(_:memo:)`` accepted, which found it there); nil if it is not a
    /// canonical object.
    static func data(of record: [UInt8], at offset: Int) -> JSONObject? {
        record.withUnsafeBytes { raw in
            var reader = CanonicalRecordDecoder(raw)
            reader.index = offset
            guard reader.byte(UInt8(ascii: "{")) else { return nil }
            return reader.object(depth: 2)
        }
    }

    /// Offset of `"site"`: after `{"id":"`, 64 hex digits and `",`.
    private static let canonicalStart = 73

    private mutating func readEvent(memo: inout Memo) -> Event? {
        guard literal("{\"id\":\""), let id = hexDigest(), literal("\",\"site\":"),
              let siteID = siteValue(memo: &memo),
              literal(",\"seq\":"), let seq = integer(), seq >= 1,
              literal(",\"prev\":")
        else { return nil }
        let prev: EventID?
        if literal("null") {
            prev = nil
        } else {
            guard byte(0x22), let digest = previousID(memo: memo), byte(0x22) else { return nil }
            prev = digest
        }
        guard (prev == nil) == (seq == 1),
              literal(",\"time\":"), let time = timestamp(memo: &memo),
              literal(",\"hlc\":"), let hlcText = string(), let hlc = Self.hybridTimestamp(hlcText),
              literal(",\"seen\":{"), let seen = seenValue(site: siteID, memo: &memo),
              literal(",\"type\":"), let type = eventType(memo: &memo),
              literal(",\"subject\":\""), let subject = subjectText(),
              literal(",\"actor\":"), let actor = actorValue(memo: &memo),
              literal(",\"data\":")
        else { return nil }
        let dataOffset = index
        guard byte(UInt8(ascii: "{")), let data = buildsData ? object(depth: 2) : (skipObject(depth: 2) ? JSONObject() : nil)
        else { return nil }
        let canonicalEnd = index
        var signature: [UInt8]?
        if literal(",\"sig\":") {
            guard let text = string(), let decoded = Base64.decode(text), decoded.count == 64 else { return nil }
            signature = decoded
        }
        guard byte(UInt8(ascii: "}")), index == bytes.count else { return nil }
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(ascii: "{")) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[Self.canonicalStart..<canonicalEnd]))
        withUnsafeBytes(of: UInt8(ascii: "}")) { hasher.update(bufferPointer: $0) }
        // The id's digits start after `{"id":"`.
        guard hasher.finalize().withUnsafeBytes({ EventID(digestBytes: $0) }) == id,
              let subjectValue = Subject(kind: subject.kind, id: subject.id)
        else { return nil }
        // The id's digits (after `{"id":"`) are checked lower-case hex and its hash.
        memo.lastID = (HexDigits(bytes.baseAddress! + 7), id)
        guard buildsData else {
            return Event(
                id: id, site: siteID, seq: SequenceNumber(seq), prev: prev, time: time, hlc: hlc, seen: seen,
                type: type, subject: subjectValue, actor: actor, dataOffset: dataOffset, signature: signature,
                record: Array(bytes))
        }
        return Event(
            id: id, site: siteID, seq: SequenceNumber(seq), prev: prev, time: time, hlc: hlc, seen: seen,
            type: type, subject: subjectValue, actor: actor, data: data, signature: signature,
            record: Array(bytes))
    }

    // MARK: Bytes and literals

    @inline(__always)
    private mutating func byte(_ expected: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == expected else { return false }
        index += 1
        return true
    }

    @inline(__always)
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, text.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    // MARK: Values of the envelope

    /// The bytes of a string without escapes or control characters, from its opening quote
    /// through its closing one (the quotes excluded); nil, with nothing consumed, otherwise.
    private mutating func plainString() -> UnsafeRawBufferPointer? {
        guard index < bytes.count, bytes[index] == 0x22 else { return nil }
        var end = index + 1
        while end < bytes.count {
            let c = bytes[end]
            if c == 0x22 {
                let text = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end])
                index = end + 1
                return text
            }
            if c == 0x5C || c < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    private static func same(_ memo: [UInt8], _ text: UnsafeRawBufferPointer) -> Bool {
        memo.count == text.count && memo.withUnsafeBytes { memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 }
    }

    /// `time`, in its canonical form (the stored form has no escapes).
    private mutating func timestamp(memo: inout Memo) -> Timestamp? {
        guard let text = plainString(), text.count > 0 else { return nil }
        if let last = memo.time, Self.same(last.text, text) { return last.value }
        guard let value = Timestamp(canonical: String(decoding: text, as: UTF8.self)) else { return nil }
        memo.time = (Array(text), value)
        return value
    }

    /// `site`: a slug (which has no escapes, so a string with one is refused here, as the
    /// reference decoder refuses its non-canonical form).
    private mutating func siteValue(memo: inout Memo) -> SiteID? {
        let start = index
        guard let text = plainString() else {
            index = start
            guard let site = string() else { return nil }
            return try? SiteID(site)
        }
        if let last = memo.site, Self.same(last.text, text) { return last.value }
        guard let value = try? SiteID(String(decoding: text, as: UTF8.self)) else { return nil }
        memo.site = (Array(text), value)
        return value
    }

    /// `seen`'s members after its `{`, through its `}` (``seenEntries(site:)``); the same bytes
    /// for the same site as the last record's give the same value without parsing them again.
    private mutating func seenValue(site: SiteID, memo: inout Memo) -> [SiteID: SequenceNumber]? {
        if let last = memo.seen, index + last.text.count <= bytes.count, last.site == site,
           memcmp(bytes.baseAddress! + index, last.text, last.text.count) == 0 {
            index += last.text.count
            return last.value
        }
        let start = index
        guard let value = seenEntries(site: site.rawValue) else { return nil }
        memo.seen = (site, Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index])), value)
        return value
    }

    /// `actor`: an actor name (``ActorName/isValid(_:)``).
    private mutating func actorValue(memo: inout Memo) -> String? {
        let start = index
        if let text = plainString() {
            if let last = memo.actor, Self.same(last.text, text) { return last.value }
            let value = String(decoding: text, as: UTF8.self)
            guard ActorName.isValid(value) else { return nil }
            memo.actor = (Array(text), value)
            return value
        }
        index = start
        guard let actor = string(), ActorName.isValid(actor) else { return nil }
        return actor
    }

    /// `type`: an event type name (Format.md §7.1, `EventType.isValidName`), which has no
    /// escapes; the last 16 distinct ones are remembered.
    private mutating func eventType(memo: inout Memo) -> EventType? {
        guard let text = plainString() else { return nil }
        for known in memo.types where Self.same(known.text, text) { return known.value }
        guard EventType.isValidName(bytes: text) else { return nil }
        let value = EventType(String(decoding: text, as: UTF8.self))
        if memo.types.count == 16 { memo.types.removeFirst() }
        memo.types.append((Array(text), value))
        return value
    }

    /// `prev`'s 64 digits as an ``EventID``: the last record's id when they are its digits,
    /// byte for byte (an accepted id's digits are valid, so the same bytes give the same id).
    private mutating func previousID(memo: Memo) -> EventID? {
        if let last = memo.lastID, index + 64 <= bytes.count, HexDigits(bytes.baseAddress! + index) == last.digits {
            index += 64
            return last.value
        }
        return hexDigest()
    }

    /// 64 lower-case hex digits, as an ``EventID``.
    private mutating func hexDigest() -> EventID? {
        guard index + 64 <= bytes.count, let id = EventID(hexDigits: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + 64)])) else { return nil }
        index += 64
        return id
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }

    /// A canonical integer (`-?(0|[1-9][0-9]*)`, at most 18 digits, not `-0`) as its value;
    /// here only non-negative ones are asked for.
    private mutating func integer() -> UInt64? {
        Self.digits(bytes, at: &index, maxDigits: CanonicalJSON.maxIntegerDigits)
    }

    /// The members of `seen` after its `{`, through its `}`: site slugs in strictly increasing
    /// byte order, none the event's own site, each with a sequence number of at least 1.
    private mutating func seenEntries(site: String) -> [SiteID: SequenceNumber]? {
        var seen: [SiteID: SequenceNumber] = [:]
        if byte(UInt8(ascii: "}")) { return seen }
        var previous: String?
        while true {
            guard let key = string(), let siteID = try? SiteID(key), !sameBytes(key, site),
                  previous.map({ CanonicalJSON.keyPrecedes($0, key) }) ?? true,
                  byte(UInt8(ascii: ":")), let value = integer(), value >= 1
            else { return nil }
            seen[siteID] = SequenceNumber(value)
            previous = key
            if byte(UInt8(ascii: ",")) { continue }
            guard byte(UInt8(ascii: "}")) else { return nil }
            return seen
        }
    }

    /// The subject's text up to its closing quote, written without escapes: `kind/slug`.
    private mutating func subjectText() -> (kind: String, id: String)? {
        let start = index
        var slash: Int?
        while index < bytes.count, bytes[index] != 0x22 {
            let c = bytes[index]
            if c == 0x2F {
                guard slash == nil else { return nil }
                slash = index
            } else if c == 0x5C || c < 0x20 || c >= 0x80 {
                return nil
            }
            index += 1
        }
        guard let slash, index < bytes.count, slash > start else { return nil }
        let kind = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<slash]), as: UTF8.self)
        let id = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(slash + 1)..<index]), as: UTF8.self)
        index += 1
        return (kind, id)
    }

    // MARK: Canonical JSON

    /// A canonical string, from its opening quote through its closing one.
    private mutating func string() -> String? {
        guard byte(0x22) else { return nil }
        let start = index
        var ascii = true
        while index < bytes.count {
            let c = bytes[index]
            if c == 0x22 {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
            }
            if c == 0x5C { break }
            if c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            index += 1
        }
        // Escapes: only those the canonical encoder writes.
        var buffer = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let c = bytes[index]
            index += 1
            if c == 0x22 { return String(validating: buffer, as: UTF8.self) }
            if c < 0x20 { return nil }
            if c != 0x5C {
                buffer.append(c)
                continue
            }
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "u"):
                // `\u00xx` for the control characters that have no short form.
                guard index + 4 <= bytes.count, bytes[index] == 0x30, bytes[index + 1] == 0x30 else { return nil }
                let high = bytes[index + 2], low = bytes[index + 3]
                guard high == 0x30 || high == 0x31, (0x30...0x39).contains(low) || (0x61...0x66).contains(low) else { return nil }
                let value = (high - 0x30) << 4 | Self.nibble(low)
                guard value != 0x08, value != 0x09, value != 0x0A, value != 0x0C, value != 0x0D else { return nil }
                buffer.append(value)
                index += 4
            default:
                return nil
            }
        }
        return nil
    }

    /// A canonical value (`depth` is the nesting level of the container it is in).
    private mutating func value(depth: Int) -> JSONValue? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case 0x22: return string().map(JSONValue.string)
        case UInt8(ascii: "{"):
            index += 1
            return object(depth: depth + 1).map(JSONValue.object)
        case UInt8(ascii: "["):
            index += 1
            return array(depth: depth + 1).map(JSONValue.array)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "-"), 0x30...0x39:
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            guard integer() != nil, !(bytes[digitsStart] == 0x30 && digitsStart > start) else { return nil }  // not -0
            // A fraction or an exponent has no canonical form (Format.md §7.2).
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e") { return nil }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        default:
            return nil
        }
    }

    /// An object's members after its `{`, through its `}`, keys in strictly increasing byte order.
    private mutating func object(depth: Int) -> JSONObject? {
        guard depth <= JSONParser.maxDepth else { return nil }
        var members: [(key: String, value: JSONValue)] = []
        if byte(UInt8(ascii: "}")) { return JSONObject(members) }
        while true {
            guard let key = string() else { return nil }
            if let last = members.last, !CanonicalJSON.keyPrecedes(last.key, key) { return nil }
            guard byte(UInt8(ascii: ":")), let value = value(depth: depth) else { return nil }
            members.append((key, value))
            if byte(UInt8(ascii: ",")) { continue }
            guard byte(UInt8(ascii: "}")) else { return nil }
            return JSONObject(members)
        }
    }

    // MARK: Canonical JSON, checked without being built

    /// A string checked as ``string()`` checks it; only one with escapes is built (to check
    /// what they decode to), and only a non-ASCII one is validated as UTF-8 through `String`.
    private mutating func skipString() -> Bool {
        let start = index
        if let text = plainString() {
            for byte in text where byte >= 0x80 { return String(validating: text, as: UTF8.self) != nil }
            return true
        }
        index = start
        return string() != nil
    }

    /// A value checked as ``value(depth:)`` checks it.
    private mutating func skipValue(depth: Int) -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case 0x22: return skipString()
        case UInt8(ascii: "{"):
            index += 1
            return skipObject(depth: depth + 1)
        case UInt8(ascii: "["):
            index += 1
            return skipArray(depth: depth + 1)
        default:
            return value(depth: depth) != nil  // literals and numbers: nothing to allocate
        }
    }

    /// An object checked as ``object(depth:)`` checks it: keys in strictly increasing byte
    /// order. A key with an escape is not compared here: false, and the caller decodes in full.
    private mutating func skipObject(depth: Int) -> Bool {
        guard depth <= JSONParser.maxDepth else { return false }
        if byte(UInt8(ascii: "}")) { return true }
        var previous: UnsafeRawBufferPointer?
        while true {
            guard let key = plainString() else { return false }
            for byte in key where byte >= 0x80 {
                guard String(validating: key, as: UTF8.self) != nil else { return false }
                break
            }
            if let previous {
                let common = min(previous.count, key.count)
                let order = common == 0 ? 0 : memcmp(previous.baseAddress!, key.baseAddress!, common)
                guard order < 0 || (order == 0 && previous.count < key.count) else { return false }
            }
            previous = key
            guard byte(UInt8(ascii: ":")), skipValue(depth: depth) else { return false }
            if byte(UInt8(ascii: ",")) { continue }
            return byte(UInt8(ascii: "}"))
        }
    }

    /// An array checked as ``array(depth:)`` checks it.
    private mutating func skipArray(depth: Int) -> Bool {
        guard depth <= JSONParser.maxDepth else { return false }
        if byte(UInt8(ascii: "]")) { return true }
        while true {
            guard skipValue(depth: depth) else { return false }
            if byte(UInt8(ascii: ",")) { continue }
            return byte(UInt8(ascii: "]"))
        }
    }

    /// An array's elements after its `[`, through its `]`.
    private mutating func array(depth: Int) -> [JSONValue]? {
        guard depth <= JSONParser.maxDepth else { return nil }
        var elements: [JSONValue] = []
        if byte(UInt8(ascii: "]")) { return elements }
        while true {
            guard let element = value(depth: depth) else { return nil }
            elements.append(element)
            if byte(UInt8(ascii: ",")) { continue }
            guard byte(UInt8(ascii: "]")) else { return nil }
            return elements
        }
    }
}

import Crypto
import Dispatch

/// Encoding and decoding of event records (Format.md §7).
///
/// A record is one line: `{"id":…,"site":…,"seq":…,"prev":…,"time":…,"hlc":…,"seen":{…},"type":…,
/// "subject":…,"actor":…,"data":{…}}`, with `,"sig":"…"` before the final `}` on the last event
/// of a batch. The **canonical bytes** are the same object without `id` and `sig`; the id is the
/// SHA-256 of the canonical bytes in lower-case hex.
public enum EventRecord {
    /// The envelope keys, in their fixed order (Format.md §7.1).
    public static let keyOrder = ["id", "site", "seq", "prev", "time", "hlc", "seen", "type", "subject", "actor", "data"]

    /// The canonical bytes of an event (Format.md §7.2).
    /// - Throws: ``AccordError`` `.badInput` if `data` holds a non-integer number.
    public static func canonicalBytes(
        site: SiteID, seq: SequenceNumber, prev: EventID?, time: Timestamp, hlc: HybridTimestamp,
        seen: [SiteID: SequenceNumber], type: EventType, subject: Subject, actor: String, data: JSONObject
    ) throws -> [UInt8] {
        var encoded: [UInt8] = []
        try CanonicalJSON.encode(data, into: &encoded, path: "data")
        return canonicalBytes(
            site: site, seq: seq, prev: prev, time: time, hlc: hlc, seen: seen, type: type, subject: subject,
            actor: actor, encodedData: encoded)
    }

    /// The canonical bytes of an event whose `data` is already canonically encoded (`data`'s
    /// bytes from ``CanonicalJSON/encode(_:into:path:)``), so that a batch's payloads can be
    /// encoded in parallel before its events are chained one after the other.
    package static func canonicalBytes(
        site: SiteID, seq: SequenceNumber, prev: EventID?, time: Timestamp, hlc: HybridTimestamp,
        seen: [SiteID: SequenceNumber], type: EventType, subject: Subject, actor: String, encodedData: [UInt8]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(300 + encodedData.count)
        CanonicalJSON.appendASCII("{\"site\":", to: &out)
        CanonicalJSON.appendString(site.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"seq\":", to: &out)
        CanonicalJSON.appendDecimal(seq.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"prev\":", to: &out)
        if let prev { CanonicalJSON.appendString(prev.hex, to: &out) } else { CanonicalJSON.appendASCII("null", to: &out) }
        CanonicalJSON.appendASCII(",\"time\":", to: &out)
        CanonicalJSON.appendString(time.text, to: &out)
        CanonicalJSON.appendASCII(",\"hlc\":", to: &out)
        if hlc.milliseconds >= 0 {
            // The hlc's text, "<milliseconds>:<counter>", written without building it.
            out.append(0x22)
            CanonicalJSON.appendDecimal(UInt64(hlc.milliseconds), to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendDecimal(UInt64(hlc.counter), to: &out)
            out.append(0x22)
        } else {
            CanonicalJSON.appendString(hlc.text, to: &out)
        }
        CanonicalJSON.appendASCII(",\"seen\":{", to: &out)
        if !seen.isEmpty {
            for (index, entry) in seen.filter({ $0.key != site && $0.value.rawValue > 0 }).sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(entry.key.rawValue, to: &out)
                out.append(UInt8(ascii: ":"))
                CanonicalJSON.appendDecimal(entry.value.rawValue, to: &out)
            }
        }
        CanonicalJSON.appendASCII("},\"type\":", to: &out)
        CanonicalJSON.appendString(type.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"subject\":\"", to: &out)
        // The subject's text, "kind/id" (both slugs: nothing to escape).
        out.append(contentsOf: subject.kind.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: subject.id.utf8)
        CanonicalJSON.appendASCII("\",\"actor\":", to: &out)
        CanonicalJSON.appendString(actor, to: &out)
        CanonicalJSON.appendASCII(",\"data\":", to: &out)
        out.append(contentsOf: encodedData)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The id of canonical bytes: SHA-256, lower-case hex (Format.md §7.3).
    public static func id(ofCanonical bytes: [UInt8]) -> EventID {
        EventID(digest: SHA256.hash(data: bytes))
    }

    /// The stored record for canonical bytes, an id and an optional signature.
    public static func record(canonical: [UInt8], id: EventID, signature: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonical.count + 180)
        CanonicalJSON.appendASCII("{\"id\":\"", to: &out)
        out.append(contentsOf: id.hex.utf8)
        CanonicalJSON.appendASCII("\",", to: &out)
        canonical.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[1..<($0.count - 1)])) }
        if let signature {
            CanonicalJSON.appendASCII(",\"sig\":\"", to: &out)
            out.append(contentsOf: Base64.encode(signature).utf8)
            out.append(0x22)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Decodes and checks a stored record: its JSON, its keys and their order, every field's
    /// form, that it is in canonical form, and that its id is the hash of its canonical bytes.
    /// Signatures and chains are checked by ``EventJournal/verify(progress:)``.
    ///
    /// Valid records are read in one pass that accepts only canonical bytes (see
    /// `CanonicalRecordDecoder`); any other record goes through ``decodeByReencoding(_:)``,
    /// which says what is wrong with it.
    /// - Throws: ``AccordError`` `.damaged` naming the field.
    public static func decode<Bytes: Collection<UInt8>>(_ record: Bytes) throws -> Event {
        var memo = CanonicalRecordDecoder.Memo()
        return try decode(record, memo: &memo)
    }

    /// ``decode(_:)``, reusing values decoded from earlier records of the same run.
    /// - Parameter envelopeOnly: check `data` fully but leave the event's `data` empty (for
    ///   records copied verbatim, whose payload is never read: sync).
    static func decode<Bytes: Collection<UInt8>>(
        _ record: Bytes, memo: inout CanonicalRecordDecoder.Memo, envelopeOnly: Bool = false
    ) throws -> Event {
        if envelopeOnly {
            let fast: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decodeEnvelope(UnsafeRawBufferPointer($0), memo: &memo) }
            if let event = fast ?? nil { return event }
        }
        let fast: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decode(UnsafeRawBufferPointer($0), memo: &memo) }
        if let event = fast ?? Array(record).withUnsafeBytes({ CanonicalRecordDecoder.decode($0, memo: &memo) }) {
            return event
        }
        return try decodeByReencoding(record)
    }

    /// The reference decoder: parses the record as JSON (``JSONParser``), checks its keys and
    /// every field, re-encodes it canonically and compares the bytes, then re-hashes the id.
    /// Slower than ``decode(_:)``, whose answer it defines; its errors name the fault.
    /// - Throws: ``AccordError`` `.damaged` naming the field.
    public static func decodeByReencoding<Bytes: Collection<UInt8>>(_ record: Bytes) throws -> Event {
        let bytes = Array(record)
        func damaged(_ why: String, field: String? = nil) -> AccordError {
            AccordError(.damaged, "The record is not a valid event: \(why).", field: field)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch let error as JSONParser.SyntaxError {
            throw damaged("invalid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw damaged("it is not a JSON object") }
        let keys = object.keys
        let hasSignature = keys.count == keyOrder.count + 1 && keys.last == "sig"
        guard keys.count == keyOrder.count || hasSignature, zip(keys, keyOrder).allSatisfy({ $0.utf8.elementsEqual($1.utf8) }) else {
            throw damaged("its keys are \(keys.prefix(12).joined(separator: ",")), expected \(keyOrder.joined(separator: ","))[,sig]")
        }
        let members = object.members
        func string(_ index: Int) throws -> String {
            guard case .string(let text) = members[index].value else { throw damaged("'\(keyOrder[index])' is not a string", field: keyOrder[index]) }
            return text
        }
        do {
            let id = try EventID(hex: try string(0))
            let site = try SiteID(try string(1))
            guard case .number(let seqText) = members[2].value, CanonicalJSON.isCanonicalInteger(seqText), let seqValue = UInt64(seqText), seqValue >= 1 else {
                throw damaged("'seq' is not a whole number of at least 1", field: "seq")
            }
            let prev: EventID?
            switch members[3].value {
            case .null: prev = nil
            case .string(let text): prev = try EventID(hex: text)
            default: throw damaged("'prev' is neither an id nor null", field: "prev")
            }
            guard (prev == nil) == (seqValue == 1) else { throw damaged("'prev' must be null exactly when 'seq' is 1", field: "prev") }
            let time = try Timestamp(rfc3339: try string(4))
            let hlc = try HybridTimestamp(parsing: try string(5))
            guard case .object(let seenObject) = members[6].value else { throw damaged("'seen' is not an object", field: "seen") }
            var seen: [SiteID: SequenceNumber] = [:]
            for member in seenObject.members {
                guard case .number(let literal) = member.value, CanonicalJSON.isCanonicalInteger(literal), let value = UInt64(literal), value >= 1 else {
                    throw damaged("'seen' holds a value that is not a sequence number", field: "seen")
                }
                seen[try SiteID(member.key)] = SequenceNumber(value)
            }
            let type = EventType(try string(7))
            let subject = try Subject(try string(8))
            let actor = try string(9)
            guard ActorName.isValid(actor) else { throw damaged("'actor' is not a valid actor name", field: "actor") }
            guard case .object(let data) = members[10].value else { throw damaged("'data' is not an object", field: "data") }
            var signature: [UInt8]?
            if hasSignature {
                guard case .string(let text) = members[11].value, let decoded = Base64.decode(text), decoded.count == 64 else {
                    throw damaged("'sig' is not a base64 Ed25519 signature", field: "sig")
                }
                signature = decoded
            }
            let canonical = try canonicalBytes(
                site: site, seq: SequenceNumber(seqValue), prev: prev, time: time, hlc: hlc, seen: seen, type: type,
                subject: subject, actor: actor, data: data)
            guard self.record(canonical: canonical, id: id, signature: signature) == bytes else {
                throw damaged("it is not in canonical form (Format.md §7.2)")
            }
            guard Self.id(ofCanonical: canonical) == id else {
                throw damaged("its id does not match the SHA-256 of its content", field: "id")
            }
            return Event(
                id: id, site: site, seq: SequenceNumber(seqValue), prev: prev, time: time, hlc: hlc, seen: seen, type: type,
                subject: subject, actor: actor, data: data, signature: signature, record: bytes)
        } catch let error as AccordError where error.code == .badInput {
            throw damaged(error.message, field: error.field)
        }
    }
}

/// Base64 (RFC 4648 §4, with padding), for signatures and keys.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(contentsOf: [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out.append(contentsOf: [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], 0x3D, 0x3D])
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out.append(contentsOf: [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 0x3D])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes canonical padded base64; nil for anything else (so that one value has one text).
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < chars.count {
            var n: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let c = chars[index + offset]
                if c == 0x3D, index + 4 == chars.count, offset >= 2 {
                    padding += 1
                    n <<= 6
                    continue
                }
                guard padding == 0, let value = alphabet.firstIndex(of: c) else { return nil }
                n = n << 6 | UInt32(value)
            }
            out.append(UInt8(n >> 16 & 255))
            if padding < 2 { out.append(UInt8(n >> 8 & 255)) }
            if padding < 1 { out.append(UInt8(n & 255)) }
            index += 4
        }
        guard encode(out) == text else { return nil }
        return out
    }
}

/// SHA-256 digests as lower-case hex (FIPS 180-4, through swift-crypto).
public enum Digest {
    /// The SHA-256 of `bytes`, 64 lower-case hex digits.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        EventID(digest: SHA256.hash(data: bytes)).hex
    }
}

extension EventRecord {
    /// Batches of at least this many records are decoded on several threads.
    package static let parallelDecodeThreshold = 64
    /// Records per chunk handed to a thread: small enough that the threads finish together.
    static let decodeChunk = 128

    /// Decodes every record (``decode(_:)``); a large batch in chunks on every core at once.
    /// Each result is what ``decode(_:)`` gives for that record, in order.
    ///
    /// - Parameter alongside: work to run at the same time on one of those threads (the
    ///   iterator reads and inflates the next batch there); it has finished when this returns.
    public static func decodeAll<Bytes: Collection<UInt8>>(_ records: [Bytes], alongside: (() -> Void)? = nil) -> [Result<Event, Error>] {
        decodeAll(records, envelopeOnly: false, alongside: alongside)
    }

    /// ``decodeAll(_:alongside:)`` for records that are copied verbatim: each is checked in
    /// full — the same records are accepted and refused — but the events' `data` is left
    /// empty, saving the building and freeing of every payload (sync, Format.md §7).
    package static func decodeAllEnvelopes<Bytes: Collection<UInt8>>(_ records: [Bytes]) -> [Result<Event, Error>] {
        decodeAll(records, envelopeOnly: true, alongside: nil)
    }

    private static func decodeAll<Bytes: Collection<UInt8>>(_ records: [Bytes], envelopeOnly: Bool, alongside: (() -> Void)?) -> [Result<Event, Error>] {
        guard records.count >= parallelDecodeThreshold else {
            alongside?()
            var memo = CanonicalRecordDecoder.Memo()
            return records.map { record in Result { try decode(record, memo: &memo, envelopeOnly: envelopeOnly) } }
        }
        let work = ParallelDecode(records, chunk: decodeChunk, envelopeOnly: envelopeOnly, alongside: alongside)
        DispatchQueue.concurrentPerform(iterations: work.tasks) { work.run(task: $0) }
        return work.results()
    }
}

/// The chunks of one batch decoded at once, and optionally one other task: each task writes
/// only its own slot, and the caller reads the slots after every task finished.
private final class ParallelDecode<Bytes: Collection<UInt8>>: @unchecked Sendable {
    let records: [Bytes]
    let chunk: Int
    let chunks: Int
    let alongside: (() -> Void)?
    let envelopeOnly: Bool
    let slots: UnsafeMutableBufferPointer<[Result<Event, Error>]>

    init(_ records: [Bytes], chunk: Int, envelopeOnly: Bool, alongside: (() -> Void)?) {
        self.records = records
        self.chunk = chunk
        self.envelopeOnly = envelopeOnly
        chunks = (records.count + chunk - 1) / chunk
        self.alongside = alongside
        slots = .allocate(capacity: chunks)
        slots.initialize(repeating: [])
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    /// The other task, when there is one, is task 0: started first, as it is the longest.
    var tasks: Int { chunks + (alongside == nil ? 0 : 1) }

    func run(task: Int) {
        var part = task
        if let alongside {
            if task == 0 { return alongside() }
            part -= 1
        }
        let range = (part * chunk)..<min(records.count, (part + 1) * chunk)
        var memo = CanonicalRecordDecoder.Memo()
        slots[part] = records[range].map { record in Result { try EventRecord.decode(record, memo: &memo, envelopeOnly: envelopeOnly) } }
    }

    func results() -> [Result<Event, Error>] {
        var all: [Result<Event, Error>] = []
        all.reserveCapacity(records.count)
        for slot in slots { all.append(contentsOf: slot) }
        return all
    }
}

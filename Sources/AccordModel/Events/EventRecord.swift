import Crypto

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
        if let prev {
            out.append(0x22)
            prev.appendHex(to: &out)
            out.append(0x22)
        } else { CanonicalJSON.appendASCII("null", to: &out) }
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

    /// The members of `seen` as canonical bytes (what goes between its braces): without `site`
    /// and zeros, in byte order of the names. A writer encodes them once per batch.
    package static func seenMembers(_ seen: [SiteID: SequenceNumber], site: SiteID) -> [UInt8] {
        var out: [UInt8] = []
        for (index, entry) in seen.filter({ $0.key != site && $0.value.rawValue > 0 }).sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(entry.key.rawValue, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendDecimal(entry.value.rawValue, to: &out)
        }
        return out
    }

    /// The stored record of an event, built in one buffer: the same bytes as
    /// `record(canonical: canonicalBytes(…), id: id(ofCanonical:), signature:)`, without
    /// building the canonical bytes apart (they are hashed in place, as a reader checks them).
    /// - Parameters:
    ///   - timeText: `time.text`'s bytes (no escapes), which a batch's events often share.
    ///   - seenMembers: ``seenMembers(_:site:)`` for this event's `seen` and `site`.
    ///   - encodedData: `data` canonically encoded (``CanonicalJSON/encode(_:into:path:)``).
    ///   - sign: called with the id when the event carries the batch's signature.
    /// - Returns: the record, the id, and the signature if `sign` was given.
    /// - Throws: what `sign` throws.
    package static func buildRecord(
        site: SiteID, seq: SequenceNumber, prev: EventID?, timeText: [UInt8], hlc: HybridTimestamp,
        seenMembers: [UInt8], type: EventType, subject: Subject, actor: String, encodedData: [UInt8],
        sign: ((EventID) throws -> [UInt8])?
    ) throws -> (record: [UInt8], id: EventID, signature: [UInt8]?) {
        var out: [UInt8] = []
        out.reserveCapacity(360 + encodedData.count + seenMembers.count)
        CanonicalJSON.appendASCII("{\"id\":\"0000000000000000000000000000000000000000000000000000000000000000\",", to: &out)
        // The canonical bytes are `{` + out[73...] + `}` once `data` is appended.
        let bodyStart = out.count
        CanonicalJSON.appendASCII("\"site\":", to: &out)
        CanonicalJSON.appendString(site.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"seq\":", to: &out)
        CanonicalJSON.appendDecimal(seq.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"prev\":", to: &out)
        if let prev {
            out.append(0x22)
            prev.appendHex(to: &out)
            out.append(0x22)
        } else {
            CanonicalJSON.appendASCII("null", to: &out)
        }
        CanonicalJSON.appendASCII(",\"time\":\"", to: &out)
        out.append(contentsOf: timeText)
        CanonicalJSON.appendASCII("\",\"hlc\":", to: &out)
        if hlc.milliseconds >= 0 {
            out.append(0x22)
            CanonicalJSON.appendDecimal(UInt64(hlc.milliseconds), to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendDecimal(UInt64(hlc.counter), to: &out)
            out.append(0x22)
        } else {
            CanonicalJSON.appendString(hlc.text, to: &out)
        }
        CanonicalJSON.appendASCII(",\"seen\":{", to: &out)
        out.append(contentsOf: seenMembers)
        CanonicalJSON.appendASCII("},\"type\":", to: &out)
        CanonicalJSON.appendString(type.rawValue, to: &out)
        CanonicalJSON.appendASCII(",\"subject\":\"", to: &out)
        out.append(contentsOf: subject.kind.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: subject.id.utf8)
        CanonicalJSON.appendASCII("\",\"actor\":", to: &out)
        CanonicalJSON.appendString(actor, to: &out)
        CanonicalJSON.appendASCII(",\"data\":", to: &out)
        out.append(contentsOf: encodedData)
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(ascii: "{")) { hasher.update(bufferPointer: $0) }
        out.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[bodyStart...])) }
        withUnsafeBytes(of: UInt8(ascii: "}")) { hasher.update(bufferPointer: $0) }
        let id = hasher.finalize().withUnsafeBytes { EventID(digestBytes: $0) }
        // The id's digits go after `{"id":"` (7 bytes).
        var digits: [UInt8] = []
        digits.reserveCapacity(64)
        id.appendHex(to: &digits)
        out.replaceSubrange(7..<71, with: digits)
        let signature = try sign?(id)
        if let signature {
            CanonicalJSON.appendASCII(",\"sig\":\"", to: &out)
            out.append(contentsOf: Base64.encode(signature).utf8)
            out.append(0x22)
        }
        out.append(UInt8(ascii: "}"))
        return (out, id, signature)
    }

    /// The id of canonical bytes: SHA-256, lower-case hex (Format.md §7.3).
    public static func id(ofCanonical bytes: [UInt8]) -> EventID {
        SHA256.hash(data: bytes).withUnsafeBytes { EventID(digestBytes: $0) }
    }

    /// The stored record for canonical bytes, an id and an optional signature.
    public static func record(canonical: [UInt8], id: EventID, signature: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonical.count + 180)
        CanonicalJSON.appendASCII("{\"id\":\"", to: &out)
        id.appendHex(to: &out)
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
}

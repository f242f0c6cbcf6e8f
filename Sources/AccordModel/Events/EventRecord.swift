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
}

import AccordModel
import AccordSync

/// Accord events as CloudEvents 1.0 (https://github.com/cloudevents/spec, `spec.md` and
/// `formats/json-format.md`), structured mode, one JSON object per event:
///
/// | CloudEvents attribute | from the event |
/// |---|---|
/// | `specversion` | `"1.0"` |
/// | `id` | the event id (64 hex digits) |
/// | `source` | `urn:accord:<partnership>:<site>` |
/// | `type`, `subject`, `time` | the event's type, subject, time (RFC 3339, UTC) |
/// | `datacontenttype`, `data` | `application/json`, the event's data |
/// | `accordsite`, `accordseq`, `accordprev`, `accordhlc`, `accordseen`, `accordactor`, `accordsig` | the envelope (extension attributes) |
///
/// `accordseq` is a JSON integer; `accordseen` is the canonical JSON text of the `seen` object
/// (an extension value must be a string, number or boolean); `accordprev` (first event of a
/// feed), `accordseen` (when empty) and `accordsig` (not last of a batch) are absent. From
/// these attributes the stored record is rebuilt byte for byte (Format.md §7), so an export
/// imported into a journal that trusts the sites' keys reproduces the events exactly.
public enum CloudEvents {
    /// The CloudEvents version written and read (`specversion`).
    public static let specVersion = "1.0"
    /// The `datacontenttype` of exported events.
    public static let contentType = "application/json"
    /// The media type of a JSON batch (`formats/json-format.md` §4).
    public static let batchContentType = "application/cloudevents-batch+json"
    /// The extension attributes of Accord's envelope, in the order written.
    public static let extensions = ["accordsite", "accordseq", "accordprev", "accordhlc", "accordseen", "accordactor", "accordsig"]

    /// The CloudEvents JSON object of `event`, attributes in a fixed order.
    public static func encode(_ event: Event, partnership: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(event.record.count + 300)
        func member(_ name: String, _ text: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendString(text, to: &out)
        }
        out.append(UInt8(ascii: "{"))
        member("specversion", specVersion, first: true)
        member("id", event.id.hex)
        member("source", "urn:accord:\(partnership):\(event.site)")
        member("type", event.type.rawValue)
        member("subject", event.subject.description)
        member("time", event.time.text)
        member("datacontenttype", contentType)
        member("accordsite", event.site.rawValue)
        out.append(contentsOf: Array(",\"accordseq\":\(event.seq.rawValue)".utf8))
        if let prev = event.prev { member("accordprev", prev.hex) }
        member("accordhlc", event.hlc.text)
        let seen = event.seen.filter { $0.key != event.site }
        if !seen.isEmpty {
            let object = JSONObject(seen.sorted { $0.key < $1.key }.map { ($0.key.rawValue, JSONValue.number(String($0.value.rawValue))) })
            member("accordseen", String(decoding: try CanonicalJSON.encode(.object(object)), as: UTF8.self))
        }
        member("accordactor", event.actor)
        if let signature = event.signature { member("accordsig", Base64.encode(signature)) }
        out.append(contentsOf: Array(",\"data\":".utf8))
        try CanonicalJSON.encode(event.data, into: &out, path: "data")
        out.append(UInt8(ascii: "}"))
        return out
    }
}

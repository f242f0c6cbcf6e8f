import AccordModel
import Glibc
import NIOCore

/// The `COPY` lines of the `events` table (Mirror.md §2), built from the stored record's bytes.
extension PostgresMirror {
    /// One line of `events` (Mirror.md §2): `data` is the payload's bytes as stored, or NULL
    /// when it holds `\u0000`, which `jsonb` cannot represent (the record keeps it).
    static func appendEventLine(_ event: Event, partnership: String, to buffer: inout ByteBuffer) {
        // A record and its payload, each escaped, and the envelope's fields: one allocation.
        var line = CopyLine(capacity: 2 * event.record.count + 256)
        line.plain(event.id.hex)
        line.text(event.site.rawValue)
        line.plain(String(event.seq.rawValue))
        line.text(event.type.rawValue)
        line.text(event.subject.description)
        line.plain(event.time.text)
        line.plain(event.hlc.text)
        let data = payload(of: event.record, signed: event.signature != nil)
        if let data, !contains(data, nulEscape) { line.raw(data) } else { line.plain(nil) }
        line.raw(event.record)
        line.text(partnership)
        buffer.writeBytes(line.bytes)
        buffer.writeInteger(UInt8(0x0a))
    }

    /// The bytes of `data` in a stored record: canonical records end with `"data":{…}` and, when
    /// `signed`, `,"sig":"…"` (Format.md §7.2); no string can hold `,"data":{` unescaped, and
    /// the envelope's `data` is the first. The payload ends before the last `,"sig":"` of a
    /// signed record (a base64 signature holds no quote), not the first: a payload may have a
    /// member named `sig` after an object of its own.
    static func payload(of record: [UInt8], signed: Bool) -> ArraySlice<UInt8>? {
        guard let start = firstIndex(of: dataMarker, anchor: dataMarker.count - 1, in: record[...]) else { return nil }
        let from = start + dataMarker.count - 1
        var end = record.count - 1
        if signed {
            guard let sig = lastIndex(of: sigMarker, in: record[from...]) else { return nil }
            end = sig + 1
        }
        guard end > from, record[end - 1] == UInt8(ascii: "}") else { return nil }
        return record[from..<end]
    }

    /// The index of the last `needle` in `haystack`, looked for from its end (a signature is
    /// the last hundred bytes or so of a record).
    fileprivate static func lastIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var start = haystack.endIndex - needle.count
        while start >= haystack.startIndex {
            if haystack[start] == needle[0], haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }

    /// The index of the first `needle` in `haystack`. Each candidate is found by `memchr` of
    /// the needle's byte at `anchor`, one that is rare in records (`{`, `}`, a backslash), so
    /// that most bytes are passed over by the C library's scan, not looked at one by one.
    fileprivate static func firstIndex(of needle: [UInt8], anchor: Int, in haystack: ArraySlice<UInt8>) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        let key = Int32(needle[anchor])
        return haystack.withUnsafeBufferPointer { bytes -> Int? in
            let base = bytes.baseAddress!
            var from = anchor
            let last = bytes.count - needle.count + anchor
            while from <= last {
                guard let hit = memchr(base + from, key, last - from + 1) else { return nil }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                let start = at - anchor
                if memcmp(base + start, needle, needle.count) == 0 { return haystack.startIndex + start }
                from = at + 1
            }
            return nil
        }
    }

    fileprivate static let dataMarker = Array(#","data":{"#.utf8)
    fileprivate static let sigMarker = Array(#"},"sig":""#.utf8)
    fileprivate static let nulEscape = Array(#"\u0000"#.utf8)

    fileprivate static func contains(_ bytes: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        firstIndex(of: needle, anchor: 0, in: bytes) != nil
    }
}

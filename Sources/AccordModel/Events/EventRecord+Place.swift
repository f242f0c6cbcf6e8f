extension EventRecord {
    /// Where a stored record sits in its feed, and whether it carries a signature: what a bundle
    /// needs of each record it carries (SyncProtocol.md §4.2).
    package struct Place: Sendable, Equatable {
        package let site: SiteID
        package let seq: SequenceNumber
        package let id: EventID
        package let signed: Bool

        package init(site: SiteID, seq: SequenceNumber, id: EventID, signed: Bool) {
            (self.site, self.seq, self.id, self.signed) = (site, seq, id, signed)
        }

        /// A decoded event's place.
        package init(_ event: Event) {
            self.init(site: event.site, seq: event.seq, id: event.id, signed: event.signature != nil)
        }
    }

    /// The place of a stored record read from its first bytes and its last ones alone:
    /// Format.md §7.1 fixes the envelope's first keys (`id`, `site`, `seq`, `prev`) and their
    /// order, writes its string values without escapes, and puts `sig`, when present, last,
    /// after `data` (an object, so an unsigned record ends with `}}` and a signed one with `"}`).
    ///
    /// Nothing else of the record is checked (not its id against its bytes, not its `data`):
    /// this is for records a journal already holds, checked when it wrote or admitted them and
    /// covered by their batch's CRC-32, sent to a receiver that checks every record in full
    /// (SyncProtocol.md §3.1). A bundle of 30,000 events decoded every record only for these
    /// four fields (issue 16).
    /// - Parameters:
    ///   - record: the record's bytes, without its `\n`.
    ///   - site: the site of the record before it, reused when the name's bytes are the same.
    /// - Returns: nil when the bytes do not have that shape; the caller then decodes the record
    ///   in full (``decode(_:)``), which names what is wrong.
    package static func place(of record: UnsafeRawBufferPointer, site previous: SiteID?) -> Place? {
        let bytes = record.bindMemory(to: UInt8.self)
        var at = 0
        func expect(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard at + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[at + offset] != text.utf8Start[offset] { return false }
            at += count
            return true
        }
        guard expect("{\"id\":\""), at + 64 <= bytes.count,
              let id = EventID(hexDigits: UnsafeRawBufferPointer(rebasing: record[at..<(at + 64)])) else { return nil }
        at += 64
        guard expect("\",\"site\":\"") else { return nil }
        let siteStart = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\"") { at += 1 }
        let siteBytes = UnsafeBufferPointer(rebasing: bytes[siteStart..<at])
        guard expect("\",\"seq\":") else { return nil }
        var seq: UInt64 = 0, digits = 0
        while at < bytes.count, (0x30...0x39).contains(bytes[at]), digits < 18 {
            seq = seq * 10 + UInt64(bytes[at] - 0x30)
            at += 1
            digits += 1
        }
        guard digits > 0, bytes[at - digits] != 0x30, expect(",\"prev\":") else { return nil }
        // The end: `}}` unsigned; `,"sig":"<base64>"}` signed (base64 holds no quote).
        let count = bytes.count
        guard count >= at + 2, bytes[count - 1] == UInt8(ascii: "}") else { return nil }
        let signed: Bool
        switch bytes[count - 2] {
        case UInt8(ascii: "}"):
            signed = false
        case UInt8(ascii: "\""):
            var quote = count - 3
            while quote > at, bytes[quote] != UInt8(ascii: "\"") { quote -= 1 }
            let key = Array(",\"sig\":".utf8)
            guard quote - key.count > at, bytes[(quote - key.count)..<quote].elementsEqual(key) else { return nil }
            signed = true
        default:
            return nil
        }
        let site: SiteID
        if let previous, previous.rawValue.utf8.elementsEqual(siteBytes) {
            site = previous
        } else {
            guard let named = try? SiteID(String(decoding: siteBytes, as: UTF8.self)) else { return nil }
            site = named
        }
        return Place(site: site, seq: SequenceNumber(seq), id: id, signed: signed)
    }
}

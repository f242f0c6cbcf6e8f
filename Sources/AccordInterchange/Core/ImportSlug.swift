import AccordModel

/// Identifiers for imported things: lower-case slugs (Format.md §7.1) derived from source text.
public enum ImportSlug {
    /// `text` as a slug: ASCII letters lower-cased, digits kept, every other run of characters a
    /// single dash; nil when nothing is left. Longer than 64 bytes: cut to 55 and ended with
    /// `-` and 8 hex digits of the SHA-256 of `text`, so that distinct long texts stay distinct.
    public static func make(_ text: String) -> String? {
        var out: [UInt8] = []
        var dash = false
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A:
                if dash, !out.isEmpty { out.append(0x2D) }
                dash = false
                out.append(byte + 0x20)
            case 0x61...0x7A, 0x30...0x39:
                if dash, !out.isEmpty { out.append(0x2D) }
                dash = false
                out.append(byte)
            default:
                dash = true
            }
        }
        guard !out.isEmpty else { return nil }
        if out.count > Slug.maxLength {
            var cut = Array(out.prefix(55))
            while cut.last == 0x2D { cut.removeLast() }
            return String(decoding: cut, as: UTF8.self) + "-" + hash8(text)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A readable slug of `text` made unique by 8 hex digits of the SHA-256 of `identity`.
    public static func unique(_ text: String, identity: String, fallback: String = "item") -> String {
        var base = Array((make(text) ?? fallback).utf8.prefix(55))
        while base.last == 0x2D { base.removeLast() }
        return String(decoding: base, as: UTF8.self) + "-" + hash8(identity)
    }

    static func hash8(_ text: String) -> String {
        String(Digest.sha256Hex(Array(text.utf8)).prefix(8))
    }
}

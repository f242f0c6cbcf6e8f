import AccordModel
import Crypto

/// A C2SP signed note (c2sp.org/signed-note; Trust.md §2): a text and the signature lines of
/// the keys that signed it.
///
/// On the wire: the text (UTF-8, every line ending in `\n`, no blank line), one blank line,
/// then one line per signature: `— <key name> <base64(key id || signature)>\n`, the dash being
/// U+2014 (`E2 80 94`). Text and names are kept as bytes; nothing is normalised.
///
/// - SeeAlso: ``NoteVerifier``, ``Checkpoint``.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        /// The key name, as written (bytes, no space, no `+`).
        public var name: [UInt8]
        /// The decoded signature: the 4-byte key id, then the algorithm's bytes (64 for an
        /// Ed25519 note signature; 8 + 64 for a cosignature).
        public var blob: [UInt8]

        /// A signature line's parts.
        public init(name: [UInt8], blob: [UInt8]) {
            self.name = name
            self.blob = blob
        }

        /// The 4-byte key id that opens the blob.
        public var keyID: [UInt8] { Array(blob.prefix(4)) }

        /// The line, `— name base64\n`.
        public var line: [UInt8] {
            SignedNote.emDash + [0x20] + name + [0x20] + Array(Base64.encode(blob).utf8) + [0x0A]
        }
    }

    /// The most bytes a note may have (Trust.md §2, `MAX_NOTE_BYTES`); a longer input is refused
    /// before it is parsed.
    public static let maxBytes = 65_536
    /// The most signature lines a note may carry (Trust.md §2, `MAX_NOTE_SIGNATURES`), as Go's
    /// `sumdb/note` reader.
    public static let maxSignatures = 100
    /// The most bytes of a key name (Trust.md §2.2, `MAX_KEY_NAME`).
    public static let maxKeyNameBytes = 256
    /// U+2014 EM DASH in UTF-8.
    static let emDash: [UInt8] = [0xE2, 0x80, 0x94]

    /// The signed text: lines each ending in `\n`.
    public var text: [UInt8]
    /// The signature lines, in order.
    public var signatures: [Signature]

    /// A note with `text` (which must end in `\n`) and `signatures`.
    public init(text: [UInt8], signatures: [Signature] = []) {
        self.text = text
        self.signatures = signatures
    }

    /// The note's bytes: the text, a blank line, the signature lines.
    public var bytes: [UInt8] {
        var out = text
        out.append(0x0A)
        for signature in signatures { out += signature.line }
        return out
    }

    /// Parses a signed note.
    ///
    /// Checks the form only (no signature): at most ``maxBytes`` bytes, valid UTF-8, no control
    /// character but `\n`, a non-empty text ending in `\n` with no blank line, then a blank line
    /// and 1 to ``maxSignatures`` well-formed signature lines, the last ending in `\n`.
    /// - Throws: ``AccordError`` `.badInput`, naming the line.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxBytes else {
            throw AccordError(.badInput, "The note is \(bytes.count) bytes, more than the \(Self.maxBytes) a signed note may have (Trust.md §2).")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw AccordError(.badInput, "The note is not UTF-8 text (Trust.md §2).")
        }
        for (offset, byte) in bytes.enumerated() where (byte < 0x20 && byte != 0x0A) || byte == 0x7F {
            throw AccordError(.badInput, "The note holds the control byte 0x\(String(byte, radix: 16)) at byte \(offset); a note holds text and line feeds only (Trust.md §2).")
        }
        // The text ends at the last blank line ("\n\n"): signature lines never hold one.
        var split: Int?
        var index = bytes.count - 2
        while index >= 0 {
            if bytes[index] == 0x0A && bytes[index + 1] == 0x0A { split = index; break }
            index -= 1
        }
        guard let split, split > 0 else {
            throw AccordError(.badInput, "The note has no blank line between its text and its signatures (Trust.md §2).")
        }
        let text = Array(bytes[0...split])
        if text.count >= 2, text.indices.dropLast().contains(where: { text[$0] == 0x0A && text[$0 + 1] == 0x0A }) {
            throw AccordError(.badInput, "The note's text holds a blank line; a note's text may not (Trust.md §2).")
        }
        let rest = bytes[(split + 2)...]
        guard rest.last == 0x0A else {
            throw AccordError(.badInput, "The note's last signature line does not end with a line feed (Trust.md §2).")
        }
        var signatures: [Signature] = []
        for (number, line) in rest.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            guard signatures.count < Self.maxSignatures else {
                throw AccordError(.badInput, "The note has more than \(Self.maxSignatures) signature lines (Trust.md §2).")
            }
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
            guard fields.count == 3, Array(fields[0]) == Self.emDash, Self.isValidName(Array(fields[1])),
                  let blob = Base64.decode(String(decoding: fields[2], as: UTF8.self)), blob.count >= 5,
                  Base64.encode(blob).utf8.elementsEqual(fields[2])
            else {
                throw AccordError(.badInput, "Signature line \(number + 1) of the note is not '— <name> <base64>' (Trust.md §2).")
            }
            signatures.append(Signature(name: Array(fields[1]), blob: blob))
        }
        guard !signatures.isEmpty else {
            throw AccordError(.badInput, "The note has no signature line (Trust.md §2).")
        }
        self.text = text
        self.signatures = signatures
    }

    /// True when `name` can name a key: non-empty UTF-8 without space, `+` or control characters.
    public static func isValidName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.count <= maxKeyNameBytes && !name.contains(where: { $0 <= 0x20 || $0 == 0x2B || $0 == 0x7F })
            && String(validating: name, as: UTF8.self) != nil
    }
}

/// A key that signs notes: a name and an Ed25519 key (Trust.md §2.2).
public struct NoteSigner: Sendable {
    /// The key name, written in every signature line.
    public let name: [UInt8]
    /// The Ed25519 key (a site key or a witness key; both are ``SiteKey`` values).
    let key: SiteKey

    /// A signer named `name` (see ``SignedNote/isValidName(_:)``) holding `key`.
    /// - Throws: ``AccordError`` `.badInput` for a name with a space, `+` or control character.
    public init(name: String, key: SiteKey) throws {
        guard SignedNote.isValidName(Array(name.utf8)) else {
            throw AccordError(.badInput, "'\(name.prefix(80))' cannot name a note key: use text without spaces or '+'.", field: "name")
        }
        self.name = Array(name.utf8)
        self.key = key
    }

    /// The verifier of this key's note signatures (type 0x01).
    public var verifier: NoteVerifier {
        NoteVerifier(name: name, type: NoteVerifier.ed25519, publicKey: key.publicKey.rawBytes)
    }

    /// The verifier of this key's cosignatures (type 0x04).
    public var cosignatureVerifier: NoteVerifier {
        NoteVerifier(name: name, type: NoteVerifier.cosignatureV1, publicKey: key.publicKey.rawBytes)
    }

    /// The signature line of `text` (c2sp.org/signed-note: Ed25519 over the text's bytes).
    public func sign(_ text: [UInt8]) throws -> SignedNote.Signature {
        SignedNote.Signature(name: name, blob: verifier.keyID + (try key.sign(text)))
    }

    /// The cosignature line of a checkpoint's text at `time` seconds since 1970
    /// (c2sp.org/tlog-cosignature, Trust.md §3): key id (type 0x04), the time as 8 big-endian
    /// bytes, and the Ed25519 signature of `cosignature/v1\ntime <time>\n` and the text.
    public func cosign(_ text: [UInt8], time: UInt64) throws -> SignedNote.Signature {
        let message = NoteVerifier.cosignedMessage(text, time: time)
        var timeBytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { timeBytes.append(UInt8(truncatingIfNeeded: time >> UInt64(shift))) }
        return SignedNote.Signature(name: name, blob: cosignatureVerifier.keyID + timeBytes + (try key.sign(message)))
    }
}

extension SitePublicKey {
    /// The 32 raw bytes (RFC 8032 §5.1.5).
    public var rawBytes: [UInt8] { Base64.decode(base64) ?? [] }
}

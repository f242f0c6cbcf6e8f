import AccordModel
import Crypto

/// A public key that checks note signatures or cosignatures (c2sp.org/signed-note,
/// c2sp.org/tlog-cosignature; Trust.md §2.2, §3).
///
/// Written as a *verifier key*: `<name>+<key id, 8 hex digits>+<base64(type || 32-byte key)>`,
/// e.g. `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`. The key id is the
/// first 4 bytes of SHA-256(name || 0x0A || type || key).
public struct NoteVerifier: Sendable, Equatable {
    /// Signature type 0x01: Ed25519 over the note's text (signed-note).
    public static let ed25519: UInt8 = 0x01
    /// Signature type 0x04: a timestamped Ed25519 cosignature (tlog-cosignature `cosignature/v1`).
    public static let cosignatureV1: UInt8 = 0x04

    /// The key name (bytes).
    public let name: [UInt8]
    /// The signature type, ``ed25519`` or ``cosignatureV1``.
    public let type: UInt8
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// A verifier for `name`, `type` and a 32-byte `publicKey`.
    public init(name: [UInt8], type: UInt8, publicKey: [UInt8]) {
        self.name = name
        self.type = type
        self.publicKey = publicKey
    }

    /// Parses a verifier key `<name>+<hex key id>+<base64(type || key)>`.
    /// - Throws: ``AccordError`` `.badInput` (field `key`) when the form, the type (0x01 or 0x04),
    ///   the key (a weak one is refused, ``SitePublicKey/weakness(of:)``) or the key id is wrong.
    public init(parsing text: String) throws {
        let bytes = trimmingASCIIWhitespace(Array(text.utf8))
        // Split at the first two '+' only: the key's base64 may hold '+' (as Go's sumdb/note).
        let parts = bytes.split(separator: 0x2B, maxSplits: 2, omittingEmptySubsequences: false)
        func fail(_ why: String) -> AccordError {
            AccordError(.badInput, "'\(text.prefix(120))' is not a verifier key: \(why). Expected '<name>+<8 hex digits>+<base64 of the type byte and the 32-byte key>' (Trust.md §2.2).", field: "key")
        }
        guard parts.count == 3 else { throw fail("it does not have three parts separated by '+'") }
        let name = Array(parts[0])
        guard SignedNote.isValidName(name) else { throw fail("the name is empty or holds a space") }
        guard parts[1].count == 8, let keyID = Self.hexBytes(Array(parts[1])) else { throw fail("the key id is not 8 hex digits") }
        guard let blob = Base64.decode(String(decoding: parts[2], as: UTF8.self)), blob.count == 33 else {
            throw fail("the key is not base64 of 33 bytes")
        }
        guard blob[0] == Self.ed25519 || blob[0] == Self.cosignatureV1 else {
            throw fail("the type byte is 0x\(String(blob[0], radix: 16)), not 0x01 (Ed25519) or 0x04 (cosignature/v1)")
        }
        let key = Array(blob[1...])
        if let weakness = SitePublicKey.weakness(of: key) { throw fail(weakness) }
        self.init(name: name, type: blob[0], publicKey: key)
        guard self.keyID == keyID else { throw fail("the key id does not match the name and key") }
    }

    /// The 4-byte key id: SHA-256(name || 0x0A || type || key), first 4 bytes.
    public var keyID: [UInt8] {
        Array(SHA256.hash(data: name + [0x0A, type] + publicKey).prefix(4))
    }

    /// The verifier key's text.
    public var text: String {
        String(decoding: name, as: UTF8.self) + "+" + keyID.map { String(format2: $0) }.joined() + "+" + Base64.encode([type] + publicKey)
    }

    /// The key name as text.
    public var nameText: String { String(decoding: name, as: UTF8.self) }

    /// The message a cosignature signs (c2sp.org/tlog-cosignature): `cosignature/v1\n`,
    /// `time <decimal seconds>\n`, then the checkpoint's text.
    public static func cosignedMessage(_ text: [UInt8], time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + text
    }

    /// Whether `signature` is a valid signature of `text` by this key: the name and key id
    /// match and the Ed25519 signature verifies (for type 0x04, over ``cosignedMessage(_:time:)``
    /// with the time it carries).
    public func verifies(_ signature: SignedNote.Signature, of text: [UInt8]) -> Bool {
        guard signature.name == name, signature.keyID == keyID,
              SitePublicKey.weakness(of: publicKey) == nil,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        let body = Array(signature.blob.dropFirst(4))
        switch type {
        case Self.ed25519:
            return body.count == 64 && key.isValidSignature(body, for: text)
        case Self.cosignatureV1:
            guard body.count == 72, let time = Self.time(ofCosignature: signature) else { return false }
            return key.isValidSignature(Array(body[8...]), for: Self.cosignedMessage(text, time: time))
        default:
            return false
        }
    }

    /// The time (seconds since 1970) a cosignature line carries, or nil for another line.
    public static func time(ofCosignature signature: SignedNote.Signature) -> UInt64? {
        guard signature.blob.count == 4 + 8 + 64 else { return nil }
        return signature.blob[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    static func hexBytes(_ digits: [UInt8]) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        func value(_ d: UInt8) -> UInt8? {
            switch d {
            case 0x30...0x39: d - 0x30
            case 0x61...0x66: d - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

extension String {
    /// Two lower-case hex digits of a byte.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef".utf8)
        self = String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }
}

/// The bytes without the ASCII white space around them (space, tab, LF, VT, FF, CR), as key
/// files are read (Format.md §8).
func trimmingASCIIWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    var slice = bytes[...]
    while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
    while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
    return Array(slice)
}

/// Hex of bytes, lower case.
func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2: $0) }.joined() }

import Crypto

/// A site's Ed25519 signing key (RFC 8032, through swift-crypto's `Curve25519.Signing`).
///
/// The private key is stored as the base64 of its 32-byte seed in `keys/<site>.key`, mode 0600,
/// and is never printed; the public key as base64 of its 32 bytes in `keys/<site>.pub`
/// (Format.md §8).
public struct SiteKey: Sendable {
    /// The 32-byte seed.
    package let seed: [UInt8]
    /// The key made from the seed once: making it is a scalar multiplication, which cost a
    /// tenth of a single-event append when it was done for every signature.
    private let box: PrivateKeyBox

    private var privateKey: Curve25519.Signing.PrivateKey { box.key }

    /// A new random key.
    public init() {
        let key = Curve25519.Signing.PrivateKey()
        seed = Array(key.rawRepresentation)
        box = PrivateKeyBox(key)
    }

    /// The key with this 32-byte seed (for reproducible fixtures and the sample journal only).
    /// - Throws: ``AccordError`` `.badInput` unless `seed` is 32 bytes.
    public init(seed: [UInt8]) throws {
        guard seed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw AccordError(.badInput, "A site key seed must be 32 bytes, not \(seed.count).")
        }
        self.seed = seed
        box = PrivateKeyBox(key)
    }

    /// The public key, as shared with peers.
    public var publicKey: SitePublicKey { SitePublicKey(raw: Array(privateKey.publicKey.rawRepresentation)) }

    /// Signs an arbitrary message (a sync request, SyncProtocol.md §4.3.1): 64 bytes.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: message))
    }

    /// Signs the batch that ends with the event `id` (Format.md §7.4): 64 bytes.
    public func signature(forBatchEndingAt id: EventID) throws -> [UInt8] {
        Array(try privateKey.signature(for: SitePublicKey.message(forBatchEndingAt: id)))
    }
}

/// swift-crypto's private key is an immutable value that is not marked `Sendable`; it is only
/// read (to sign), so sharing it between threads is safe.
private final class PrivateKeyBox: @unchecked Sendable {
    let key: Curve25519.Signing.PrivateKey
    init(_ key: Curve25519.Signing.PrivateKey) { self.key = key }
}

/// A site's Ed25519 public key.
public struct SitePublicKey: Sendable, Equatable {
    /// The 32 raw bytes (RFC 8032 §5.1.5).
    let raw: [UInt8]

    init(raw: [UInt8]) { self.raw = raw }

    /// Parses the base64 text of a 32-byte public key.
    /// - Throws: ``AccordError`` `.badInput`.
    public init(base64 text: String) throws {
        guard let bytes = Base64.decode(text.trimmingWhitespace), bytes.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil
        else {
            throw AccordError(.badInput, "'\(text.prefix(60))' is not an Ed25519 public key: expected the base64 of 32 bytes (44 characters).", field: "key")
        }
        raw = bytes
    }

    /// Base64 of the 32 raw bytes (44 characters).
    public var base64: String { Base64.encode(raw) }

    /// True when `signature` signs `message` under this key.
    public func verifies(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// True when `signature` signs the batch ending with `id`.
    public func verifies(_ signature: [UInt8], forBatchEndingAt id: EventID) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: Self.message(forBatchEndingAt: id))
    }

    /// The signed message (Format.md §7.4): the ASCII bytes `accord-batch-v1:` and the id's hex.
    static func message(forBatchEndingAt id: EventID) -> [UInt8] {
        Array(("accord-batch-v1:" + id.hex).utf8)
    }
}

extension String {
    /// The text without the ASCII white space around it: space, tab, `\n`, `\v`, `\f` and `\r`
    /// (Format.md §1, §8: how `SITE`, `PARTNERSHIP` and key files are read). Only these bytes are
    /// trimmed: Unicode white space (U+00A0, U+2028, …) is kept, so it makes a name or a key
    /// invalid, as it does for a reader written from Format.md.
    package var trimmingWhitespace: String {
        var bytes = Substring(self).utf8[...]
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

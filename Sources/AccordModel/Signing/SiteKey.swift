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
        // Data's bytes copied in one go (Array(Data) copies them one by one, generically).
        try privateKey.signature(for: SitePublicKey.message(forBatchEndingAt: id)).withUnsafeBytes { Array($0) }
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

    /// Parses the base64 text of a 32-byte public key — every key this program reads (`init`,
    /// `peer add`, `keys/<site>.pub`, peer records, imports, the sync wire) comes through here —
    /// and refuses a weak one (``weakness(of:)``, Format.md §8).
    /// - Throws: ``AccordError`` `.badInput` (field `key`): not base64 of 32 bytes, or a weak key.
    public init(base64 text: String) throws {
        guard let bytes = Base64.decode(text.trimmingWhitespace), bytes.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil
        else {
            throw AccordError(.badInput, "'\(text.prefix(60))' is not an Ed25519 public key: expected the base64 of 32 bytes (44 characters).", field: "key")
        }
        if let weakness = Self.weakness(of: bytes) {
            throw AccordError(.badInput, "'\(text.prefix(60))' is not a usable Ed25519 public key: \(weakness). No site's key is such a point; ask the office for the key that 'accord init' printed (Format.md §8).", field: "key")
        }
        raw = bytes
    }

    /// The field prime p = 2^255 - 19, little-endian (RFC 8032 §5.1).
    private static let prime: [UInt8] = [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]

    /// The y-coordinates (little-endian, sign bit clear) of the eight points of small order
    /// (Format.md §8): 1 (the identity, order 1), p - 1 (order 2), 0 (the two points of order 4),
    /// and the two y of the four points of order 8. With either sign bit, these are the eight
    /// canonical encodings of small-order points.
    private static let smallOrderY: [[UInt8]] = [
        [0x01] + [UInt8](repeating: 0, count: 31),
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [UInt8](repeating: 0, count: 32),
        [0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
         0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05],
        [0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
         0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a],
    ]

    /// Why the 32 bytes `raw` are not a usable public key, or nil when they are one.
    ///
    /// A key is refused when its encoding is not canonical — the y-coordinate (the 255 low bits,
    /// little-endian) is p = 2^255 - 19 or more — or when it encodes a point of small order (the
    /// identity, the point of order 2, the two of order 4, the four of order 8): under such a key
    /// a signature that verifies for every message is easy to make (R = identity, S = 0), so it
    /// would let anyone sign as the site (Format.md §8; SyncProtocol.md §9). A key made by
    /// ``SiteKey`` is never refused.
    /// - Parameter raw: the 32 bytes of an encoded point (RFC 8032 §5.1.2).
    /// - Returns: the reason, for a message ("…: <reason>"), or nil.
    public static func weakness(of raw: [UInt8]) -> String? {
        guard raw.count == 32 else { return "it is \(raw.count) bytes, not 32" }
        var y = raw
        y[31] &= 0x7f
        // Compare y with p from the most significant byte down.
        for index in stride(from: 31, through: 0, by: -1) where y[index] != prime[index] {
            if y[index] > prime[index] { break }
            return smallOrderY.contains(y) ? "it encodes a point of small order (order 1, 2, 4 or 8), under which forged signatures verify" : nil
        }
        return "its encoding is not canonical (the y-coordinate is not below 2^255 - 19)"
    }

    /// Base64 of the 32 raw bytes (44 characters).
    public var base64: String { Base64.encode(raw) }

    /// True when `signature` signs `message` under this key.
    public func verifies(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard Self.weakness(of: raw) == nil, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// True when `signature` signs the batch ending with `id`.
    public func verifies(_ signature: [UInt8], forBatchEndingAt id: EventID) -> Bool {
        guard Self.weakness(of: raw) == nil, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: Self.message(forBatchEndingAt: id))
    }

    /// The signed message (Format.md §7.4): the ASCII bytes `accord-batch-v1:` and the id's hex.
    static func message(forBatchEndingAt id: EventID) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(80)
        CanonicalJSON.appendASCII("accord-batch-v1:", to: &message)
        id.appendHex(to: &message)
        return message
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

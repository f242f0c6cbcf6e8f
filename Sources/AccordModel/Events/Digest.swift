import Crypto

/// SHA-256 digests as lower-case hex (FIPS 180-4, through swift-crypto).
public enum Digest {
    /// The SHA-256 of `bytes`, 64 lower-case hex digits.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        EventID(digest: SHA256.hash(data: bytes)).hex
    }
}

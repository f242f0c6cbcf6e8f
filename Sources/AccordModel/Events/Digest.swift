import Crypto

/// SHA-256 digests as lower-case hex (FIPS 180-4, through swift-crypto).
public enum Digest {
    /// The SHA-256 of `bytes`, 64 lower-case hex digits.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        sha256(bytes).hex
    }

    /// The SHA-256 of `bytes`, held as an ``EventID`` (32 bytes; ``EventID/appendHex(to:)``
    /// writes its hex without a `String`).
    package static func sha256(_ bytes: [UInt8]) -> EventID {
        // Through the digest's bytes: `EventID(digest:)` iterates a generic sequence, which for
        // swift-crypto's digest type ran through witness tables and type metadata on each call.
        SHA256.hash(data: bytes).withUnsafeBytes { EventID(digestBytes: $0) }
    }

    /// A SHA-256 computed over bytes as they arrive, for bodies checked while they are read
    /// (SyncProtocol.md §4.3.1).
    public struct SHA256Stream {
        private var hasher = SHA256()

        /// An empty digest.
        public init() {}

        /// Adds `bytes` to what has been hashed.
        /// - Parameter bytes: the next bytes, in order.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            hasher.update(bufferPointer: bytes)
        }

        /// The SHA-256 of everything added, 64 lower-case hex digits.
        public func hex() -> String {
            hasher.finalize().withUnsafeBytes { EventID(digestBytes: $0) }.hex
        }
    }
}

import AccordModel
import Foundation

extension PartnershipState {
    /// The state in canonical JSON (Format.md §7.2): the same bytes on every platform.
    ///
    /// Foundation's `JSONEncoder` orders keys differently from run to run on Linux, so its output
    /// is parsed and re-encoded canonically (keys sorted by bytes) before it is hashed.
    public func canonicalBytes() throws -> [UInt8] {
        let encoded = try JSONEncoder().encode(self)
        return try CanonicalJSON.encode(try JSONParser.parse(Array(encoded)))
    }

    /// SHA-256 of ``canonicalBytes()``, as 64 hex digits: equal on two sites exactly when their
    /// states are equal.
    public func digest() throws -> String {
        Digest.sha256Hex(try canonicalBytes())
    }
}

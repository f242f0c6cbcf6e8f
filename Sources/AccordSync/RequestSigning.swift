import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Signed requests and responses between sites, version 2 (SyncProtocol.md §4.3.1).
///
/// A request carries seven headers: ``siteHeader``, ``timeHeader``, ``nonceHeader``,
/// ``contentHashHeader``, ``destinationHeader``, ``partnershipHeader`` and ``signatureHeader``.
/// The signature, by the sending site's key, covers the method, the path, the time, the nonce,
/// the body's `Content-Length` and SHA-256, the sending site, the destination site and the
/// partnership, so that a server can check it from the headers alone — before it reserves any
/// memory for the body or reads a byte of it — and then check the body against the signed
/// SHA-256 as it arrives. A response is signed over its status, the request's method, path and
/// nonce, the answering site and the body's length and SHA-256, so that it answers exactly one
/// request and its head can be checked before its body is read.
public enum RequestSigning {
    /// The header naming the sending (or answering) site.
    public static let siteHeader = "Accord-Site"
    /// The header holding the request's time, RFC 3339 UTC, whole seconds.
    public static let timeHeader = "Accord-Time"
    /// The header holding the base64 Ed25519 signature.
    public static let signatureHeader = "Accord-Signature"
    /// The header holding the request's nonce: ``nonceBytes`` random bytes as lower-case hex.
    public static let nonceHeader = "Accord-Nonce"
    /// The header holding the SHA-256 of the body (request or response), 64 lower-case hex digits.
    public static let contentHashHeader = "Accord-Content-SHA256"
    /// The header naming the site the request is meant for, or ``anyDestination``.
    public static let destinationHeader = "Accord-Destination"
    /// The header naming the partnership the request is meant for.
    public static let partnershipHeader = "Accord-Partnership"
    /// `Accord-Key`: the base64 public key the sender signed with (its key in force). Not part of
    /// the signed text, and optional: a receiver that does not yet hold the sender's latest
    /// rotation accepts a signature under this key only when its SHA-256 is the sender's
    /// committed next key (Trust.md "Transport"); otherwise the header is ignored.
    public static let keyHeader = "Accord-Key"
    /// The destination of a request that does not yet know the server's site: allowed for
    /// `GET /v1/vector` only, whose answer names it.
    public static let anyDestination = "*"
    /// How far a request's time may be from the receiver's clock, in seconds.
    public static let window: Int64 = 300
    /// The random bytes of a nonce (sent as twice as many hex digits).
    public static let nonceBytes = 16
    /// The first line of the signed text of a request.
    public static let requestVersionLine = "accord-request-v2"
    /// The first line of the signed text of a response.
    public static let responseVersionLine = "accord-response-v2"

    /// What a server learned from a request's headers once their signature verified: the
    /// request may be read, its body must be ``length`` bytes whose SHA-256 is ``contentHash``.
    public struct Admitted: Sendable {
        /// The sending site, authenticated.
        public let site: SiteID
        /// The nonce, 32 lower-case hex digits.
        public let nonce: String
        /// The signed `Content-Length` of the body.
        public let length: Int
        /// The signed SHA-256 of the body, 64 lower-case hex digits.
        public let contentHash: String
        /// The signed time, in seconds since 1970.
        public let seconds: Int64
    }

    /// The signed text of a request (SyncProtocol.md §4.3.1): ten lines joined by `\n`, no `\n`
    /// at the end.
    public static func requestText(method: String, path: String, time: String, nonce: String, length: Int, contentHash: String, site: String, destination: String, partnership: String) -> [UInt8] {
        Array([requestVersionLine, method, path, time, nonce, String(length), contentHash, site, destination, partnership].joined(separator: "\n").utf8)
    }

    /// The signed text of a response (SyncProtocol.md §4.3.1): eight lines joined by `\n`, no
    /// `\n` at the end.
    public static func responseText(status: Int, method: String, path: String, nonce: String, site: String, length: Int, contentHash: String) -> [UInt8] {
        Array([responseVersionLine, String(status), method, path, nonce, site, String(length), contentHash].joined(separator: "\n").utf8)
    }

    /// A fresh nonce: ``nonceBytes`` bytes from the system's secure generator, as hex.
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for _ in 0..<nonceBytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The seven headers for a request from `journal`'s site to `destination`.
    /// - Parameters:
    ///   - method: the HTTP method, `GET` or `POST`.
    ///   - path: the request's path, e.g. `/v1/push`.
    ///   - body: the request's body (empty for `GET`); its length is sent as `Content-Length`.
    ///   - destination: the server's site, or ``anyDestination`` for `GET /v1/vector` when it
    ///     is not known yet.
    ///   - now: the time to sign; its fraction of a second is dropped.
    ///   - nonce: the nonce to sign (a fresh one by default).
    /// - Returns: the headers by name (``nonceHeader`` holds the nonce the answer must name).
    /// - Throws: ``AccordError`` when the site's signing key cannot be read.
    public static func headers(for journal: EventJournal, method: String, path: String, body: [UInt8], to destination: String, now: Timestamp = .now(), nonce: String = makeNonce()) throws -> [String: String] {
        let time = Timestamp(seconds: now.seconds, nanoseconds: 0).text
        let hash = Digest.sha256Hex(body)
        let text = requestText(method: method, path: path, time: time, nonce: nonce, length: body.count, contentHash: hash, site: journal.site.rawValue, destination: destination, partnership: journal.partnership)
        let key = try journal.signingKey()
        let signature = try key.sign(text)
        return [
            siteHeader: journal.site.rawValue, timeHeader: time, nonceHeader: nonce, contentHashHeader: hash,
            destinationHeader: destination, partnershipHeader: journal.partnership, signatureHeader: Base64.encode(signature),
            keyHeader: key.publicKey.base64,
        ]
    }

    static func header(_ headers: [String: String], _ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    /// True when `headers` carry a signature but no nonce: a request signed under version 1
    /// (`accord-request-v1`), which is refused (SyncProtocol.md §8).
    public static func isVersion1(_ headers: [String: String]) -> Bool {
        header(headers, signatureHeader) != nil && header(headers, nonceHeader) == nil
    }

    static func isLowerHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Checks a request from its headers alone (SyncProtocol.md §4.3.1): every header is there
    /// and well formed, the time is within ``window``, the site is trusted, the signature
    /// verifies over the signed text built from the headers, `method`, `path` and
    /// `announcedLength`, and the request names this server's site (or ``anyDestination`` for
    /// `GET /v1/vector`) and partnership. It does not look at the nonce cache (the caller does)
    /// nor at the body (``checkBody(_:against:)``).
    /// - Parameters:
    ///   - announcedLength: the request's `Content-Length` (0 when it has none).
    ///   - server: the site of the journal served; `partnership` its partnership.
    /// - Returns: what the body must be.
    /// - Throws: ``SyncError`` ``SyncError/Code/unauthenticated`` (a version-1 request, missing
    ///   or malformed headers, stale time, bad signature, another destination or partnership),
    ///   ``SyncError/Code/untrusted`` (untrusted site).
    public static func verifyHeaders(_ headers: [String: String], method: String, path: String, announcedLength: Int, trusted: [SiteID: SitePublicKey], committed: [SiteID: String] = [:], server: SiteID, partnership: String, now: Timestamp = .now()) throws -> Admitted {
        if isVersion1(headers) {
            throw SyncError(.unauthenticated, "The request is signed under version 1 of request signing (accord-request-v1), which this server refuses: it does not bind the body's length, the destination or a nonce (SyncProtocol.md §8). Upgrade accord at the calling office.")
        }
        let names = [siteHeader, timeHeader, nonceHeader, contentHashHeader, destinationHeader, partnershipHeader, signatureHeader]
        let values = names.map { header(headers, $0) }
        guard !values.contains(where: { $0 == nil }) else {
            throw SyncError(.unauthenticated, "The request is not signed: it needs the headers \(names.joined(separator: ", ")) (SyncProtocol.md §4.3.1).")
        }
        let (siteText, time, nonce, hash, destination, claimedPartnership, signatureText) = (values[0]!, values[1]!, values[2]!, values[3]!, values[4]!, values[5]!, values[6]!)
        guard let site = try? SiteID(siteText) else { throw SyncError(.unauthenticated, "The \(siteHeader) header is not a site name.") }
        guard let instant = try? Timestamp(rfc3339: time), abs(instant.seconds - now.seconds) <= window else {
            throw SyncError(.unauthenticated, "The request's time is missing or more than \(window) s from this server's clock; check both clocks.")
        }
        guard isLowerHex(nonce, count: 2 * nonceBytes) else { throw SyncError(.unauthenticated, "The \(nonceHeader) header must be \(2 * nonceBytes) lower-case hex digits.") }
        guard isLowerHex(hash, count: 64) else { throw SyncError(.unauthenticated, "The \(contentHashHeader) header must be 64 lower-case hex digits.") }
        guard let key = trusted[site] else {
            throw SyncError(.untrusted, "Site '\(site)' is not trusted by this server; add it with 'accord peer add'.")
        }
        let text = requestText(method: method, path: path, time: time, nonce: nonce, length: announcedLength, contentHash: hash, site: site.rawValue, destination: destination, partnership: claimedPartnership)
        guard let signature = Base64.decode(signatureText), verifies(signature, message: text, key: key, site: site, headers: headers, committed: committed) else {
            throw SyncError(.unauthenticated, "The request's signature does not verify under the key trusted for '\(site)' (it covers the method, path, time, nonce, Content-Length, \(contentHashHeader), destination and partnership).")
        }
        guard Array(claimedPartnership.utf8) == Array(partnership.utf8) else {
            throw SyncError(.unauthenticated, "The request is addressed to partnership '\(claimedPartnership.prefix(64))', and this server serves '\(partnership)'; it was not meant for this server.")
        }
        let forAny = Array(destination.utf8) == Array(anyDestination.utf8) && method == "GET" && path == "/v1/vector"
        guard forAny || Array(destination.utf8) == Array(server.rawValue.utf8) else {
            throw SyncError(.unauthenticated, "The request is addressed to site '\(destination.prefix(64))', and this server is '\(server)'; it was not meant for this server.")
        }
        return Admitted(site: site, nonce: nonce, length: announcedLength, contentHash: hash, seconds: instant.seconds)
    }

    /// Whether `signature` signs `message` for `site`: under `key`, its key in force here, or
    /// else under the key the `Accord-Key` header names, when that key's SHA-256 is the site's
    /// committed next key in `committed` (Trust.md "Transport": the site rotated, and this
    /// journal has not yet received the rotation).
    static func verifies(_ signature: [UInt8], message: [UInt8], key: SitePublicKey, site: SiteID, headers: [String: String], committed: [SiteID: String]) -> Bool {
        if key.verifies(signature, message: message) { return true }
        guard let digest = committed[site], let text = header(headers, keyHeader), text.utf8.count == 44,
              let presented = try? SitePublicKey(base64: text), KeyHistory.digest(of: presented) == digest else { return false }
        return presented.verifies(signature, message: message)
    }

    /// Checks a whole body against what its request's headers signed.
    /// - Throws: ``SyncError`` ``SyncError/Code/unauthenticated`` when its length or SHA-256 differs.
    public static func checkBody(_ body: [UInt8], against admitted: Admitted) throws {
        guard body.count == admitted.length, Digest.sha256Hex(body) == admitted.contentHash else {
            throw bodyMismatch
        }
    }

    /// The refusal of a body whose length or SHA-256 is not the one its headers signed.
    public static let bodyMismatch = SyncError(.unauthenticated, "The request body is not the one its headers signed (its length or SHA-256 differs from Content-Length and \(contentHashHeader)); nothing was written.")

    /// The headers a server adds to a response: its site, the body's SHA-256 and its signature
    /// (none when its signing key cannot be read). A request signed under version 1 gets its
    /// refusal signed the version-1 way, so that an old client can read why it was refused.
    /// - Parameters:
    ///   - requestHeaders: the request's headers (its nonce, or for version 1 its time).
    ///   - method: the request's method and path.
    public static func responseHeaders(for journal: EventJournal, status: Int, method: String, path: String, requestHeaders: [String: String], body: [UInt8]) -> [String: String] {
        let hash = Digest.sha256Hex(body)
        if isVersion1(requestHeaders) {
            let text = Array("accord-response-v1\n\(status)\n\(path)\n\(header(requestHeaders, timeHeader) ?? "")\n\(hash)".utf8)
            guard let signature = try? journal.signingKey().sign(text) else { return [:] }
            return [siteHeader: journal.site.rawValue, signatureHeader: Base64.encode(signature)]
        }
        let nonce = header(requestHeaders, nonceHeader) ?? ""
        let text = responseText(status: status, method: method, path: path, nonce: nonce, site: journal.site.rawValue, length: body.count, contentHash: hash)
        guard let key = try? journal.signingKey(), let signature = try? key.sign(text) else { return [:] }
        return [siteHeader: journal.site.rawValue, contentHashHeader: hash, signatureHeader: Base64.encode(signature), keyHeader: key.publicKey.base64]
    }

    /// Checks a response's head, before any of its body is read (SyncProtocol.md §4.3.1).
    /// - Parameters:
    ///   - headers: the response's headers (names compared without regard to case).
    ///   - length: its `Content-Length`.
    ///   - method: the request's method, path and nonce.
    /// - Returns: the answering site and the SHA-256 the body must have.
    /// - Throws: ``SyncError`` ``SyncError/Code/untrustedServer`` when the server is not a
    ///   trusted site or its signature does not verify.
    public static func verifyResponseHead(headers: [String: String], status: Int, length: Int, method: String, path: String, nonce: String, trusted: [SiteID: SitePublicKey], committed: [SiteID: String] = [:]) throws -> (site: SiteID, contentHash: String) {
        guard let siteText = header(headers, siteHeader), let site = try? SiteID(siteText), let key = trusted[site] else {
            throw SyncError(.untrustedServer, "The server did not identify itself as a site this journal trusts; nothing was sent to it.")
        }
        guard let hash = header(headers, contentHashHeader), isLowerHex(hash, count: 64),
              let signatureText = header(headers, signatureHeader), let signature = Base64.decode(signatureText),
              verifies(signature, message: responseText(status: status, method: method, path: path, nonce: nonce, site: site.rawValue, length: length, contentHash: hash),
                       key: key, site: site, headers: headers, committed: committed) else {
            throw SyncError(.untrustedServer, "The server's answer is not signed by the key trusted for '\(site)' for this request (SyncProtocol.md §4.3.1).")
        }
        return (site, hash)
    }
}

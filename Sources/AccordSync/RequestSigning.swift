import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Signed requests between sites (SyncProtocol.md §4.3.1). A request carries three headers:
/// `Accord-Site` (the sending site), `Accord-Time` (now, RFC 3339 UTC) and `Accord-Signature`
/// (base64 Ed25519 signature, by the site's key, of the ASCII text
/// `accord-request-v1\n<METHOD>\n<path>\n<Accord-Time>\n<SHA-256 hex of the body>`).
/// The receiver accepts it only from a trusted site, under that site's key, within
/// ``window`` seconds of its own clock.
public enum RequestSigning {
    /// The header naming the sending (or answering) site.
    public static let siteHeader = "Accord-Site"
    /// The header holding the request's time, RFC 3339 UTC, whole seconds.
    public static let timeHeader = "Accord-Time"
    /// The header holding the base64 Ed25519 signature.
    public static let signatureHeader = "Accord-Signature"
    /// How far a request's time may be from the receiver's clock, in seconds.
    public static let window: Int64 = 300

    static func message(method: String, path: String, time: String, body: [UInt8]) -> [UInt8] {
        Array("accord-request-v1\n\(method)\n\(path)\n\(time)\n\(Digest.sha256Hex(body))".utf8)
    }

    /// The three headers for a request from `journal`'s site.
    /// - Parameters:
    ///   - method: the HTTP method, `GET` or `POST`.
    ///   - path: the request's path, e.g. `/v1/push`.
    ///   - body: the request's body (empty for `GET`).
    ///   - now: the time to sign; its fraction of a second is dropped.
    /// - Returns: the headers by name.
    /// - Throws: ``AccordError`` when the site's signing key cannot be read.
    public static func headers(for journal: EventJournal, method: String, path: String, body: [UInt8], now: Timestamp = .now()) throws -> [String: String] {
        let time = Timestamp(seconds: now.seconds, nanoseconds: 0).text
        let signature = try journal.signingKey().sign(message(method: method, path: path, time: time, body: body))
        return [siteHeader: journal.site.rawValue, timeHeader: time, signatureHeader: Base64.encode(signature)]
    }

    /// The text a server signs for its response (SyncProtocol.md §4.3.1): it binds the status,
    /// the path, the request's own time and the body, so that an old answer cannot be replayed.
    static func responseMessage(status: Int, path: String, requestTime: String, body: [UInt8]) -> [UInt8] {
        Array("accord-response-v1\n\(status)\n\(path)\n\(requestTime)\n\(Digest.sha256Hex(body))".utf8)
    }

    /// The headers a server adds to a response: its site and its signature (none when its
    /// signing key cannot be read).
    /// - Parameter requestTime: the request's `Accord-Time` header, as sent.
    public static func responseHeaders(for journal: EventJournal, status: Int, path: String, requestTime: String, body: [UInt8]) -> [String: String] {
        guard let signature = try? journal.signingKey().sign(responseMessage(status: status, path: path, requestTime: requestTime, body: body)) else { return [:] }
        return [siteHeader: journal.site.rawValue, signatureHeader: Base64.encode(signature)]
    }

    /// Checks a response's signature; returns the answering site.
    /// - Parameter requestTime: the `Accord-Time` the request was sent with.
    /// - Throws: ``SyncError`` ``SyncError/Code/untrustedServer`` when the server is not a
    ///   trusted site or its signature does not verify.
    public static func verifyResponse(headers: [String: String], status: Int, path: String, requestTime: String, body: [UInt8], trusted: [SiteID: SitePublicKey]) throws -> SiteID {
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
        guard let siteText = header(siteHeader), let site = try? SiteID(siteText), let key = trusted[site] else {
            throw SyncError(.untrustedServer, "The server did not identify itself as a site this journal trusts; nothing was sent to it.")
        }
        guard let signatureText = header(signatureHeader), let signature = Base64.decode(signatureText),
              key.verifies(signature, message: responseMessage(status: status, path: path, requestTime: requestTime, body: body)) else {
            throw SyncError(.untrustedServer, "The server's answer is not signed by the key trusted for '\(site)'.")
        }
        return site
    }

    /// Checks everything in a request's headers that does not need its body: the three headers
    /// are there, the site is a trusted slug, the time is within ``window``. A server runs this
    /// before it reads the body, so that an unsigned, stale or untrusted request never makes it
    /// buffer one (SyncProtocol.md §4.3.2).
    /// - Returns: the sending site and its trusted key.
    /// - Throws: ``SyncError`` ``SyncError/Code/unauthenticated`` (missing or malformed headers,
    ///   stale time), ``SyncError/Code/untrusted`` (untrusted site).
    public static func checkHeaders(_ headers: [String: String], trusted: [SiteID: SitePublicKey], now: Timestamp = .now()) throws -> (site: SiteID, key: SitePublicKey) {
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
        guard let siteText = header(siteHeader), let time = header(timeHeader), header(signatureHeader) != nil else {
            throw SyncError(.unauthenticated, "The request is not signed: it needs \(siteHeader), \(timeHeader) and \(signatureHeader) headers.")
        }
        guard let site = try? SiteID(siteText) else { throw SyncError(.unauthenticated, "The \(siteHeader) header is not a site name.") }
        guard let instant = try? Timestamp(rfc3339: time), abs(instant.seconds - now.seconds) <= window else {
            throw SyncError(.unauthenticated, "The request's time is missing or more than \(window) s from this server's clock; check both clocks.")
        }
        guard let key = trusted[site] else {
            throw SyncError(.untrusted, "Site '\(site)' is not trusted by this server; add it with 'accord peer add'.")
        }
        return (site, key)
    }

    /// Checks a request's headers; returns the sending site.
    /// - Throws: ``SyncError`` ``SyncError/Code/unauthenticated`` (missing, malformed, stale or
    ///   bad signature), ``SyncError/Code/untrusted`` (untrusted site).
    public static func verify(headers: [String: String], method: String, path: String, body: [UInt8], trusted: [SiteID: SitePublicKey], now: Timestamp = .now()) throws -> SiteID {
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
        let (site, key) = try checkHeaders(headers, trusted: trusted, now: now)
        let time = header(timeHeader) ?? "", signatureText = header(signatureHeader) ?? ""
        guard let signature = Base64.decode(signatureText), key.verifies(signature, message: message(method: method, path: path, time: time, body: body)) else {
            throw SyncError(.unauthenticated, "The request's signature does not verify under the key trusted for '\(site)'.")
        }
        return site
    }
}

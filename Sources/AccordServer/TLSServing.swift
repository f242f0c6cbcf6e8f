import AccordModel
import AccordStore
import AccordSync
import AccordTLS
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `accord serve --tls` (SyncProtocol.md §4.4): the TLS server and the check that binds each
/// request to the TLS peer.
///
/// The TLS handshake already refused any client whose certificate does not carry a trusted
/// site's key (``SiteTLS/verifyClient(_:trusted:)``). This middleware then refuses (403, and
/// the connection is closed) a request whose `Accord-Site` names a site other than the one
/// whose key the connection authenticated: a trusted site cannot speak for another over its
/// own TLS connection. Requests without the header go on, to be refused as unsigned.
struct TLSSiteMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: SyncService
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let named = request.headers[HTTPField.Name(RequestSigning.siteHeader)!] else {
            return try await next(request, context)
        }
        if let channel = (context as? SyncRequestContext)?.channel,
            let certificate = await SiteTLS.peerCertificate(of: channel),
            let site = try? SiteID(named),
            let keys = try? service.journal.transportKeys(),
            keys.current[site].map({ SiteTLS.certificate(certificate, carries: $0) }) == true
                || SiteTLS.certificate(certificate, carriesKeyWithDigestIn: Set([keys.committed[site]].compactMap { $0 }))
        {
            return try await next(request, context)
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.rawName] = field.value }
        let refusal = service.refusal(
            .untrusted,
            "The request names a site whose key is not the one this TLS connection authenticated with; a site signs its own requests over its own connection.",
            method: request.method.rawValue, path: request.uri.path, headers: headers)
        logger.info("\(refusal.logLine) tls-site-mismatch")
        return SyncServer.response(refusal, close: true)
    }
}

extension TLSSiteMiddleware where Context == SyncRequestContext {
    /// HTTP/1 over mutual TLS with the journal's own certificate, accepting clients whose
    /// certificate carries the key in force for a trusted site (``EventJournal/currentKeys()``,
    /// Trust.md "Transport"; read again for each handshake).
    /// - Throws: ``AccordError`` when the site's key cannot be read or its certificate made.
    /// - Parameter idleTimeout: the HTTP/1 idle timeout (§4.3.3).
    static func server(http1: HTTP1Channel.Configuration, journal: EventJournal) throws -> HTTPServerBuilder {
        let configuration = try SiteTLS.serverConfiguration(key: try journal.signingKey(), site: journal.site, partnership: journal.partnership)
        return try .tls(.http1(configuration: http1), configuration: TLSChannelConfiguration(
            tlsConfiguration: configuration,
            customVerificationCallback: SiteTLS.clientVerifier(trusted: { try journal.currentKeys() }, committed: { try journal.transportKeys().committed })))
    }
}

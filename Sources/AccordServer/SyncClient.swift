import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTLS
import AsyncHTTPClient
import NIOCore

/// The client side of HTTP sync: ``HTTPSync``'s requests carried by AsyncHTTPClient
/// (SyncProtocol.md §4.3). It lives here, beside the server, so that AccordSync (signing,
/// checks, merge) stays free of NIO.
///
/// The client follows no redirect (`redirectConfiguration: .disallow`), decodes nothing
/// (`decompression: .disabled`; an answer with `Content-Encoding` is refused from its head), and
/// reads an answer's body only after its signed head was checked, chunk by chunk, never past the
/// signed `Content-Length` nor ``HTTPSync/maxResponseBytes``.
public struct SyncClient: HTTPSyncTransport {
    let client: HTTPClient

    /// Syncs `journal` with the server at `url`, both ways, over a client made for this one
    /// sync and shut down after it.
    /// - Parameters:
    ///   - timeout: how long each request may take, in seconds.
    ///   - maxResponseBytes: the largest answer body read.
    ///   - options: the local writer's options (how long to wait for another writer's lock).
    /// - Returns: what the pull and the push did.
    /// - Throws: what ``HTTPSync/sync(_:with:transport:timeout:maxResponseBytes:)`` throws.
    public static func sync(_ journal: EventJournal, with url: PeerURL, timeout: Double = HTTPSync.timeout, maxResponseBytes: Int = HTTPSync.maxResponseBytes, options: SegmentWriter.Options = SegmentWriter.Options()) async throws -> DirectorySync.Result {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        if url.isTLS {
            // Mutual TLS pinned to the site keys (SyncProtocol.md §4.4): this site's certificate
            // for its own key, and the server's checked against the key trusted for the peer
            // recorded at this URL (else any peer this journal trusts), before a request is written.
            configuration.httpVersion = .http1Only
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.tlsConfiguration = try SiteTLS.clientConfiguration(key: try journal.signingKey(), site: journal.site, partnership: journal.partnership)
            let acceptable = try serverKeys(for: url, in: journal)
            let committed = try serverCommittedDigests(for: url, in: journal)
            configuration.http1_1ConnectionDebugInitializer = { channel in SiteTLS.checkServer(on: channel, acceptable: acceptable, committed: committed) }
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await HTTPSync.sync(journal, with: url, transport: SyncClient(client: client), timeout: timeout, maxResponseBytes: maxResponseBytes, options: options)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The keys a TLS server at `url` may present: the key of the peer whose record names this
    /// URL, else every trusted key but this site's own; for each, the key in force after the key
    /// events this journal holds (Trust.md "Transport").
    static func serverKeys(for url: PeerURL, in journal: EventJournal) throws -> [SitePublicKey] {
        let peers = try PeerStore(journal: journal).all()
        let named = peers.filter { peer in peer.record?.url.flatMap { try? PeerURL($0).text } == url.text }
        let chosen = named.isEmpty ? peers.filter { $0.site != journal.site } : named
        // The key in force for each, after the key events held here (Trust.md "Transport").
        let current = try journal.currentKeys()
        return chosen.map { current[$0.site] ?? $0.key }
    }

    /// The digests of the committed next keys of the peers ``serverKeys(for:in:)`` chooses
    /// (Trust.md "Transport").
    static func serverCommittedDigests(for url: PeerURL, in journal: EventJournal) throws -> Set<String> {
        let peers = try PeerStore(journal: journal).all()
        let named = peers.filter { peer in peer.record?.url.flatMap { try? PeerURL($0).text } == url.text }
        let chosen = named.isEmpty ? peers.filter { $0.site != journal.site } : named
        let committed = try journal.transportKeys().committed
        return Set(chosen.compactMap { committed[$0.site] })
    }

    /// Sends one request and streams its answer into `answer` (``HTTPSyncTransport``).
    public func send(_ request: HTTPSync.Outgoing, into answer: HTTPSync.Answer) async throws {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .init(rawValue: request.method)
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { outgoing.headers.add(name: name, value: value) }
        if request.method == "POST" { outgoing.body = .bytes(request.body) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .milliseconds(Int64(request.timeout * 1000)))
        } catch let error as AccordError where error.code == .untrusted {
            throw SyncError(.untrustedServer, "\(request.url): \(error.message)")
        } catch {
            throw SyncError(.noAnswer, "No answer from \(request.url): \(Self.describe(error)). Check the address and that 'accord serve' runs there.")
        }
        var headers: [String: String] = [:]
        for (name, value) in response.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { $0 + "," + value } ?? value
        }
        // The head is checked before a byte of the body is read; a refusal drops the response,
        // which closes the connection.
        try answer.head(status: Int(response.status.code), headers: headers)
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { try answer.append($0) }
            }
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(.noAnswer, "The answer from \(request.url) was cut short: \(Self.describe(error)).")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: error).prefix(200).description
    }
}

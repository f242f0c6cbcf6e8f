import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// The server side of HTTP sync (SyncProtocol.md §4.3), independent of any HTTP library: a
/// request in, a response out. `AccordServer` adapts it to Hummingbird; tests call it directly.
///
/// Endpoints (all requests signed, version 2, ``RequestSigning``; a request is admitted from its
/// headers by ``admit(method:path:headers:announcedLength:chunked:)`` before its body is read):
/// - `GET /v1/vector` → 200 `{"partnership":…,"site":…,"vector":{…}}`
/// - `POST /v1/pull` body `{"vector":{…}}` → 200 a bundle of what the caller lacks
/// - `POST /v1/push` body a bundle → 200 `{"appended":N,"alreadyKnown":N,"pending":N,"received":N}`
///
/// Refusals: 400 malformed (or another partnership, or a chunked body), 401 unsigned, version 1,
/// bad signature, another destination, a replayed nonce or a body other than the signed one, 403
/// untrusted site (or events of an untrusted site), 404 unknown path, 405 wrong method, 409 a
/// fork, 413 body over the limit, 500 a failed write (nothing partial is left: the journal
/// writes whole batches), 503 a held writer lock (or, at the HTTP edge, a full budget; or a
/// full nonce cache). Each refusal has a ``SyncError/Code``, whose
/// ``SyncError/Code/httpStatus`` is its status. Error bodies are `{"error":…}` and never echo
/// the request.
public final class SyncService: Sendable {
    /// A request as the HTTP layer saw it.
    public struct Request: Sendable {
        /// `GET` or `POST`.
        public var method: String
        /// The path, without a query (`/v1/push`).
        public var path: String
        /// The headers by name, as received (names compared case-insensitively).
        public var headers: [String: String]
        /// The whole body.
        public var body: [UInt8]
        /// A request with these parts.
        public init(method: String, path: String, headers: [String: String], body: [UInt8]) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
        }
    }

    /// The answer to send.
    public struct Response: Sendable {
        /// The HTTP status (from ``SyncError/Code/httpStatus`` for a refusal).
        public var status: Int
        /// The `Content-Type` of ``body``.
        public var contentType: String
        /// The body: JSON, or a bundle.
        public var body: [UInt8]
        /// One line for the log: no payload.
        public var logLine: String
        /// The server's site and signature (``RequestSigning/responseHeaders``).
        public var headers: [String: String] = [:]
    }

    /// The journal served.
    public let journal: EventJournal
    /// The largest request body accepted, in bytes.
    public let maxBody: Int
    /// The options of the writer each push opens (its lock timeout above all).
    public let writerOptions: SegmentWriter.Options
    private let queue = DispatchQueue(label: "accord.sync.journal")

    /// A service for `journal`; requests are handled one at a time, on its own queue.
    /// - Parameters:
    ///   - maxBody: the largest request body accepted, in bytes.
    ///   - writerOptions: the writer's options for pushes: how long to wait for the lock.
    public init(journal: EventJournal, maxBody: Int = 64 << 20, writerOptions: SegmentWriter.Options = SegmentWriter.Options()) {
        self.journal = journal
        self.maxBody = maxBody
        self.writerOptions = writerOptions
    }

    /// Signed requests seen within the time window, so that a replay is refused.
    private let nonces = NonceCache()

    /// What ``admit(method:path:headers:announcedLength:chunked:)`` decided from a request's
    /// headers.
    public enum Admission: Sendable {
        /// The request is refused; send this answer (already signed) and do not read the body.
        case refused(Response)
        /// The headers' signature verified and the nonce is new: read exactly `length` bytes of
        /// body, check them against the signed SHA-256, then call ``handle(_:admitted:)``.
        case admitted(RequestSigning.Admitted)
    }

    /// Handles one whole request: ``admit(method:path:headers:announcedLength:chunked:)`` with
    /// the body's length, then ``handle(_:admitted:)``. Never throws: every failure becomes a
    /// response.
    public func handle(_ request: Request) -> Response {
        switch admit(method: request.method, path: request.path, headers: request.headers, announcedLength: request.body.count) {
        case .refused(let refusal): return refusal
        case .admitted(let admitted): return handle(request, admitted: admitted)
        }
    }

    /// Handles a request whose headers were admitted: checks that its body is the signed one
    /// (length and SHA-256), then does the endpoint's work, one request at a time.
    /// - Parameter admitted: what ``admit(method:path:headers:announcedLength:chunked:)``
    ///   returned for this request's headers.
    public func handle(_ request: Request, admitted: RequestSigning.Admitted) -> Response {
        do {
            try RequestSigning.checkBody(request.body, against: admitted)
        } catch let refusal as SyncError {
            return sign(Self.refusal(refusal.code, refusal.message, request, site: admitted.site.rawValue), for: request)
        } catch {
            return sign(Self.refusal(.serverFailure, "The server failed.", request), for: request)
        }
        return sign(queue.sync { respond(to: request, site: admitted.site) }, for: request)
    }

    /// Decides from the method, path and headers alone — before any byte of the body is read
    /// and before any memory is reserved for it — whether the request is refused, in this order
    /// (SyncProtocol.md §4.3.2): an unknown path (404), another method (405), a chunked body
    /// (400), an announced `Content-Length` over ``maxBody`` (413), then the signature of the
    /// headers (``RequestSigning/verifyHeaders``: 401, 403), then the nonce: one seen within the
    /// window is a replay (401); a full nonce cache is 503. A request it admits has its nonce
    /// recorded.
    /// - Parameters:
    ///   - announcedLength: the request's `Content-Length`, if it has one (none counts as 0).
    ///   - chunked: true when the body is sent with chunked transfer coding (refused: the
    ///     signed length must be announced).
    /// - Returns: the signed refusal, or what the body must be.
    public func admit(method: String, path: String, headers: [String: String], announcedLength: Int?, chunked: Bool = false) -> Admission {
        let request = Request(method: method, path: path, headers: headers, body: [])
        if let refusal = routeRefusal(request, bodyLength: announcedLength ?? 0) { return .refused(sign(refusal, for: request)) }
        if chunked {
            return .refused(sign(Self.refusal(.badRequest, "A request body must be sent with Content-Length, which its signature covers (SyncProtocol.md §4.3.1); chunked bodies are refused.", request), for: request))
        }
        do {
            let keys = try journal.transportKeys()
            let admitted = try RequestSigning.verifyHeaders(headers, method: method, path: path, announcedLength: announcedLength ?? 0, trusted: keys.current, committed: keys.committed, server: journal.site, partnership: journal.partnership)
            switch nonces.insert(site: admitted.site, nonce: admitted.nonce, seconds: admitted.seconds, now: Timestamp.now().seconds) {
            case .inserted:
                return .admitted(admitted)
            case .seen:
                return .refused(sign(Self.refusal(.unauthenticated, "This request was already received (its \(RequestSigning.nonceHeader) was seen within the last \(2 * RequestSigning.window) s): a replayed request is refused.", request, site: admitted.site.rawValue), for: request))
            case .full:
                return .refused(sign(Self.refusal(.busy, "This server has received too many signed requests from '\(admitted.site)' within \(2 * RequestSigning.window) s to remember them all; try again shortly.", request, site: admitted.site.rawValue), for: request))
            }
        } catch let refusal as SyncError {
            return .refused(sign(Self.refusal(refusal.code, refusal.message, request), for: request))
        } catch {
            return .refused(sign(Self.refusal(.serverFailure, "The server could not read its trusted keys.", request), for: request))
        }
    }

    /// A refusal that the HTTP edge makes itself (``SyncError/Code/tooSlow`` a body too slow,
    /// ``SyncError/Code/busy`` too many bodies in flight, ``SyncError/Code/tooLarge``), signed
    /// like every answer, with the code's status (``SyncError/Code/httpStatus``).
    /// - Parameters:
    ///   - message: the `error` of the answer's body: one sentence, no payload.
    ///   - method: the request's method, path and headers (for the log line and the signature).
    public func refusal(_ code: SyncError.Code, _ message: String, method: String, path: String, headers: [String: String]) -> Response {
        let request = Request(method: method, path: path, headers: headers, body: [])
        return sign(Self.refusal(code, message, request), for: request)
    }

    private func sign(_ response: Response, for request: Request) -> Response {
        var response = response
        response.headers = RequestSigning.responseHeaders(for: journal, status: response.status, method: request.method, path: request.path, requestHeaders: request.headers, body: response.body)
        return response
    }

    /// The answer for a refusal with `code`: its status from ``SyncError/Code/httpStatus`` (a code
    /// only a client sees is answered as ``SyncError/Code/serverFailure``).
    private static func refusal(_ code: SyncError.Code, _ message: String, _ request: Request, site: String = "-") -> Response {
        let status = code.httpStatus ?? SyncError.Code.serverFailure.httpStatus ?? 500
        let body = (try? CanonicalJSON.encode(.object(JSONObject([("error", .string(message))])))) ?? []
        return Response(status: status, contentType: "application/json", body: body + [0x0a], logLine: "\(request.method) \(request.path) \(status) site=\(site)")
    }

    /// Path, method and size, in that order (SyncProtocol.md §4.3.2).
    private func routeRefusal(_ request: Request, bodyLength: Int) -> Response? {
        let routes = ["/v1/vector": "GET", "/v1/pull": "POST", "/v1/push": "POST", "/v1/forks": "POST"]
        guard let method = routes[request.path] else { return Self.refusal(.noSuchEndpoint, "No such endpoint; the endpoints are /v1/vector, /v1/pull, /v1/push and /v1/forks.", request) }
        guard method == request.method else { return Self.refusal(.wrongMethod, "\(request.path) takes \(method).", request) }
        guard bodyLength <= maxBody else { return Self.refusal(.tooLarge, "The body is larger than this server's limit of \(maxBody) bytes; send smaller bundles.", request) }
        return nil
    }

    private func respond(to request: Request, site: SiteID) -> Response {
        func refuse(_ code: SyncError.Code, _ message: String, site: String = "-") -> Response {
            Self.refusal(code, message, request, site: site)
        }
        do {
            switch request.path {
            case "/v1/vector":
                let vector = try journal.versionVector()
                let body = try CanonicalJSON.encode(.object(JSONObject([
                    ("partnership", .string(journal.partnership)), ("site", .string(journal.site.rawValue)), ("vector", vector.json()),
                ])))
                return Response(status: 200, contentType: "application/json", body: body + [0x0a], logLine: "GET /v1/vector 200 site=\(site)")
            case "/v1/pull":
                guard case .object(let object)? = try? JSONParser.parse(request.body), let vectorValue = object["vector"] else {
                    return refuse(.badRequest, "The pull body must be a JSON object {\"vector\": {…}}.", site: site.rawValue)
                }
                let vector = try VersionVector(json: vectorValue)
                let bundle = try Bundle.make(from: journal, beyond: vector)
                try PeerStore(journal: journal).noteExchange(with: site.rawValue, have: vector)
                return Response(status: 200, contentType: "application/vnd.accord.bundle", body: try bundle.encoded(), logLine: "POST /v1/pull 200 site=\(site) events=\(bundle.records.count)")
            case "/v1/forks":
                // Proofs of forks the client found in what it pulled (SyncProtocol.md §6): each is
                // checked under this journal's keys before it is kept; one that does not check is
                // dropped.
                let proofs = try ForkProof.fromWire(request.body, keys: journal.trustedKeys())
                let kept = try ForkQuarantine.share(proofs, with: journal)
                let body = try CanonicalJSON.encode(.object(JSONObject([("kept", .number(String(kept)))])))
                return Response(status: 200, contentType: "application/json", body: body + [0x0a], logLine: "POST /v1/forks 200 site=\(site) kept=\(kept)")
            default:
                let bundle: Bundle
                do {
                    bundle = try Bundle.parse(bytes: request.body, limit: maxBody, checkingAgainst: journal)
                } catch {
                    return refuse(.badRequest, "The push body is not a valid bundle: \(error)", site: site.rawValue)
                }
                guard bundle.source == site.rawValue else {
                    return refuse(.badRequest, "The bundle says it comes from '\(bundle.source)', but the request is signed by '\(site)'.", site: site.rawValue)
                }
                let events = try bundle.decodedEvents()
                _ = try bundle.verify(against: journal, events: events, gate: false)  // the session runs the gate
                let session = try SyncSession(journal: journal, options: writerOptions)
                defer { session.close() }
                let summary = try session.apply(bundle.records, events: events)
                if !summary.forks.isEmpty {
                    // The proofs travel back in the refusal, so that the pushing office keeps
                    // them too (SyncProtocol.md §6).
                    var refusal = refuse(.fork, summary.forks.joined(separator: "; "), site: site.rawValue)
                    refusal.body = (try CanonicalJSON.encode(.object(JSONObject([
                        ("error", .string(summary.forks.joined(separator: "; "))), ("proofs", ForkProof.wireValue(summary.proofs)),
                    ])))) + [0x0a]
                    return refusal
                }
                let body = try CanonicalJSON.encode(.object(JSONObject([
                    ("appended", .number(String(summary.appended))), ("alreadyKnown", .number(String(summary.alreadyKnown))),
                    ("pending", .number(String(summary.pending))), ("received", .number(String(summary.received))),
                ])))
                return Response(status: 200, contentType: "application/json", body: body + [0x0a], logLine: "POST /v1/push 200 site=\(site) appended=\(summary.appended)")
            }
        } catch let error as SyncError {
            return refuse(error.code, error.message, site: site.rawValue)
        } catch let error as AccordError {
            return refuse(SyncError.Code(refusing: error), error.message, site: site.rawValue)
        } catch let error as SegmentError {
            return refuse(SyncError.Code(refusing: error), error.message, site: site.rawValue)
        } catch {
            return refuse(.serverFailure, "The server failed: \(error)", site: site.rawValue)
        }
    }
}

import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import Dispatch
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// `accord serve`: the HTTP edge over ``SyncService`` (SyncProtocol.md §4.3), on Hummingbird,
/// with graceful shutdown on SIGINT and SIGTERM (swift-service-lifecycle, through
/// Hummingbird's `runService`). Logs name the method, path, status and site; never payloads.
public enum SyncServer {
    /// What one client may hold of the server, so that slow, idle or many clients cannot hold
    /// its connections or memory (SyncProtocol.md §4.3.3).
    public struct Limits: Sendable {
        /// The largest request body accepted, in bytes (larger ones get 413).
        public var maxBody: Int
        /// A connection on which nothing arrives for this long — between requests, or while a
        /// request's headers trickle in — is closed, in seconds.
        public var idleTimeout: Double = 30
        /// A request's body must have arrived this long after its headers (else 408 and the
        /// connection is closed), in seconds.
        public var requestTimeout: Double = 60
        /// Request bodies being received or waiting for the journal, in bytes, across all
        /// connections; a request that would exceed it gets 503 at once.
        public var maxBufferedBytes: Int
        /// Request bodies of one authenticated site being received or waiting, in bytes; a
        /// request of that site that would exceed it gets 503 at once. Reserved only once the
        /// request's headers are verified (SyncProtocol.md §4.3.3).
        public var maxBufferedBytesPerSite: Int
        /// Open connections at once; a connection beyond it is closed as soon as it is accepted.
        public var maxConnections: Int = defaultMaxConnections

        /// The default of ``maxConnections``: well under the usual limit of 1024 open files.
        public static let defaultMaxConnections = 512

        /// Limits with the default timeouts.
        /// - Parameters:
        ///   - maxBufferedBytes: by default 4 × `maxBody`, at least 256 MiB.
        ///   - maxBufferedBytesPerSite: by default 2 × `maxBody`, at most `maxBufferedBytes`.
        public init(maxBody: Int, maxBufferedBytes: Int? = nil, maxBufferedBytesPerSite: Int? = nil) {
            self.maxBody = maxBody
            self.maxBufferedBytes = maxBufferedBytes ?? max(4 * maxBody, 256 << 20)
            self.maxBufferedBytesPerSite = min(maxBufferedBytesPerSite ?? 2 * maxBody, self.maxBufferedBytes)
        }
    }

    /// Serves `journal` on `host:port` until SIGINT or SIGTERM.
    /// - Parameters:
    ///   - port: 0 for any free port; `onListening` is told the port bound.
    ///   - limits: body size, timeouts and the memory bound for bodies.
    ///   - tls: serve mutual TLS pinned to the site keys instead of plain HTTP
    ///     (SyncProtocol.md §4.4, ``TLSSiteMiddleware``).
    ///   - writerOptions: the options of the writer each push opens (how long it waits for
    ///     another writer's lock).
    /// - Throws: Hummingbird's error when it cannot listen on `host:port`; with `tls`,
    ///   ``AccordError`` when the site's key cannot be read.
    public static func run(journal: EventJournal, host: String, port: Int, limits: Limits, tls: Bool = false, writerOptions: SegmentWriter.Options = SegmentWriter.Options(),
                           onListening: @escaping @Sendable (Int) -> Void) async throws {
        let service = SyncService(journal: journal, maxBody: limits.maxBody, writerOptions: writerOptions)
        let budget = BodyBudget(limit: limits.maxBufferedBytes, perSite: limits.maxBufferedBytesPerSite)
        let connections = ConnectionCount()
        let maxConnections = limits.maxConnections
        var configuredLogger = Logger(label: "accord.serve")
        configuredLogger.logLevel = .info
        let logger = configuredLogger
        let router = Router(context: SyncRequestContext.self)
        // Before the routes: a route gets the middleware added before it.
        if tls { router.addMiddleware { TLSSiteMiddleware(service: service, logger: logger) } }
        for (method, path) in [(HTTPRequest.Method.get, "/v1/vector"), (.post, "/v1/pull"), (.post, "/v1/push"), (.post, "/v1/forks")] {
            router.on(RouterPath(path), method: method) { request, context in
                try await respond(service: service, request: request, channel: context.channel, limits: limits, budget: budget, logger: logger)
            }
        }
        // Everything else still gets a clear refusal from the service (404, 405).
        router.addMiddleware { FallbackMiddleware(service: service, limits: limits, budget: budget, logger: logger) }
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionCap(count: connections, limit: maxConnections)],
            idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)))
        let app = Application(
            router: router,
            server: try tls
                ? TLSSiteMiddleware<SyncRequestContext>.server(http1: http1, journal: journal)
                : .http1(configuration: http1),
            configuration: .init(address: .hostname(host, port: port), serverName: "accord"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    static func respond(service: SyncService, request: Request, channel: any Channel, limits: Limits, budget: BodyBudget, logger: Logger) async throws -> Response {
        var collected: [String: String] = [:]
        for field in request.headers { collected[field.name.rawName] = field.value }
        let headers = collected
        let method = request.method.rawValue, path = request.uri.path
        let announced = request.headers[.contentLength].flatMap { Int($0) }
        // HTTP/1.1: a request without Content-Length or chunked transfer has no body.
        let chunked = request.headers[.transferEncoding]?.lowercased().contains("chunked") ?? false
        let hasBody = announced.map { $0 > 0 } ?? chunked
        // Refuse what the headers already condemn — including a signature that does not
        // verify, a replayed nonce, another destination — before reserving memory for the body or
        // reading a byte of it; the body is not read at all then, so the connection is closed
        // after the answer.
        let admitted: RequestSigning.Admitted
        switch service.admit(method: method, path: path, headers: headers, announcedLength: announced, chunked: chunked && announced == nil) {
        case .refused(let early):
            logger.info("\(early.logLine)")
            return refuseAndClose(early, hasBody: hasBody, channel: channel)
        case .admitted(let verified):
            admitted = verified
        }
        let reserved = admitted.length
        guard budget.reserve(reserved, for: admitted.site) else {
            let busy = service.refusal(.busy, "The server is receiving too many request bodies at once (from this site or in all); try again shortly.", method: method, path: path, headers: headers)
            logger.info("\(busy.logLine)")
            return refuseAndClose(busy, hasBody: hasBody, channel: channel)
        }
        defer { budget.release(reserved, for: admitted.site) }
        let body: [UInt8]
        switch await collect(request.body, length: admitted.length, contentHash: admitted.contentHash, within: limits.requestTimeout, channel: channel) {
        case .body(let bytes):
            body = bytes
        case .mismatch:
            let mismatch = service.refusal(RequestSigning.bodyMismatch.code, RequestSigning.bodyMismatch.message, method: method, path: path, headers: headers)
            logger.info("\(mismatch.logLine)")
            return refuseAndClose(mismatch, hasBody: true, channel: channel)
        case .tooSlow:
            let slow = service.refusal(.tooSlow, "The request body did not arrive within \(Int(limits.requestTimeout)) s of its headers.", method: method, path: path, headers: headers)
            logger.info("\(slow.logLine)")
            return response(slow, close: true)
        }
        let answer = await withCheckedContinuation { continuation in
            DispatchQueueHolder.queue.async {
                continuation.resume(returning: service.handle(.init(method: method, path: path, headers: headers, body: body), admitted: admitted))
            }
        }
        logger.info("\(answer.logLine)")
        return response(answer)
    }

    enum Collected {
        case body([UInt8])
        /// More or fewer bytes than signed, or another SHA-256.
        case mismatch
        case tooSlow
    }

    /// Reads the body, exactly `length` bytes, hashing it as it arrives, within `seconds`: it
    /// never keeps more than `length` bytes, and a body whose SHA-256 is not `contentHash` is
    /// refused once read (SyncProtocol.md §4.3.1). When the time is up the connection's input is
    /// closed, which ends the read.
    static func collect(_ body: RequestBody, length: Int, contentHash: String, within seconds: Double, channel: any Channel) async -> Collected {
        let expired = NIOLockedValueBox(false)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            expired.withLockedValue { $0 = true }
            channel.close(mode: .input, promise: nil)
        }
        defer { timer.cancel() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var hasher = Digest.SHA256Stream()
        do {
            for try await buffer in body {
                guard buffer.readableBytes <= length - bytes.count else { return .mismatch }
                buffer.withUnsafeReadableBytes { chunk in
                    hasher.update(chunk)
                    bytes.append(contentsOf: chunk)
                }
            }
        } catch {
            return expired.withLockedValue { $0 } ? .tooSlow : .mismatch
        }
        // A body cut short by the timer ends early: it is not the body that was announced.
        if expired.withLockedValue({ $0 }) { return .tooSlow }
        return bytes.count == length && hasher.hex() == contentHash ? .body(bytes) : .mismatch
    }

    /// An early refusal: the body was not read, so the connection cannot carry another request;
    /// its input is closed once the answer is on its way.
    static func refuseAndClose(_ answer: SyncService.Response, hasBody: Bool, channel: any Channel) -> Response {
        if hasBody { channel.close(mode: .input, promise: nil) }
        return response(answer, close: hasBody)
    }

    static func response(_ answer: SyncService.Response, close: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: answer.contentType]
        if close { headers[.connection] = "close" }
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// Journal work runs off the server's event loops.
enum DispatchQueueHolder {
    static let queue = DispatchQueue(label: "accord.serve.work")
}

/// Answers requests no route matched through the service, so that they get its refusals.
struct FallbackMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: SyncService
    let limits: SyncServer.Limits
    let budget: BodyBudget
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            guard let context = context as? SyncRequestContext else { throw error }
            return try await SyncServer.respond(service: service, request: request, channel: context.channel, limits: limits, budget: budget, logger: logger)
        }
    }
}

/// The request context of `accord serve`: Hummingbird's basics plus the connection, which the
/// server closes after an early refusal or a body that is too slow.
struct SyncRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The bytes of request bodies being received or waiting, across connections and per
/// authenticated site, against two bounds.
final class BodyBudget: Sendable {
    private struct Used {
        var total = 0
        var bySite: [SiteID: Int] = [:]
    }

    private let used = NIOLockedValueBox(Used())
    let limit: Int
    let perSite: Int

    init(limit: Int, perSite: Int) {
        self.limit = limit
        self.perSite = perSite
    }

    /// Reserves `bytes` for `site`; false (nothing reserved) when that would pass either bound.
    func reserve(_ bytes: Int, for site: SiteID) -> Bool {
        used.withLockedValue { used in
            let ofSite = used.bySite[site] ?? 0
            guard used.total + bytes <= limit, ofSite + bytes <= perSite else { return false }
            used.total += bytes
            used.bySite[site] = ofSite + bytes
            return true
        }
    }

    func release(_ bytes: Int, for site: SiteID) {
        used.withLockedValue { used in
            used.total -= bytes
            let left = (used.bySite[site] ?? 0) - bytes
            used.bySite[site] = left > 0 ? left : nil
        }
    }
}

/// The connections open at once, across the server.
final class ConnectionCount: Sendable {
    let open = NIOLockedValueBox(0)
}

/// Closes a connection at once when ``SyncServer/Limits/maxConnections`` are already open, so
/// that a flood of connections cannot exhaust the server's file descriptors
/// (SyncProtocol.md §4.3.3). One per connection; it passes everything else through.
final class ConnectionCap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let count: ConnectionCount
    let limit: Int
    private var counted = false

    init(count: ConnectionCount, limit: Int) {
        self.count = count
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    private func admit(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        let admitted = count.open.withLockedValue { open in
            open += 1
            return open <= limit
        }
        if !admitted { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    private func release() {
        guard counted else { return }
        counted = false
        count.open.withLockedValue { $0 -= 1 }
    }
}

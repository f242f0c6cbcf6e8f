import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import Dispatch
import HTTPTypes
import Hummingbird
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

        /// Limits with the default timeouts.
        /// - Parameter maxBufferedBytes: by default 4 × `maxBody`, at least 256 MiB.
        public init(maxBody: Int, maxBufferedBytes: Int? = nil) {
            self.maxBody = maxBody
            self.maxBufferedBytes = maxBufferedBytes ?? max(4 * maxBody, 256 << 20)
        }
    }

    /// Serves `journal` on `host:port` until SIGINT or SIGTERM.
    /// - Parameters:
    ///   - port: 0 for any free port; `onListening` is told the port bound.
    ///   - limits: body size, timeouts and the memory bound for bodies.
    ///   - writerOptions: the options of the writer each push opens (how long it waits for
    ///     another writer's lock).
    /// - Throws: Hummingbird's error when it cannot listen on `host:port`.
    public static func run(journal: EventJournal, host: String, port: Int, limits: Limits, writerOptions: SegmentWriter.Options = SegmentWriter.Options(),
                           onListening: @escaping @Sendable (Int) -> Void) async throws {
        let service = SyncService(journal: journal, maxBody: limits.maxBody, writerOptions: writerOptions)
        let budget = BodyBudget(limit: limits.maxBufferedBytes)
        var configuredLogger = Logger(label: "accord.serve")
        configuredLogger.logLevel = .info
        let logger = configuredLogger
        let router = Router(context: SyncRequestContext.self)
        for (method, path) in [(HTTPRequest.Method.get, "/v1/vector"), (.post, "/v1/pull"), (.post, "/v1/push")] {
            router.on(RouterPath(path), method: method) { request, context in
                try await respond(service: service, request: request, channel: context.channel, limits: limits, budget: budget, logger: logger)
            }
        }
        // Everything else still gets a clear refusal from the service (404, 405).
        router.addMiddleware { FallbackMiddleware(service: service, limits: limits, budget: budget, logger: logger) }
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)))),
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
        // Refuse what the headers already condemn, before reading a byte of the body; the
        // body is not read at all then, so the connection is closed after the answer.
        if let early = service.refusalBeforeBody(method: method, path: path, headers: headers, announcedLength: announced) {
            logger.info("\(early.logLine)")
            return refuseAndClose(early, hasBody: hasBody, channel: channel)
        }
        let reserved = hasBody ? min(announced ?? limits.maxBody, limits.maxBody) : 0
        guard budget.reserve(reserved) else {
            let busy = service.refusal(.busy, "The server is receiving too many request bodies at once; try again shortly.", method: method, path: path, headers: headers)
            logger.info("\(busy.logLine)")
            return refuseAndClose(busy, hasBody: hasBody, channel: channel)
        }
        defer { budget.release(reserved) }
        let body: [UInt8]
        switch await collect(request.body, upTo: limits.maxBody, within: limits.requestTimeout, channel: channel) {
        case .body(let bytes):
            body = bytes
        case .tooLarge:
            // Decided without the body and without waiting for the journal's queue (which
            // would block a thread of the server's pool behind every push).
            let tooLarge = service.refusalBeforeBody(method: method, path: path, headers: headers, announcedLength: limits.maxBody + 1)
                ?? service.refusal(.tooLarge, "The body is larger than this server's limit of \(limits.maxBody) bytes; send smaller bundles.", method: method, path: path, headers: headers)
            logger.info("\(tooLarge.logLine)")
            return refuseAndClose(tooLarge, hasBody: true, channel: channel)
        case .tooSlow:
            let slow = service.refusal(.tooSlow, "The request body did not arrive within \(Int(limits.requestTimeout)) s of its headers.", method: method, path: path, headers: headers)
            logger.info("\(slow.logLine)")
            return response(slow, close: true)
        }
        let answer = await withCheckedContinuation { continuation in
            DispatchQueueHolder.queue.async {
                continuation.resume(returning: service.handle(.init(method: method, path: path, headers: headers, body: body)))
            }
        }
        logger.info("\(answer.logLine)")
        return response(answer)
    }

    enum Collected {
        case body([UInt8])
        case tooLarge
        case tooSlow
    }

    /// Reads the whole body, at most `limit` bytes, within `seconds`. When the time is up the
    /// connection's input is closed, which ends the read.
    static func collect(_ body: RequestBody, upTo limit: Int, within seconds: Double, channel: any Channel) async -> Collected {
        let expired = NIOLockedValueBox(false)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            expired.withLockedValue { $0 = true }
            channel.close(mode: .input, promise: nil)
        }
        defer { timer.cancel() }
        do {
            let buffer = try await body.collect(upTo: limit)
            // A body cut short by the timer ends early: it is not the body that was announced.
            return expired.withLockedValue { $0 } ? .tooSlow : .body(Array(buffer.readableBytesView))
        } catch {
            return expired.withLockedValue { $0 } ? .tooSlow : .tooLarge
        }
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

/// The bytes of request bodies being received or waiting, across connections, against a bound.
final class BodyBudget: Sendable {
    private let used = NIOLockedValueBox(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Reserves `bytes`; false (nothing reserved) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLockedValue { used in
            guard used + bytes <= limit else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) { used.withLockedValue { $0 -= bytes } }
}

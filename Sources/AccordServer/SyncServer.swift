import AccordModel
import AccordSync
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `accord serve`: the HTTP edge over ``SyncService`` (SyncProtocol.md §4.3), on Hummingbird,
/// with graceful shutdown on SIGINT and SIGTERM (swift-service-lifecycle, through
/// Hummingbird's `runService`). Logs name the method, path, status and site; never payloads.
public enum SyncServer {
    /// Serves `journal` on `host:port` until SIGINT or SIGTERM.
    /// - Parameters:
    ///   - port: 0 for any free port; `onListening` is told the port bound.
    ///   - maxBody: the largest request body accepted, in bytes (larger ones get 413).
    public static func run(journal: EventJournal, host: String, port: Int, maxBody: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let service = SyncService(journal: journal, maxBody: maxBody)
        var configuredLogger = Logger(label: "accord.serve")
        configuredLogger.logLevel = .info
        let logger = configuredLogger
        let router = Router()
        for (method, path) in [(HTTPRequest.Method.get, "/v1/vector"), (.post, "/v1/pull"), (.post, "/v1/push")] {
            router.on(RouterPath(path), method: method) { request, context in
                try await respond(service: service, request: request, logger: logger)
            }
        }
        // Everything else still gets a clear refusal from the service (404, 405).
        router.addMiddleware { FallbackMiddleware(service: service, logger: logger) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "accord"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    static func respond(service: SyncService, request: Request, logger: Logger) async throws -> Response {
        var collected: [String: String] = [:]
        for field in request.headers { collected[field.name.rawName] = field.value }
        let headers = collected
        let body: [UInt8]
        do {
            let buffer = try await request.body.collect(upTo: service.maxBody)
            body = Array(buffer.readableBytesView)
        } catch {
            let tooLarge = service.handle(.init(method: request.method.rawValue, path: request.uri.path, headers: headers, body: [UInt8](repeating: 0, count: service.maxBody + 1)))
            logger.info("\(request.method.rawValue) \(request.uri.path) 413")
            return response(tooLarge)
        }
        let answer = await withCheckedContinuation { continuation in
            DispatchQueueHolder.queue.async {
                continuation.resume(returning: service.handle(.init(method: request.method.rawValue, path: request.uri.path, headers: headers, body: body)))
            }
        }
        logger.info("\(answer.logLine)")
        return response(answer)
    }

    static func response(_ answer: SyncService.Response) -> Response {
        var headers: HTTPFields = [.contentType: answer.contentType]
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
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return try await SyncServer.respond(service: service, request: request, logger: logger)
        }
    }
}

import Dispatch

import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import Dispatch
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `accord ui`: the secretariat's web view (Journal/UI.md), a Hummingbird server of HTML pages
/// read from the read model, the record form, and logins.
///
/// ```swift
/// try await WebServer.run(journal: journal, options: .init(host: "127.0.0.1", port: 8750)) { port, scheme in
///     print("Listening on \(scheme)://127.0.0.1:\(port)")
/// }
/// ```
public enum WebServer {
    /// The default port of `accord ui`.
    public static let defaultPort = 8750
    /// The largest page the server is built to send, in bytes (Journal/UI.md §7); the pages
    /// summarise long lists to stay under it.
    public static let maxPageBytes = 200 * 1024

    /// How `accord ui` listens and who may use it.
    public struct Options: Sendable {
        /// The address to bind (a loopback address needs no login, Journal/UI.md §5).
        public var host: String
        /// The port; 0 picks a free one.
        public var port: Int
        /// A PEM server certificate (chain) and its PEM private key: serve HTTPS.
        public var tlsCertificate: String?
        /// The PEM private key of ``tlsCertificate``.
        public var tlsKey: String?
        /// Require a login even on a loopback address.
        public var login = false
        /// The actor of events recorded without a login (`$ACCORD_ACTOR`); nil: the site's name.
        public var defaultActor: String?
        /// The writer's options (how long to wait for another writer's lock).
        public var writerOptions = SegmentWriter.Options()

        /// Options for `host:port`, plain HTTP, no login.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Checks that `options` may start: off loopback, TLS and a users file are required; with a
    /// login, a users file with at least one user (Journal/UI.md §1).
    /// - Parameters:
    ///   - options: how the server would listen.
    ///   - users: the journal's users file.
    /// - Returns: whether a login is required.
    /// - Throws: ``AccordError`` `.badInput` saying what is missing and how to add it.
    public static func checkAccess(_ options: Options, users: WebUsers) throws -> Bool {
        let loopback = isLoopback(options.host)
        if (options.tlsCertificate == nil) != (options.tlsKey == nil) {
            throw AccordError(.badInput, "Give both --tls-cert and --tls-key (PEM files), or neither.", field: "--tls-cert")
        }
        if !loopback, options.tlsCertificate == nil {
            throw AccordError(.badInput, "'\(options.host)' is not a loopback address: 'accord ui' serves it only over TLS with a login. Give --tls-cert PEM --tls-key PEM and add users with 'accord ui user add NAME'.", field: "--listen")
        }
        let login = !loopback || options.login
        if login, try users.load().isEmpty {
            throw AccordError(.badInput, "A login is required but '\(users.path)' holds no users; add one with 'accord ui user add NAME --journal DIR' (the password is read from standard input).", field: "--login")
        }
        return login
    }

    /// Serves the web view of `journal` until SIGINT or SIGTERM (Journal/UI.md).
    ///
    /// Checks access first (``checkAccess(_:users:)``), then listens; requests are answered
    /// concurrently, but reads of the journal and appends are serialised inside the server.
    /// As soon as it listens, it builds the state and loads (or builds) the log's index on
    /// another thread (Journal/UI.md §8), so that the first page is served from memory; a
    /// request that arrives meanwhile waits for it.
    /// - Parameters:
    ///   - journal: the journal to show and append to (its own site's feed).
    ///   - options: address, TLS, login, default actor, writer options.
    ///   - onListening: told the port bound and the scheme (`http` or `https`).
    ///   - onReady: told, once the warm-up is done, one sentence saying how many events are
    ///     indexed, where the index came from and how long it took — or why it failed (the
    ///     server goes on; each request then tries again and shows the error).
    /// - Throws: ``AccordError`` `.badInput` when ``checkAccess(_:users:)`` refuses; NIOSSL's
    ///   error for a certificate or key that cannot be read; Hummingbird's when it cannot listen.
    public static func run(journal: EventJournal, options: Options, onListening: @escaping @Sendable (Int, String) -> Void,
                           onReady: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let users = WebUsers(journalPath: journal.path)
        let login = try checkAccess(options, users: users)
        var tls: TLSConfiguration?
        if let certificate = options.tlsCertificate, let key = options.tlsKey {
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        }
        let web = WebJournal(journal: journal, writerOptions: options.writerOptions, persistence: .background)
        let site = WebSite(journal: web, users: users, login: login,
                           secure: tls != nil, defaultActor: options.defaultActor)
        var logger = Logger(label: "accord.ui")
        logger.logLevel = .notice
        let router = Router(context: BasicRequestContext.self)
        site.addRoutes(to: router)
        let scheme = tls == nil ? "http" : "https"
        let app = Application(
            router: router,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "accord-ui"),
            onServerRunning: { channel in
                onListening(channel.localAddress?.port ?? options.port, scheme)
                DispatchQueue.global().async { onReady(warmUp(web)) }
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// Builds the state and the index of `web` now, and says how it went and how long it took.
    static func warmUp(_ web: WebJournal) -> String {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let said = try web.warmUp()
            let took = started.duration(to: clock.now).components
            let milliseconds = took.seconds * 1_000 + took.attoseconds / 1_000_000_000_000_000
            return "Ready in \(milliseconds) ms: \(said)"
        } catch let error as AccordError {
            return "Not ready: \(error.message) Each page will try again."
        } catch let error as SegmentError {
            return "Not ready: \(error.message) Each page will try again."
        } catch {
            return "Not ready: \(error). Each page will try again."
        }
    }
}

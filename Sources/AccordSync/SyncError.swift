import AccordModel
import AccordSegments

/// An error of sync, on either side of HTTP sync (SyncProtocol.md §4.3): a request the server
/// refuses, an answer the client refuses, no answer at all, or a fork in what was received.
///
/// A struct with an extensible ``Code`` (STYLE.md §5), so new codes never break a caller's
/// `switch`. Each code has one HTTP status (``Code/httpStatus``, the only table of statuses) and
/// one exit code of the CLI (`ExitCodes.swift`).
public struct SyncError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Compare with the static members; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The closed set behind the codes, for this package's tables (HTTP statuses, exit
        /// codes), which switch over it exhaustively: a new code does not compile until every
        /// table maps it.
        package enum Kind: Hashable, Sendable, CaseIterable {
            case badRequest, unauthenticated, untrusted, noSuchEndpoint, wrongMethod, tooSlow, fork, tooLarge
            case serverFailure, busy, noAnswer, notAnAccordServer, untrustedServer, answerTooLarge
        }

        /// The kind, for this package's exhaustive tables.
        package let kind: Kind

        package init(_ kind: Kind) { self.kind = kind }

        /// A malformed request, another partnership, a bundle that is not valid or does not chain.
        public static let badRequest = Code(.badRequest)
        /// A request without valid signing headers, with a stale time or a bad signature.
        public static let unauthenticated = Code(.unauthenticated)
        /// A request from a site the server does not trust, or events of such a site.
        public static let untrusted = Code(.untrusted)
        /// A path that is not an endpoint.
        public static let noSuchEndpoint = Code(.noSuchEndpoint)
        /// An endpoint asked with another method than the one it takes.
        public static let wrongMethod = Code(.wrongMethod)
        /// A request body that did not arrive in time.
        public static let tooSlow = Code(.tooSlow)
        /// A fork: two different events at one place of a feed (SyncProtocol.md §3.1).
        public static let fork = Code(.fork)
        /// A request body over the server's limit.
        public static let tooLarge = Code(.tooLarge)
        /// The server failed (a failed write, a file it could not read).
        public static let serverFailure = Code(.serverFailure)
        /// The server is busy: its journal's writer lock is held, or too many bodies are in flight.
        public static let busy = Code(.busy)
        /// No HTTP answer came (no connection, a timeout). Only a client sees it.
        public static let noAnswer = Code(.noAnswer)
        /// An answer came, but not one of an Accord server. Only a client sees it.
        public static let notAnAccordServer = Code(.notAnAccordServer)
        /// The answer is not from a site this journal trusts, or not signed by its key
        /// (SyncProtocol.md §4.3.1). Only a client sees it.
        public static let untrustedServer = Code(.untrustedServer)
        /// The answer announced or sent more bytes than the client reads
        /// (``HTTPSync/maxResponseBytes``, SyncProtocol.md §4.3.1). Only a client sees it.
        public static let answerTooLarge = Code(.answerTooLarge)

        /// The code's stable name (`bad-request`, `fork`, `no-answer`, …).
        public var name: String {
            switch kind {
            case .badRequest: "bad-request"
            case .unauthenticated: "unauthenticated"
            case .untrusted: "untrusted"
            case .noSuchEndpoint: "no-such-endpoint"
            case .wrongMethod: "wrong-method"
            case .tooSlow: "too-slow"
            case .fork: "fork"
            case .tooLarge: "too-large"
            case .serverFailure: "server-failure"
            case .busy: "busy"
            case .noAnswer: "no-answer"
            case .notAnAccordServer: "not-an-accord-server"
            case .untrustedServer: "untrusted-server"
            case .answerTooLarge: "answer-too-large"
            }
        }

        /// The same as ``name``.
        public var description: String { name }

        /// The HTTP status a server answers with for this code (SyncProtocol.md §4.3); nil for
        /// the codes only a client sees. This is the one table of statuses.
        public var httpStatus: Int? {
            switch kind {
            case .badRequest: 400
            case .unauthenticated: 401
            case .untrusted: 403
            case .noSuchEndpoint: 404
            case .wrongMethod: 405
            case .tooSlow: 408
            case .fork: 409
            case .tooLarge: 413
            case .serverFailure: 500
            case .busy: 503
            case .noAnswer, .notAnAccordServer, .untrustedServer, .answerTooLarge: nil
            }
        }

        /// The code a server's refusal stands for, read back from its HTTP status: the code of
        /// that status in ``httpStatus``; for a status no code has, ``badRequest`` for another
        /// 4xx and ``serverFailure`` for anything else.
        public init(httpStatus status: Int) {
            if let kind = Kind.allCases.first(where: { Code($0).httpStatus == status }) {
                self.init(kind)
            } else {
                self.init((400..<500).contains(status) ? .badRequest : .serverFailure)
            }
        }

        /// The code under which a server refuses a request that failed with `error`:
        /// ``untrusted`` for events of an untrusted site, ``busy`` for a held writer lock,
        /// ``serverFailure`` for other failures of the journal, ``badRequest`` for the rest of
        /// what the request holds.
        package init(refusing error: AccordError) {
            switch error.code.kind {
            case .untrusted: self.init(.untrusted)
            case .fork: self.init(.fork)
            case .badInput, .damaged, .notFound, .io: self.init(.badRequest)
            }
        }

        /// The code under which a server refuses a request whose journal work failed with `error`.
        package init(refusing error: SegmentError) {
            switch error.code.kind {
            case .busy: self.init(.busy)
            case .notAJournal, .unsupportedVersion, .alreadyExists, .corrupt, .tornTail, .io, .diskFull, .invalidRecord, .writerUnusable:
                self.init(.serverFailure)
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// One sentence: what happened, where, what to do next. Never echoes a payload.
    public var message: String
    /// The HTTP status of the answer that was refused, on a client (nil when none came).
    public var httpStatus: Int?
    /// The lower-level error behind this one.
    public var underlying: (any Error & Sendable)?

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String, httpStatus: Int? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.underlying = underlying
    }

    /// The ``message``.
    public var description: String { message }
}

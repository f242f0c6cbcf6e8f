/// An error from the event model: bad input, a broken chain, a bad signature, a missing key.
///
/// A struct with an extensible ``Code`` (as GRDB's `DatabaseError`), so new codes never break a
/// caller's `switch`. The CLI maps codes to exit codes in one place (`ExitCodes.swift`).
public struct AccordError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Compare with the static members; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The closed set behind the codes, for this package's tables (exit codes, HTTP
        /// statuses), which switch over it exhaustively: a new code does not compile until
        /// every table maps it.
        package enum Kind: Hashable, Sendable, CaseIterable {
            case badInput, damaged, fork, notFound, untrusted, io
        }

        /// The kind, for this package's exhaustive tables.
        package let kind: Kind

        package init(_ kind: Kind) { self.kind = kind }

        /// The code's stable name (`bad-input`, `damaged`, `fork`, `not-found`, `untrusted`, `io`).
        public var name: String {
            switch kind {
            case .badInput: "bad-input"
            case .damaged: "damaged"
            case .fork: "fork"
            case .notFound: "not-found"
            case .untrusted: "untrusted"
            case .io: "io"
            }
        }

        /// The same as ``name``.
        public var description: String { name }

        /// Input that breaks a rule: JSON syntax, catalogue, field format. Nothing was written.
        public static let badInput = Code(.badInput)
        /// Stored data that fails a check: id, chain, signature, canonical form.
        public static let damaged = Code(.damaged)
        /// One site's feed holds two different events at one sequence number (a fork,
        /// SyncProtocol.md): neither is merged; both stay as they are.
        public static let fork = Code(.fork)
        /// A key, site or event that was asked for is not there.
        public static let notFound = Code(.notFound)
        /// An event of a site whose key is not trusted, or whose signature does not verify.
        public static let untrusted = Code(.untrusted)
        /// A file of the site (key, `SITE`) cannot be read or written.
        public static let io = Code(.io)
    }

    /// What kind of failure this is.
    public var code: Code
    /// One sentence: what happened, where, what to do next. Never contains payloads.
    public var message: String
    /// The 1-based input line, for errors in JSON Lines input.
    public var line: Int?
    /// The field concerned, as a dotted path (`data.amount`).
    public var field: String?
    /// The lower-level error behind this one.
    public var underlying: (any Error & Sendable)?

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String, line: Int? = nil, field: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.field = field
        self.underlying = underlying
    }

    /// The ``message``.
    public var description: String { message }

    /// The same error, located at an input line (the message is prefixed with "Line N: ").
    public func at(line: Int) -> AccordError {
        var copy = self
        copy.line = line
        copy.message = "Line \(line): " + message
        return copy
    }
}

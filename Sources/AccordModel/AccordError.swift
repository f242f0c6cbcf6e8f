/// An error from the event model: bad input, a broken chain, a bad signature, a missing key.
///
/// A struct with an extensible ``Code`` (as GRDB's `DatabaseError`), so new codes never break a
/// caller's `switch`. The CLI maps codes to exit codes in one place (`ExitCodes.swift`).
public struct AccordError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Input that breaks a rule: JSON syntax, catalogue, field format. Nothing was written.
        public static let badInput = Code("bad-input")
        /// Stored data that fails a check: id, chain, signature, canonical form.
        public static let damaged = Code("damaged")
        /// A key, site or event that was asked for is not there.
        public static let notFound = Code("not-found")
        /// An event of a site whose key is not trusted, or whose signature does not verify.
        public static let untrusted = Code("untrusted")
        /// A file of the site (key, `SITE`) cannot be read or written.
        public static let io = Code("io")
    }

    public var code: Code
    /// One sentence: what happened, where, what to do next. Never contains payloads.
    public var message: String
    /// The 1-based input line, for errors in JSON Lines input.
    public var line: Int?
    /// The field concerned, as a dotted path (`data.amount`).
    public var field: String?
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, line: Int? = nil, field: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.field = field
        self.underlying = underlying
    }

    public var description: String { message }

    /// The same error, located at an input line (the message is prefixed with "Line N: ").
    public func at(line: Int) -> AccordError {
        var copy = self
        copy.line = line
        copy.message = "Line \(line): " + message
        return copy
    }
}

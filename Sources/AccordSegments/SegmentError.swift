import Glibc

/// An error from the journal layer: reading, writing, locking or recovering a journal directory.
///
/// Errors are structs with an extensible ``Code`` (as NIO's `FileSystemError` and GRDB's
/// `DatabaseError` are), so that new codes never break a caller's `switch`.
/// The ``message`` says what happened, where (file, byte offset) and what to do next; it never
/// contains record payloads.
public struct SegmentError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Compare with the static members; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The closed set behind the codes, for this package's tables (exit codes, HTTP
        /// statuses), which switch over it exhaustively: a new code does not compile until
        /// every table maps it.
        package enum Kind: Hashable, Sendable, CaseIterable {
            case notAJournal, unsupportedVersion, alreadyExists, corrupt, tornTail, busy, io, diskFull, invalidRecord, writerUnusable
        }

        /// The kind, for this package's exhaustive tables.
        package let kind: Kind

        package init(_ kind: Kind) { self.kind = kind }

        /// The code's stable name: `not-a-journal`, `unsupported-version`, `already-exists`,
        /// `corrupt`, `torn-tail`, `busy`, `io`, `disk-full`, `invalid-record`, `writer-unusable`.
        public var name: String {
            switch kind {
            case .notAJournal: "not-a-journal"
            case .unsupportedVersion: "unsupported-version"
            case .alreadyExists: "already-exists"
            case .corrupt: "corrupt"
            case .tornTail: "torn-tail"
            case .busy: "busy"
            case .io: "io"
            case .diskFull: "disk-full"
            case .invalidRecord: "invalid-record"
            case .writerUnusable: "writer-unusable"
            }
        }

        /// The same as ``name``.
        public var description: String { name }

        /// The directory is not a journal (no `FORMAT` file).
        public static let notAJournal = Code(.notAJournal)
        /// The journal's `FORMAT` file names a version this reader does not know (Format.md §2).
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A journal already exists where one was to be created.
        public static let alreadyExists = Code(.alreadyExists)
        /// Bytes before the last batch of the journal are damaged (Format.md §6).
        public static let corrupt = Code(.corrupt)
        /// The last batch is incomplete or damaged; a writer cuts it off on open (Format.md §6).
        public static let tornTail = Code(.tornTail)
        /// Another process holds the writer lock and did not release it in time.
        public static let busy = Code(.busy)
        /// A read, write, sync or truncate failed.
        public static let io = Code(.io)
        /// A write or `fdatasync` failed because the device or a quota is full (`ENOSPC`, `EDQUOT`).
        public static let diskFull = Code(.diskFull)
        /// A record or batch breaks a rule of the format (empty, contains a newline, too large).
        public static let invalidRecord = Code(.invalidRecord)
        /// The writer was closed, or an earlier failure left it unusable.
        public static let writerUnusable = Code(.writerUnusable)
    }

    /// What kind of failure this is.
    public var code: Code
    /// One sentence: what happened, where, and what to do next.
    public var message: String
    /// The file concerned, relative to the journal directory where possible.
    public var path: String?
    /// The byte offset in ``path`` where the problem was found.
    public var offset: Int64?
    /// The `errno` or lower-level error behind this one.
    public var underlying: (any Error & Sendable)?

    /// An error with `code` and `message`.
    public init(
        _ code: Code, _ message: String, path: String? = nil, offset: Int64? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.underlying = underlying
    }

    /// The ``message``.
    public var description: String { message }
}

/// A POSIX error number, kept as the ``SegmentError/underlying`` error of I/O failures.
public struct Errno: Error, Sendable, CustomStringConvertible, Equatable {
    /// The `errno` value.
    public let rawValue: Int32
    /// The error number `rawValue`.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    /// `strerror`'s text and the number: "No space left on device (errno 28)".
    public var description: String {
        if let text = strerror(rawValue) { return String(cString: text) + " (errno \(rawValue))" }
        return "errno \(rawValue)"
    }
}

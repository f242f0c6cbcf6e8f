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
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The directory is not a journal (no `FORMAT` file).
        public static let notAJournal = Code("not-a-journal")
        /// The journal's `FORMAT` file names a version this reader does not know (Format.md §2).
        public static let unsupportedVersion = Code("unsupported-version")
        /// A journal already exists where one was to be created.
        public static let alreadyExists = Code("already-exists")
        /// Bytes before the last batch of the journal are damaged (Format.md §6).
        public static let corrupt = Code("corrupt")
        /// The last batch is incomplete or damaged; a writer cuts it off on open (Format.md §6).
        public static let tornTail = Code("torn-tail")
        /// Another process holds the writer lock and did not release it in time.
        public static let busy = Code("busy")
        /// A read, write, sync or truncate failed.
        public static let io = Code("io")
        /// A write or `fdatasync` failed because the device or a quota is full (`ENOSPC`, `EDQUOT`).
        public static let diskFull = Code("disk-full")
        /// A record or batch breaks a rule of the format (empty, contains a newline, too large).
        public static let invalidRecord = Code("invalid-record")
        /// The writer was closed, or an earlier failure left it unusable.
        public static let writerUnusable = Code("writer-unusable")
    }

    public var code: Code
    /// One sentence: what happened, where, and what to do next.
    public var message: String
    /// The file concerned, relative to the journal directory where possible.
    public var path: String?
    /// The byte offset in ``path`` where the problem was found.
    public var offset: Int64?
    /// The `errno` or lower-level error behind this one.
    public var underlying: (any Error & Sendable)?

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

    public var description: String { message }
}

/// A POSIX error number, kept as the ``SegmentError/underlying`` error of I/O failures.
public struct Errno: Error, Sendable, CustomStringConvertible, Equatable {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String {
        if let text = strerror(rawValue) { return String(cString: text) + " (errno \(rawValue))" }
        return "errno \(rawValue)"
    }
}

/// A failure of `accord mirror` (Journal/Mirror.md): a target that cannot be parsed or reached,
/// a database whose mirror schema is newer than this program's, a database that holds another
/// event at a feed position than the journal (a fork), or an error the database reported.
///
/// Messages say what happened, where (table, site, sequence number, event id) and what to do
/// next; they never echo a password or an event's payload.
public struct MirrorError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Compare with the static members; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The closed set behind the codes, for this package's exit-code table.
        package enum Kind: Hashable, Sendable, CaseIterable {
            case badTarget, unreachable, schemaTooNew, fork, database
        }

        /// The kind, for this package's exhaustive tables.
        package let kind: Kind

        package init(_ kind: Kind) { self.kind = kind }

        /// The code's stable name.
        public var name: String {
            switch kind {
            case .badTarget: "bad-target"
            case .unreachable: "unreachable"
            case .schemaTooNew: "schema-too-new"
            case .fork: "fork"
            case .database: "database"
            }
        }

        /// The same as ``name``.
        public var description: String { name }

        /// The `--postgres` argument is not a URL or socket directory Mirror.md §1 accepts.
        public static let badTarget = Code(.badTarget)
        /// The server could not be reached or refused the login.
        public static let unreachable = Code(.unreachable)
        /// The database holds a mirror schema newer than this program writes (Mirror.md §4).
        public static let schemaTooNew = Code(.schemaTooNew)
        /// The database holds a different event at a site and sequence number than the journal.
        public static let fork = Code(.fork)
        /// The database refused a statement (permissions, disk, a constraint).
        public static let database = Code(.database)
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, where, and what to do next.
    public var message: String

    /// A mirror error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

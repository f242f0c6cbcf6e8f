import AccordModel
import AccordProjections
import AccordStore
import Logging
import NIOCore
import PostgresNIO

/// Mirrors a journal into PostgreSQL (Journal/Mirror.md): every event into `events`, and the
/// state `accord state` shows into one table per view, kept current transaction by transaction.
///
/// Each transaction (Mirror.md §3) takes the mirror's advisory lock, reads the checkpoints (for
/// each site, the last sequence number mirrored), folds in the events another office's mirror
/// added since this one last looked, adds at most ``MirrorSchema/eventsPerTransaction`` new
/// events with `COPY`, rewrites the view rows they change, and moves the checkpoints: all or
/// nothing. A mirror killed at any moment therefore resumes exactly where the last commit left
/// it, and no event is mirrored or counted twice. Mirrors of several offices' journals into one
/// database converge: the events table is keyed by id, and the views are those of the union.
///
/// ```swift
/// let mirror = PostgresMirror(journal: journal, target: try MirrorTarget(parsing: url))
/// let summary = try await mirror.run(follow: false)
/// ```
/// Not thread-safe: one task runs one mirror.
public final class PostgresMirror {
    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Events this run added to `events`.
        public var added = 0
        /// Events of the journal the database already held.
        public var alreadyMirrored = 0
        /// Events another office's mirror had added, read back to fold the views of the union.
        public var readBack = 0
        /// Transactions committed.
        public var transactions = 0
    }

    /// The journal mirrored.
    public let journal: EventJournal
    /// Where it is mirrored.
    public let target: MirrorTarget
    /// Events per transaction (tests make it small to commit often).
    public var eventsPerTransaction = MirrorSchema.eventsPerTransaction
    /// Called after each commit with the summary so far (for progress output).
    public var progress: ((Summary) -> Void)?

    private let logger: Logger
    private var state = PartnershipState()
    private var folded: [String: UInt64] = [:]
    private var written: MirrorRows?
    private var generation: Int64?
    private var summary = Summary()

    /// A mirror of `journal` into `target`; nothing is connected until ``run(follow:pollMilliseconds:shouldStop:)``.
    public init(journal: EventJournal, target: MirrorTarget) {
        self.journal = journal
        self.target = target
        logger = Logger(label: "accord.mirror", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Mirrors every event of the journal the database lacks; with `follow`, keeps mirroring
    /// as the journal grows until `shouldStop` says so (checked between transactions and while
    /// waiting).
    /// - Parameters:
    ///   - follow: keep polling the journal for new events.
    ///   - pollMilliseconds: how long to wait between polls.
    ///   - shouldStop: asked between transactions; true ends the run after the last commit.
    /// - Returns: what was mirrored.
    /// - Throws: ``MirrorError`` (`.unreachable`, `.schemaTooNew`, `.fork`, `.database`);
    ///   ``SegmentError`` or ``AccordError`` for a damaged journal. A transaction that fails
    ///   is rolled back: the database keeps what the last commit left.
    public func run(follow: Bool, pollMilliseconds: Int = 500, shouldStop: @Sendable () -> Bool = { false }) async throws -> Summary {
        let connection = try await connect()
        do {
            try await prepareSchema(on: connection)
            try await connection.query("CREATE TEMPORARY TABLE mirror_incoming (LIKE events) ON COMMIT DELETE ROWS", logger: logger)
            var events = try journal.events()
            while true {
                var chunk: [Event] = []
                while chunk.count < eventsPerTransaction, let event = try events.next() { chunk.append(event) }
                if !chunk.isEmpty {
                    try await commit(chunk, on: connection)
                    progress?(summary)
                    if chunk.count == eventsPerTransaction, !shouldStop() { continue }
                }
                guard follow, !shouldStop() else { break }
                var waited = 0
                while waited < pollMilliseconds, !shouldStop() {
                    try await Task.sleep(nanoseconds: 50_000_000)
                    waited += 50
                }
                if shouldStop() { break }
            }
        } catch {
            try? await connection.close()
            throw Self.mirrorError(error, target: target)
        }
        try? await connection.close()
        return summary
    }

    private func connect() async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        switch target.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: target.user, password: target.password, database: target.database, tls: .disable)
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: target.user, password: target.password, database: target.database)
        }
        configuration.options.connectTimeout = .seconds(10)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw MirrorError(.unreachable, "Cannot connect to \(target): \(Self.reason(error)). Check that the server runs and that the user may log in to the database.")
        }
    }

    /// Creates the schema in an empty database, or checks the version of the one there.
    private func prepareSchema(on connection: PostgresConnection) async throws {
        try await transaction(on: connection) {
            try await connection.query("SELECT pg_advisory_xact_lock(\(MirrorSchema.lockKey))", logger: logger)
            let exists = try await connection.query("SELECT to_regclass('mirror_schema') IS NOT NULL", logger: logger)
            var found = false
            for try await (flag) in exists.decode(Bool.self) { found = flag }
            if !found {
                for statement in MirrorSchema.create {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO mirror_schema (version, generation) VALUES (\(MirrorSchema.version), 0)", logger: logger)
            }
            _ = try await self.schemaGeneration(on: connection)
        }
    }

    /// The schema's generation, after checking its version.
    private func schemaGeneration(on connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query("SELECT version, generation FROM mirror_schema", logger: logger)
        var found: (Int, Int64)?
        for try await (version, generation) in rows.decode((Int, Int64).self) { found = (version, generation) }
        guard let (version, generation) = found else {
            throw MirrorError(.database, "The table 'mirror_schema' of \(target) is empty; it must hold the schema version (Mirror.md §4). Mirror into a new database, or insert the row by hand.")
        }
        guard version <= MirrorSchema.version else {
            throw MirrorError(.schemaTooNew, "The database \(target) holds mirror schema version \(version); this accord writes version \(MirrorSchema.version). Mirror with a newer accord, or into another database.")
        }
        guard version == MirrorSchema.version else {
            throw MirrorError(.schemaTooNew, "The database \(target) holds mirror schema version \(version), older than this accord's \(MirrorSchema.version), and no migration exists for it; mirror into a new database.")
        }
        return generation
    }

    private func transaction(on connection: PostgresConnection, _ body: () async throws -> Void) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await body()
            try await connection.query("COMMIT", logger: logger)
        } catch {
            try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// One transaction: catch up with the database, add the events of `chunk` it lacks, rewrite
    /// the changed view rows, move the checkpoints.
    private func commit(_ chunk: [Event], on connection: PostgresConnection) async throws {
        var committedRows: MirrorRows?
        var committedGeneration: Int64 = 0
        try await transaction(on: connection) {
            try await connection.query("SELECT pg_advisory_xact_lock(\(MirrorSchema.lockKey))", logger: logger)
            let databaseGeneration = try await schemaGeneration(on: connection)
            var checkpoints: [String: (seq: UInt64, lastID: String)] = [:]
            for try await (site, seq, lastID) in try await connection.query("SELECT site, seq, last_id FROM mirror_checkpoints", logger: logger).decode((String, Int64, String).self) {
                checkpoints[site] = (UInt64(seq), lastID)
            }
            try await readBack(checkpoints, on: connection)

            var fresh: [Event] = []
            var moved: [String: (seq: UInt64, lastID: String)] = [:]
            for event in chunk {
                let site = event.site.rawValue
                let known = moved[site] ?? checkpoints[site]
                if let known, event.seq.rawValue <= known.seq {
                    if event.seq.rawValue == known.seq, event.id.hex != known.lastID {
                        throw MirrorError(.fork, "The database \(target) holds event '\(known.lastID.prefix(12))' at site '\(site)' sequence \(known.seq), and the journal holds '\(event.id.short)' there: a fork. Run 'accord verify' and 'accord status'; mirror this journal into another database until the fork is resolved.")
                    }
                    summary.alreadyMirrored += 1
                    continue
                }
                let expected = (known?.seq ?? 0) + 1
                guard event.seq.rawValue == expected, event.prev?.hex == known?.lastID else {
                    throw MirrorError(.fork, "Event '\(event.id.short)' of site '\(site)' has sequence \(event.seq) and follows '\(event.prev?.short ?? "nothing")', but the database \(target) holds that feed up to \(known?.seq ?? 0) ('\(known?.lastID.prefix(12) ?? "")'). Run 'accord verify'; mirror into another database if the feeds forked.")
                }
                fresh.append(event)
                moved[site] = (event.seq.rawValue, event.id.hex)
            }

            if !fresh.isEmpty {
                try await copy(table: "mirror_incoming", columns: MirrorSchema.eventColumns, on: connection) { buffer in
                    for event in fresh { Self.appendEventLine(event, to: &buffer) }
                }
                let inserted = try await connection.query("WITH added AS (INSERT INTO events SELECT * FROM mirror_incoming ON CONFLICT (id) DO NOTHING RETURNING 1) SELECT count(*) FROM added", logger: logger)
                var count = 0
                for try await (n) in inserted.decode(Int.self) { count = n }
                guard count == fresh.count else {
                    throw MirrorError(.database, "The database \(target) already held \(fresh.count - count) of \(fresh.count) events beyond its checkpoints; its tables were changed by something other than accord mirror. Mirror into a new database.")
                }
                for event in fresh {
                    PartnershipProjection.apply(event, to: &state)
                    folded[event.site.rawValue] = event.seq.rawValue
                }
                for (site, position) in moved {
                    try await connection.query("""
                        INSERT INTO mirror_checkpoints (site, seq, last_id) VALUES (\(site), \(Int64(position.seq)), \(position.lastID))
                        ON CONFLICT (site) DO UPDATE SET seq = EXCLUDED.seq, last_id = EXCLUDED.last_id
                        """, logger: logger)
                }
                summary.added += fresh.count
            }

            let rows = MirrorRows(state)
            if let written, generation == databaseGeneration {
                guard rows != written else { committedRows = rows; committedGeneration = databaseGeneration; return }
                let changed = rows.changedKeys(since: written)
                for table in MirrorSchema.views {
                    let keys = changed[table.name] ?? []
                    guard !keys.isEmpty else { continue }
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.name) WHERE \(table.key) = ANY($1)", binds: Self.binds(keys)), logger: logger)
                    try await writeRows(of: table, keys: keys, from: rows, on: connection)
                }
            } else {
                for table in MirrorSchema.views {
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.name)"), logger: logger)
                    try await writeRows(of: table, keys: Array((rows.tables[table.name] ?? [:]).keys), from: rows, on: connection)
                }
            }
            let next = try await connection.query("UPDATE mirror_schema SET generation = generation + 1 RETURNING generation", logger: logger)
            for try await (value) in next.decode(Int64.self) { committedGeneration = value }
            committedRows = rows
        }
        written = committedRows
        generation = committedGeneration
        summary.transactions += 1
    }

    /// Folds the events the database holds beyond what this mirror has folded (another
    /// office's mirror added them), so that the views are those of the union.
    private func readBack(_ checkpoints: [String: (seq: UInt64, lastID: String)], on connection: PostgresConnection) async throws {
        for (site, checkpoint) in checkpoints.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            let have = folded[site] ?? 0
            guard checkpoint.seq > have else { continue }
            // The server sends no record longer than MAX_RECORD: only its length, which is refused.
            let limit = MirrorSchema.maxRecordBytes
            let rows = try await connection.query("""
                SELECT seq, octet_length(record), CASE WHEN octet_length(record) <= \(limit) THEN record ELSE '' END
                FROM events WHERE site = \(site) AND seq > \(Int64(have)) ORDER BY seq
                """, logger: logger)
            var next = have + 1
            for try await (seq, length, record) in rows.decode((Int64, Int, String).self) {
                guard length <= limit else {
                    throw MirrorError(.database, "The record of site '\(site)' sequence \(seq) in \(target) is \(length) bytes, more than the \(limit) a record may hold (MAX_RECORD). Mirror into a new database.")
                }
                let event: Event
                do {
                    event = try EventRecord.decode(Array(record.utf8))
                } catch {
                    throw MirrorError(.database, "The record of site '\(site)' sequence \(seq) in table 'events' of \(target) is not a valid event (\(error)). Mirror into a new database.")
                }
                guard event.site.rawValue == site, event.seq.rawValue == UInt64(seq), UInt64(seq) == next else {
                    throw MirrorError(.database, "Table 'events' of \(target) holds a record at site '\(site)' sequence \(seq) that is not the next event of that feed. Mirror into a new database.")
                }
                PartnershipProjection.apply(event, to: &state)
                next += 1
                summary.readBack += 1
            }
            guard next - 1 == checkpoint.seq else {
                throw MirrorError(.database, "Table 'events' of \(target) holds site '\(site)' up to sequence \(next - 1), but its checkpoint says \(checkpoint.seq). Mirror into a new database.")
            }
            folded[site] = checkpoint.seq
        }
    }

    private func writeRows(of table: MirrorSchema.Table, keys: [String], from rows: MirrorRows, on connection: PostgresConnection) async throws {
        let lines = rows.tables[table.name] ?? [:]
        guard keys.contains(where: { !(lines[$0]?.isEmpty ?? true) }) else { return }
        try await copy(table: table.name, columns: table.columns, on: connection) { buffer in
            for key in keys {
                for line in lines[key] ?? [] {
                    buffer.writeBytes(line)
                    buffer.writeInteger(UInt8(0x0a))
                }
            }
        }
    }

    /// `COPY table (columns) FROM STDIN`, sending what `fill` writes in pieces of about 1 MiB.
    private func copy(table: String, columns: [String], on connection: PostgresConnection, _ fill: (inout ByteBuffer) -> Void) async throws {
        var buffer = ByteBuffer()
        fill(&buffer)
        try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
            while buffer.readableBytes > 0 {
                let piece = buffer.readSlice(length: min(buffer.readableBytes, 1 << 20))!
                try await writer.write(piece)
            }
        }
    }

    /// One line of `events` (Mirror.md §2): `data` is the payload's bytes as stored, or NULL
    /// when it holds `\u0000`, which `jsonb` cannot represent (the record keeps it).
    static func appendEventLine(_ event: Event, to buffer: inout ByteBuffer) {
        var line = CopyLine()
        line.plain(event.id.hex)
        line.text(event.site.rawValue)
        line.plain(String(event.seq.rawValue))
        line.text(event.type.rawValue)
        line.text(event.subject.description)
        line.plain(event.time.text)
        line.plain(event.hlc.text)
        let data = payload(of: event.record)
        if let data, !contains(data, #"\u0000"#) { line.raw(data) } else { line.plain(nil) }
        line.raw(event.record)
        buffer.writeBytes(line.bytes)
        buffer.writeInteger(UInt8(0x0a))
    }

    /// The bytes of `data` in a stored record: canonical records end with `"data":{…}` and an
    /// optional `,"sig":"…"` (Format.md §7.2), and no string can hold `,"data":{` unescaped.
    static func payload(of record: [UInt8]) -> ArraySlice<UInt8>? {
        let marker = Array(#","data":{"#.utf8)
        guard let start = firstIndex(of: marker, in: record[...]) else { return nil }
        let from = start + marker.count - 1
        var end = record.count - 1
        if let sig = firstIndex(of: Array(#"},"sig":""#.utf8), in: record[from...]) { end = sig + 1 }
        guard end > from, record[end - 1] == UInt8(ascii: "}") else { return nil }
        return record[from..<end]
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func contains(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        firstIndex(of: Array(text.utf8), in: bytes) != nil
    }

    private static func binds(_ keys: [String]) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(keys)
        return bindings
    }

    /// A short reason for a database or connection error: the server's message and SQLSTATE
    /// when there is one, cut to 200 characters.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                let table = info[.tableName].map { " in table '\($0)'" } ?? ""
                return String(message.prefix(200)) + table + state
            }
            if let underlying = error.underlying { return String("\(error.code): \(underlying)".prefix(200)) }
            return "\(error.code)"
        }
        return String("\(error)".prefix(200))
    }

    static func mirrorError(_ error: any Error, target: MirrorTarget) -> any Error {
        if error is MirrorError || error is AccordError { return error }
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError ?? transaction.commitError {
            return mirrorError(inner, target: target)
        }
        if error is PSQLError {
            return MirrorError(.database, "The database \(target) refused a statement: \(reason(error)). Nothing of the failed transaction was kept; run 'accord mirror' again once it is fixed.")
        }
        return error
    }
}

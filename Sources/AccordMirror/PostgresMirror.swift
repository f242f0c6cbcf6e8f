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
    /// The journal's partnership (Format.md §1): every row this mirror reads or writes is its.
    private var partnership: String { journal.partnership }
    private var fold = MirrorFold()
    private var folded: [String: UInt64] = [:]
    /// The generation this mirror's last commit left (nil before its first): when the
    /// database's is the same, its view rows are those of `fold` before the touched subjects.
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
            let source = EventSource(try journal.events())
            let limit = eventsPerTransaction
            let partnership = self.partnership
            var chunk = try Self.prepare(from: source, events: limit, partnership: partnership)
            while true {
                if !chunk.events.isEmpty {
                    let full = chunk.full
                    // The next transaction's events are read, decoded and turned into COPY text
                    // on a thread of the blocking pool while this one commits (at most two
                    // transactions' events in memory): from the moment this one's events are
                    // folded, so that reading ahead does not take the cores from the fold and
                    // the server while they take the COPY, but overlaps the view rows.
                    var ahead: Task<Chunk, any Error>?
                    func readAhead() {
                        ahead = Task { try await Self.offCooperativePool { try Self.prepare(from: source, events: limit, partnership: partnership) } }
                    }
                    do {
                        try await commit(chunk, on: connection, afterFold: readAhead)
                    } catch {
                        _ = try? await ahead?.value
                        throw error
                    }
                    progress?(summary)
                    if ahead == nil { readAhead() }
                    chunk = try await ahead!.value
                    if full, !shouldStop() { continue }
                }
                guard follow, !shouldStop() else { break }
                var waited = 0
                while waited < pollMilliseconds, !shouldStop() {
                    try await Task.sleep(nanoseconds: 50_000_000)
                    waited += 50
                }
                if shouldStop() { break }
                if chunk.events.isEmpty { chunk = try Self.prepare(from: source, events: limit, partnership: partnership) }
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
            } else {
                var migration: [String] = []
                switch try await self.schemaVersion(on: connection) {
                // Version 1 kept no partnership: its rows become this journal's (Mirror.md §4).
                case 1: migration = MirrorSchema.migrationFromVersion1(partnership: journal.partnership)
                case 2: migration = MirrorSchema.migrationFromVersion2
                case 3: migration = MirrorSchema.migrationFromVersion3
                default: break
                }
                for statement in migration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            _ = try await self.schemaGeneration(on: connection)
        }
    }

    /// The schema's version, as `mirror_schema` holds it (nil when the table is empty).
    private func schemaVersion(on connection: PostgresConnection) async throws -> Int? {
        var found: Int?
        for try await (version) in try await connection.query("SELECT version FROM mirror_schema", logger: logger).decode(Int.self) { found = version }
        return found
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
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The journal's iterator, handed from one transaction's read-ahead to the next: only one
    /// task uses it at a time (``run(follow:pollMilliseconds:shouldStop:)`` awaits each
    /// read-ahead before it starts the next).
    private final class EventSource: @unchecked Sendable {
        var iterator: EventIterator
        init(_ iterator: EventIterator) { self.iterator = iterator }
    }

    /// The events of one transaction, held once: the transaction takes them to fold them
    /// (``PostgresMirror/foldEvents(_:at:)``), and each is freed as soon as it is folded.
    /// Only one task uses it at a time (its read-ahead, then its transaction).
    final class EventList: @unchecked Sendable {
        var events: [Event] = []

        /// The events, which this list no longer holds.
        func take() -> [Event] {
            defer { events = [] }
            return events
        }
    }

    /// One transaction's events, read from the journal, and their `COPY` text for `events`.
    struct Chunk: Sendable {
        let list = EventList()
        /// The events, until the transaction takes them to fold them.
        var events: [Event] { list.events }
        /// The lines of ``events`` for `COPY events`, in order.
        var copy = ByteBuffer()
        /// Whether it ended at a limit (more events may follow at once).
        var full = false
    }

    /// Reads the next transaction's events: at most `events` events and
    /// ``MirrorSchema/bytesPerTransaction`` bytes of records (Mirror.md §3), with their COPY text.
    private static func prepare(from source: EventSource, events limit: Int, partnership: String) throws -> Chunk {
        var chunk = Chunk()
        var bytes = 0
        while let event = try source.iterator.next() {
            appendEventLine(event, partnership: partnership, to: &chunk.copy)
            bytes += event.record.count
            chunk.list.events.append(event)
            if chunk.list.events.count >= limit || bytes >= MirrorSchema.bytesPerTransaction { chunk.full = true; break }
        }
        return chunk
    }

    /// One transaction (``commitOnce(_:on:afterFold:)``); when it fails, the fold is dropped, so that a
    /// later transaction folds again what the database holds.
    private func commit(_ chunk: Chunk, on connection: PostgresConnection, afterFold: () -> Void) async throws {
        do {
            try await commitOnce(chunk, on: connection, afterFold: afterFold)
        } catch {
            fold = MirrorFold()
            folded = [:]
            generation = nil
            throw error
        }
    }

    /// One transaction: catch up with the database, add the events of `chunk` it lacks, rewrite
    /// the view rows of the subjects they touch, move the checkpoints.
    /// `afterFold` is called once the events of `chunk` are folded, if they are.
    private func commitOnce(_ chunk: Chunk, on connection: PostgresConnection, afterFold: () -> Void) async throws {
        var committedGeneration: Int64 = 0
        try await transaction(on: connection) {
            try await connection.query("SELECT pg_advisory_xact_lock(\(MirrorSchema.lockKey))", logger: logger)
            let databaseGeneration = try await schemaGeneration(on: connection)
            var checkpoints: [String: (seq: UInt64, lastID: String)] = [:]
            for try await (site, seq, lastID) in try await connection.query("SELECT site, seq, last_id FROM mirror_checkpoints WHERE partnership = \(partnership)", logger: logger).decode((String, Int64, String).self) {
                checkpoints[site] = (UInt64(seq), lastID)
            }
            try await readBack(checkpoints, on: connection)

            let (fresh, behind, moved) = try Self.classify(chunk.events, checkpoints: checkpoints, target: target, partnership: partnership)
            try await checkBehind(behind, on: connection)
            summary.alreadyMirrored += behind.count

            let everyRow = generation == nil || generation != databaseGeneration
            guard !fresh.isEmpty || everyRow else { committedGeneration = databaseGeneration; return }
            var writes: [MirrorFold.TableChange] = []
            if !fresh.isEmpty {
                var copy = chunk.copy
                if fresh.count != chunk.events.count {
                    copy = Self.eventLines(chunk.events, at: fresh, partnership: partnership)
                }
                // The server adds the events while a thread of the blocking pool folds them and
                // makes the view rows (Mirror.md §3, step 5 and 6): the cooperative pool stays
                // free to stream the COPY.
                let (logger, target) = (self.logger, self.target)
                async let copied: Void = Self.copyEvents(copy, on: connection, logger: logger, target: target)
                let mirror = Exclusive(self)
                writes = try await Self.offCooperativePool {
                    mirror.value.foldEvents(chunk.list, at: fresh)
                    var writes: [MirrorFold.TableChange] = []
                    if !everyRow { for kind in MirrorSchema.viewKinds { writes += mirror.value.fold.changes(kind: kind) } }
                    _ = mirror.value.fold.takeTouched()
                    return Exclusive(writes)
                }.value
                afterFold()
                try await copied
                for (site, position) in moved {
                    try await connection.query("""
                        INSERT INTO mirror_checkpoints (partnership, site, seq, last_id) VALUES (\(partnership), \(site), \(Int64(position.seq)), \(position.lastID))
                        ON CONFLICT (partnership, site) DO UPDATE SET seq = EXCLUDED.seq, last_id = EXCLUDED.last_id
                        """, logger: logger)
                }
                summary.added += fresh.count
            }

            if everyRow {
                // The first transaction of this mirror, or another mirror committed since this
                // one last did: every row, from the fold of every event in the database.
                _ = fold.takeTouched()
                let all = fold.allSubjects
                for kind in MirrorSchema.viewKinds {
                    let rows = fold.rows(kind: kind, ids: all[kind] ?? [])
                    for table in MirrorSchema.views where table.kind == kind {
                        try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.name) WHERE partnership = $1", binds: Self.binds(partnership, nil)), logger: logger)
                        try await writeRows(rows[table.name] ?? [], of: table, on: connection)
                    }
                }
            } else {
                // Only the rows of the subjects this transaction's events touched.
                for write in writes {
                    if !write.delete.isEmpty {
                        try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(write.table.name) WHERE partnership = $1 AND \(write.table.key) = ANY($2)", binds: Self.binds(partnership, write.delete)), logger: logger)
                    }
                    try await writeRows(write.lines, of: write.table, on: connection)
                }
            }
            let next = try await connection.query("UPDATE mirror_schema SET generation = generation + 1 RETURNING generation", logger: logger)
            for try await (value) in next.decode(Int64.self) { committedGeneration = value }
        }
        generation = committedGeneration
        summary.transactions += 1
    }

    /// Takes the events of `list` and folds those at `indexes` (increasing), in order, and
    /// notes how far each feed is folded. Each event is moved out of the list, not copied, and
    /// freed once folded, with the payload tree the fold parsed: what a transaction holds in
    /// memory shrinks as it folds.
    private func foldEvents(_ list: EventList, at indexes: [Int]) {
        var events = list.take()
        events.reverse()
        var position = 0, next = 0
        while let event = events.popLast() {
            if next < indexes.count, indexes[next] == position {
                fold.apply(event)
                folded[event.site.rawValue] = event.seq.rawValue
                next += 1
            }
            position += 1
        }
    }

    /// The `COPY` lines of `events[indexes]`, in order.
    static func eventLines(_ events: [Event], at indexes: [Int], partnership: String) -> ByteBuffer {
        var copy = ByteBuffer()
        events.withUnsafeBufferPointer { events in
            for index in indexes { appendEventLine(events[index], partnership: partnership, to: &copy) }
        }
        return copy
    }

    /// `COPY events FROM STDIN` of `lines`; an id already there breaks its key, and the whole
    /// transaction is rolled back.
    private static func copyEvents(_ lines: ByteBuffer, on connection: PostgresConnection, logger: Logger, target: MirrorTarget) async throws {
        do {
            try await send(lines, table: "events", columns: MirrorSchema.eventColumns, on: connection, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw MirrorError(.database, "The database \(target) already held an event beyond its checkpoints (\(Self.reason(error))); its tables were changed by something other than accord mirror. Mirror into a new database.")
        }
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
                FROM events WHERE partnership = \(partnership) AND site = \(site) AND seq > \(Int64(have)) ORDER BY seq
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
                fold.apply(event)
                next += 1
                summary.readBack += 1
            }
            guard next - 1 == checkpoint.seq else {
                throw MirrorError(.database, "Table 'events' of \(target) holds site '\(site)' up to sequence \(next - 1), but its checkpoint says \(checkpoint.seq). Mirror into a new database.")
            }
            folded[site] = checkpoint.seq
        }
    }

    /// Checks that the events of the journal at or behind their feed's checkpoint are the ones
    /// the database holds there (by id), so that a journal of another office that shares a site
    /// name (or a forked feed) is refused rather than skipped.
    private func checkBehind(_ behind: [Behind], on connection: PostgresConnection) async throws {
        guard !behind.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(partnership)
        bindings.append(behind.map(\.site))
        bindings.append(behind.map { Int64($0.seq) })
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT e.site, e.seq, e.id FROM events e JOIN unnest($2::text[], $3::bigint[]) AS k(site, seq)
            ON e.site = k.site AND e.seq = k.seq WHERE e.partnership = $1
            """, binds: bindings), logger: logger)
        var held: [String: [Int64: String]] = [:]
        for try await (site, seq, id) in rows.decode((String, Int64, String).self) { held[site, default: [:]][seq] = id }
        for event in behind {
            let id = held[event.site]?[Int64(event.seq)] ?? ""
            guard id == event.id.hex else {
                throw Self.fork(target: target, partnership: partnership, site: event.site, seq: event.seq, held: id, journal: event.id.short)
            }
        }
    }

    static func fork(target: MirrorTarget, partnership: String, site: String, seq: UInt64, held: String, journal: String) -> MirrorError {
        MirrorError(.fork, "The database \(target) holds event '\(held.prefix(12))' of partnership '\(partnership)' at site '\(site)' sequence \(seq), and the journal holds '\(journal)' there: a fork, or another office's journal that calls its site '\(site)' too. Run 'accord verify' and 'accord status'; give each office its own site name, or mirror this journal into another database until the fork is resolved.")
    }

    private func writeRows(_ lines: [[UInt8]], of table: MirrorSchema.Table, on connection: PostgresConnection) async throws {
        guard !lines.isEmpty else { return }
        let suffix = Array(("\t" + partnership + "\n").utf8)
        try await copy(table: table.name, columns: table.columns + ["partnership"], on: connection) { buffer in
            for line in lines {
                buffer.writeBytes(line)
                buffer.writeBytes(suffix)
            }
        }
    }

    /// `COPY table (columns) FROM STDIN`, sending what `fill` writes in pieces of about 1 MiB.
    private func copy(table: String, columns: [String], on connection: PostgresConnection, _ fill: (inout ByteBuffer) -> Void) async throws {
        var buffer = ByteBuffer()
        fill(&buffer)
        try await Self.send(buffer, table: table, columns: columns, on: connection, logger: logger)
    }

    /// `COPY table (columns) FROM STDIN` of `lines`, in pieces of about 1 MiB.
    private static func send(_ lines: ByteBuffer, table: String, columns: [String], on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
            var buffer = lines
            while buffer.readableBytes > 0 {
                let piece = buffer.readSlice(length: min(buffer.readableBytes, 1 << 20))!
                try await writer.write(piece)
            }
        }
    }

    private static func binds(_ partnership: String, _ keys: [String]?) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(partnership)
        if let keys { bindings.append(keys) }
        return bindings
    }
}

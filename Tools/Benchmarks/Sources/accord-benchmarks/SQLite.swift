import CSQLite

// The SQLite peer, through its C API: WAL, synchronous=FULL, one row per event holding the same
// record text as Accord's journal, a unique index on (site, seq).

final class SQLiteDB {
    private(set) var handle: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            throw BenchError.failed("sqlite3_open_v2 \(path) failed")
        }
        try exec("PRAGMA journal_mode=WAL")
        try exec("PRAGMA synchronous=FULL")
    }

    deinit { sqlite3_close_v2(handle) }

    func close() {
        sqlite3_close_v2(handle)
        handle = nil
    }

    func exec(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "?"
            sqlite3_free(message)
            throw BenchError.failed("sqlite: \(sql): \(text)")
        }
    }

    func createSchema() throws {
        try exec("CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL)")
        try exec("CREATE UNIQUE INDEX IF NOT EXISTS events_site_seq ON events(site, seq)")
    }

    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BenchError.failed("sqlite: cannot prepare \(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        return Statement(statement, db: handle)
    }
}

final class Statement {
    let pointer: OpaquePointer
    let db: OpaquePointer?
    init(_ pointer: OpaquePointer, db: OpaquePointer?) {
        self.pointer = pointer
        self.db = db
    }
    deinit { sqlite3_finalize(pointer) }

    /// Inserts (site, seq, record); the buffers need only live for the call (SQLITE_STATIC is
    /// safe because the statement is stepped and reset before returning).
    func insert(site: UnsafeBufferPointer<UInt8>, seq: Int64, record: UnsafeBufferPointer<UInt8>) throws {
        sqlite3_bind_text(pointer, 1, UnsafeRawPointer(site.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(site.count), nil)
        sqlite3_bind_int64(pointer, 2, seq)
        sqlite3_bind_text(pointer, 3, UnsafeRawPointer(record.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(record.count), nil)
        let status = sqlite3_step(pointer)
        sqlite3_reset(pointer)
        guard status == SQLITE_DONE else { throw BenchError.failed("sqlite insert: \(String(cString: sqlite3_errmsg(db)))") }
    }

    /// Steps through every row, calling `row` for each.
    func forEachRow(_ row: (OpaquePointer) throws -> Void) throws {
        while true {
            let status = sqlite3_step(pointer)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw BenchError.failed("sqlite step: \(String(cString: sqlite3_errmsg(db)))") }
            try row(pointer)
        }
        sqlite3_reset(pointer)
    }
}

/// Bytes of column `index` of the current row.
func columnBytes(_ statement: OpaquePointer, _ index: Int32) -> UnsafeBufferPointer<UInt8> {
    let pointer = sqlite3_column_blob(statement, index)
    let count = Int(sqlite3_column_bytes(statement, index))
    return UnsafeBufferPointer(start: pointer?.assumingMemoryBound(to: UInt8.self), count: count)
}

/// The aggregate queries that give what Accord's partnership projection holds: per-feed counts
/// and heads; per funding, stage and currency the sum and count of amounts; the last value of
/// every subject's registers (the newest event per subject); programme deliveries; activity.
let stateQueries = [
    "SELECT site, COUNT(*), MAX(seq) FROM events GROUP BY site",
    """
    SELECT json_extract(record,'$.subject'), json_extract(record,'$.type'), json_extract(record,'$.data.currency'),
           SUM(CAST(json_extract(record,'$.data.amount') AS REAL)), COUNT(*)
    FROM events WHERE json_extract(record,'$.type') LIKE 'finance.%' GROUP BY 1, 2, 3
    """,
    """
    SELECT e.record FROM events e JOIN (SELECT MAX(id) AS id FROM events GROUP BY json_extract(record,'$.subject')) last ON e.id = last.id
    """,
    """
    SELECT json_extract(record,'$.subject'), COUNT(*), SUM(json_extract(record,'$.data.participants'))
    FROM events WHERE json_extract(record,'$.type') = 'skills.programme.delivered.v1' GROUP BY 1
    """,
    """
    SELECT json_extract(record,'$.data.provider'), COUNT(*) FROM events GROUP BY 1
    """,
]

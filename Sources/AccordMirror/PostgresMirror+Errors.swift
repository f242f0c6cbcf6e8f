import AccordModel
import PostgresNIO

/// How a mirror's failures read: a database's or connection's error said shortly, and any
/// error of a run turned into a ``MirrorError`` (its exit code, Journal/Mirror.md §1).
extension PostgresMirror {
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

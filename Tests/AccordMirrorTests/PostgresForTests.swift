import AccordMirror
import AccordTesting
import Foundation
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server the mirror tests use (Journal/Mirror.md §6): `.ci/run` starts a
/// throwaway cluster and exports its URL as `ACCORD_TEST_POSTGRES_URL`; a developer starts the
/// same one with `eval "$(Tools/postgres-test.sh start)"`.
enum PostgresForTests {
    static let variable = "ACCORD_TEST_POSTGRES_URL"
    static let url: String? = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether the tests that need PostgreSQL run: with a server, or under CI without one (where
    /// they fail, saying so, instead of being skipped). Run locally without a server, they are
    /// reported as skipped with this trait's comment.
    static var shouldRun: Bool { url != nil || inCI }

    static let logger = Logger(label: "accord.mirror.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The server's target, or an error saying how to start one.
    static func server() throws -> MirrorTarget {
        guard let url else {
            throw MissingPostgres()
        }
        return try MirrorTarget(parsing: url)
    }

    struct MissingPostgres: Error, CustomStringConvertible {
        var description: String {
            "\(PostgresForTests.variable) is not set, and CI=true: the mirror tests need PostgreSQL. .ci/run starts one; by hand: eval \"$(Tools/postgres-test.sh start)\"."
        }
    }

    /// A new, empty database on the server, for one test; the URL `accord mirror --postgres` takes.
    static func freshDatabase(_ label: String) async throws -> (target: MirrorTarget, url: String) {
        let server = try server()
        let name = "accord_\(label)_\(UInt32.random(in: 0...UInt32.max))"
        try await run(["CREATE DATABASE \(name)"], on: server)
        let target = server.with(database: name)
        return (target, urlText(target))
    }

    static func urlText(_ target: MirrorTarget) -> String {
        let password = target.password.map { ":" + $0 } ?? ""
        switch target.endpoint {
        case .tcp(let host, let port): return "postgres://\(target.user)\(password)@\(host):\(port)/\(target.database)"
        case .socket(let path):
            let directory = String(path[..<path.range(of: "/.s.PGSQL.", options: .backwards)!.lowerBound])
            let port = path[path.range(of: "/.s.PGSQL.", options: .backwards)!.upperBound...]
            return "postgres://\(target.user)\(password)@\(directory.replacingOccurrences(of: "/", with: "%2F")):\(port)/\(target.database)"
        }
    }

    static func connect(_ target: MirrorTarget) async throws -> PostgresConnection {
        let configuration: PostgresConnection.Configuration
        switch target.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: target.user, password: target.password, database: target.database, tls: .disable)
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: target.user, password: target.password, database: target.database)
        }
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// Runs statements, each in its own implicit transaction.
    static func run(_ statements: [String], on target: MirrorTarget) async throws {
        let connection = try await connect(target)
        do {
            for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        } catch {
            try? await connection.close()
            throw DatabaseFailure(error)
        }
        try await connection.close()
    }

    /// The rows of a query, each as text columns (NULL as nil).
    static func rows(_ sql: String, on target: MirrorTarget) async throws -> [[String?]] {
        let connection = try await connect(target)
        var result: [[String?]] = []
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            for try await row in rows {
                var values: [String?] = []
                for cell in row { values.append(try cell.decode(String?.self)) }
                result.append(values)
            }
        } catch {
            try? await connection.close()
            throw DatabaseFailure(error)
        }
        try await connection.close()
        return result
    }

    /// One value of a query, as text.
    static func value(_ sql: String, on target: MirrorTarget) async throws -> String? {
        try await rows(sql, on: target).first?.first ?? nil
    }

    /// Every table of the mirror, each as its rows' text in byte order: equal dumps, equal
    /// mirrors. With `partnership`, only that partnership's rows.
    static func dump(_ target: MirrorTarget, partnership: String? = nil) async throws -> [String: String] {
        var tables: [String: String] = [:]
        let filter = partnership.map { " WHERE partnership = '\($0)'" } ?? ""
        for table in ["events", "mirror_checkpoints", "stakeholders", "agreements", "actions", "fundings", "funding_stages", "funding_sums",
                      "projects", "milestones", "offtakes", "research", "research_outputs", "programmes", "programme_deliveries"] {
            tables[table] = try await value("SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE \"C\"), '') FROM \(table) t\(filter)", on: target)
        }
        return tables
    }
}

/// A database error with the server's message (PSQLError's description hides it).
struct DatabaseFailure: Error, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = String(reflecting: error) }
}

/// Runs `accord` and returns the result.
@discardableResult
func accord(_ arguments: [String], journal: String? = nil, input: String = "", environment: [String: String] = [:]) throws -> AccordExecutable.Result {
    try AccordExecutable.run(arguments + (journal.map { ["--journal", $0] } ?? []), input: Array(input.utf8), environment: environment)
}

/// `accord mirror` of `journal` into `url`, which must succeed.
func mirror(_ journal: String, into url: String, extra: [String] = []) throws {
    let result = try accord(["mirror", "--postgres", url] + extra, journal: journal)
    #expect(result.status == 0, "accord mirror failed: \(result.stderr)")
    if result.status != 0 { throw MirrorFailed(message: result.stderr) }
}

struct MirrorFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { "accord mirror failed: \(message)" }
}

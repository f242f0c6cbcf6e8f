import Glibc

/// Where `accord mirror` writes: a PostgreSQL server over TCP or a Unix socket (Mirror.md §1).
///
/// Two forms are accepted:
/// - a URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (also `postgresql://`); an
///   empty HOST, or one that is a percent-encoded absolute path (`%2Ftmp%2Fpg`), names a socket
///   directory, as libpq does;
/// - a socket directory, an absolute path such as `/var/run/postgresql`: the server's socket is
///   `DIR/.s.PGSQL.PORT`, with PORT from `$PGPORT` (else 5432), the user from `$PGUSER` (else the
///   login name) and the database from `$PGDATABASE` (else the user's name).
///
/// A password may come from the URL or from `$PGPASSWORD`; it is never printed. TLS is not
/// offered: mirror to a server on the same machine, or through an SSH tunnel.
public struct MirrorTarget: Sendable, Equatable, CustomStringConvertible {
    /// How the server is reached.
    public enum Endpoint: Sendable, Equatable {
        /// TCP to a host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket file (`DIR/.s.PGSQL.PORT`).
        case socket(path: String)
    }

    /// How the server is reached.
    public var endpoint: Endpoint
    /// The role to log in as.
    public var user: String
    /// The password, if any (never in ``description``).
    public var password: String?
    /// The database.
    public var database: String

    /// The default port of PostgreSQL.
    public static let defaultPort = 5432

    /// A target from its parts.
    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses the `--postgres` argument.
    /// - Parameters:
    ///   - text: A `postgres://` URL or an absolute socket directory.
    ///   - environment: Where `PGUSER`, `PGPASSWORD`, `PGPORT` and `PGDATABASE` are read.
    /// - Throws: ``MirrorError`` `.badTarget`, naming the part that is wrong.
    public init(parsing text: String, environment: [String: String] = MirrorTarget.processEnvironment()) throws {
        let login = environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        if text.hasPrefix("/") {
            let port = try Self.port(environment["PGPORT"] ?? String(Self.defaultPort), in: "PGPORT")
            let directory = text.hasSuffix("/") ? String(text.dropLast()) : text
            self.init(endpoint: .socket(path: directory + "/.s.PGSQL.\(port)"), user: login,
                      password: environment["PGPASSWORD"], database: environment["PGDATABASE"] ?? login)
            return
        }
        var rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw MirrorError(.badTarget, "The --postgres argument must start with 'postgres://' or be an absolute socket directory such as '/var/run/postgresql'.")
        }
        if let query = rest.firstIndex(of: "?") {
            throw MirrorError(.badTarget, "The --postgres URL has options after '?' ('\(rest[query...].prefix(40))'); none are supported: name a socket directory as the host, percent-encoded ('postgres://user@%2Ftmp%2Fpg/db').")
        }
        var user = login
        var password = environment["PGPASSWORD"]
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decode(credentials[..<colon], part: "user")
                password = try Self.decode(credentials[credentials.index(after: colon)...], part: "password")
            } else {
                user = try Self.decode(credentials, part: "user")
            }
        }
        let hostPort: Substring
        var database = environment["PGDATABASE"] ?? user
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let name = rest[rest.index(after: slash)...]
            if !name.isEmpty { database = try Self.decode(name, part: "database") }
        } else {
            hostPort = rest
        }
        var host = String(hostPort)
        var port = Self.defaultPort
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw MirrorError(.badTarget, "The host of the --postgres URL opens '[' without closing it.")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(String(after.dropFirst()), in: "the --postgres URL") }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = try Self.port(String(hostPort[hostPort.index(after: colon)...]), in: "the --postgres URL")
        }
        host = try Self.decode(Substring(host), part: "host")
        guard !user.isEmpty else { throw MirrorError(.badTarget, "The --postgres URL names an empty user; write 'postgres://USER@HOST/DATABASE'.") }
        if host.isEmpty || host.hasPrefix("/") {
            let directory = host.isEmpty ? "/var/run/postgresql" : host
            self.init(endpoint: .socket(path: directory + "/.s.PGSQL.\(port)"), user: user, password: password, database: database)
        } else {
            self.init(endpoint: .tcp(host: host, port: port), user: user, password: password, database: database)
        }
    }

    /// The target without its password, for messages.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .socket(let path): "postgres://\(user)@\(path)/\(database) (Unix socket)"
        }
    }

    /// The same target with another database (tests make one database per test).
    public func with(database: String) -> MirrorTarget {
        var copy = self
        copy.database = database
        return copy
    }

    /// The process's environment, as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        for name in ["PGUSER", "PGPASSWORD", "PGPORT", "PGDATABASE", "USER"] {
            if let value = getenv(name) { result[name] = String(cString: value) }
        }
        return result
    }

    private static func port(_ text: String, in place: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw MirrorError(.badTarget, "The port in \(place) is '\(text.prefix(12))'; it must be a number from 1 to 65535.")
        }
        return port
    }

    private static func decode(_ text: Substring, part: String) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw MirrorError(.badTarget, "The \(part) in the --postgres URL has a '%' that is not followed by two hexadecimal digits.")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw MirrorError(.badTarget, "The \(part) in the --postgres URL is not UTF-8 once percent-decoded.")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

import AccordModel
import Glibc
import HummingbirdBcrypt

/// The users of the web view: `ui/users` in the journal, one line `NAME:HASH` per user, where
/// HASH is a bcrypt hash (`$2b$…`) of the password (Journal/UI.md §5).
///
/// Names are the `actor` of the events a user records, so they follow the actor's rules
/// (``ActorName``) and may not hold `:`; the file is written with mode 0600.
public struct WebUsers: Sendable {
    /// The file, relative to the journal.
    public static let fileName = "ui/users"
    /// bcrypt's cost for new hashes (2^12 rounds; at least 10, Journal/UI.md §5).
    public static let bcryptCost: UInt8 = 12
    /// The largest users file read, in bytes.
    public static let maxFileBytes = 1 << 20
    /// The longest password accepted, in bytes (bcrypt reads at most 72).
    public static let maxPasswordBytes = 72

    /// The users file's path.
    public let path: String

    /// The users of the journal at `journalPath`.
    public init(journalPath: String) {
        path = journalPath + "/" + Self.fileName
    }

    /// Each user's name and hash, in file order; empty when the file is missing.
    /// - Throws: ``AccordError`` `.badInput` naming the line of a malformed entry; `.io`.
    public func load() throws -> [(name: String, hash: String)] {
        guard let file = fopen(path, "rb") else {
            if errno == ENOENT { return [] }
            throw AccordError(.io, "Cannot read the users file '\(path)': \(String(cString: strerror(errno))).")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
            guard bytes.count <= Self.maxFileBytes else {
                throw AccordError(.badInput, "The users file '\(path)' is larger than \(Self.maxFileBytes) bytes.")
            }
        }
        var users: [(String, String)] = []
        for (index, line) in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  let name = String(validating: line[..<colon], as: UTF8.self),
                  let hash = String(validating: line[(colon + 1)...], as: UTF8.self), hash.hasPrefix("$2") else {
                throw AccordError(.badInput, "Line \(index + 1) of the users file '\(path)' is not 'NAME:BCRYPT-HASH'; fix or remove it.", line: index + 1)
            }
            users.append((name, hash))
        }
        return users
    }

    /// Adds `name` with a bcrypt hash of `password` (cost ``bcryptCost``), or replaces its hash.
    ///
    /// The file is written whole to `ui/users.tmp` (mode 0600), synced, and renamed over the old one.
    /// - Parameters:
    ///   - name: the user's name, also the `actor` of what they record.
    ///   - password: the password's bytes (UTF-8, 1–72 bytes).
    /// - Throws: ``AccordError`` `.badInput` for a name that is not a valid actor or holds `:`,
    ///   an empty or too long password; `.io` when the file cannot be written.
    public func add(name: String, password: [UInt8]) throws {
        guard ActorName.isValid(name), !name.contains(":") else {
            throw AccordError(.badInput, "The user name must be a valid actor (1–\(ActorName.maxLength) bytes, no control characters) without ':'.", field: "name")
        }
        guard !password.isEmpty, password.count <= Self.maxPasswordBytes, let text = String(validating: password, as: UTF8.self) else {
            throw AccordError(.badInput, "The password must be 1–\(Self.maxPasswordBytes) bytes of UTF-8 (read from standard input, without its final newline).", field: "password")
        }
        let hash = Bcrypt.hash(text, cost: Self.bcryptCost)
        var users = try load().filter { !sameBytes($0.name, name) }
        users.append((name, hash))
        let text2 = users.map { $0.name + ":" + $0.hash + "\n" }.joined()
        let directory = String(path[..<path.lastIndex(of: "/")!])
        mkdir(directory, 0o700)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AccordError(.io, "Cannot write '\(temporary)': \(String(cString: strerror(errno))).") }
        let bytes = Array(text2.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw AccordError(.io, "Cannot write the users file '\(path)': \(String(cString: strerror(errno))).")
        }
    }

    /// Whether `password` is that of `name`. Unknown names cost one hash too, so that timing
    /// does not tell which names exist.
    /// - Parameters:
    ///   - name: the name given, compared with the file's names as bytes.
    ///   - password: the password given; longer than ``maxPasswordBytes`` is wrong.
    ///   - users: the file's entries (``load()``).
    /// - Returns: true only for a known name whose hash matches.
    public func check(name: String, password: String, users: [(name: String, hash: String)]) -> Bool {
        guard password.utf8.count <= Self.maxPasswordBytes else { return false }
        guard let user = users.first(where: { sameBytes($0.name, name) }) else {
            _ = Bcrypt.verify(password, hash: Self.dummyHash)
            return false
        }
        return Bcrypt.verify(password, hash: user.hash)
    }

    /// A hash of nothing anyone knows, checked against for unknown names.
    static let dummyHash = Bcrypt.hash("accord-no-such-user", cost: bcryptCost)
}

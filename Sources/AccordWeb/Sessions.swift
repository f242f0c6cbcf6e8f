import Synchronization

/// The web view's sessions, in memory only (Journal/UI.md §6): a random 256-bit id (64 hex
/// digits) in a cookie, the user, a CSRF token of 256 bits, and the time of the last request;
/// a session unused for ``idleSeconds`` is gone.
final class Sessions: Sendable {
    /// Seconds a session may go unused before it expires.
    static let idleSeconds: Int64 = 30 * 60
    /// Sessions kept at most; beyond it the least recently used anonymous one is dropped (a
    /// logged-in one only when all are logged in).
    static let maxSessions = 10_000
    /// The cookie's name.
    static let cookieName = "accord_session"

    struct Session: Sendable {
        var user: String?
        var csrf: String
        var lastUsed: Int64
    }

    private let table = Mutex<[String: Session]>([:])

    /// 256 random bits as 64 hex digits (`SystemRandomNumberGenerator`: `getrandom(2)` on Linux).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// The session with `id`, touched, or nil when unknown or expired.
    func session(_ id: String?, now: Int64) -> Session? {
        guard let id, id.utf8.count == 64 else { return nil }
        return table.withLock { table in
            guard var session = table[id] else { return nil }
            if now - session.lastUsed > Self.idleSeconds {
                table[id] = nil
                return nil
            }
            session.lastUsed = now
            table[id] = session
            return session
        }
    }

    /// A new session for `user` (nil: an anonymous one, which holds only a CSRF token).
    func create(user: String?, now: Int64) -> (id: String, session: Session) {
        let id = Self.randomToken()
        let session = Session(user: user, csrf: Self.randomToken(), lastUsed: now)
        table.withLock { table in
            if table.count >= Self.maxSessions {
                table = table.filter { now - $0.value.lastUsed <= Self.idleSeconds }
                // Anonymous sessions go first, so that a flood of new visitors cannot log anyone out.
                if table.count >= Self.maxSessions,
                   let oldest = table.filter({ $0.value.user == nil }).min(by: { $0.value.lastUsed < $1.value.lastUsed })
                       ?? table.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                    table[oldest.key] = nil
                }
            }
            table[id] = session
        }
        return (id, session)
    }

    func remove(_ id: String) {
        _ = table.withLock { $0.removeValue(forKey: id) }
    }
}

import AccordModel
import AccordStore
import AccordSync
import Foundation
import Glibc

/// The attacks of issue 13, each run once against `accord serve` or `accord sync` (children)
/// and reported as refused or not, with the peak memory (VmHWM) of the process attacked:
///
/// - **no-key budget**: connections naming a trusted site with a forged signature announce and
///   send 64 MiB bodies; a real sync runs meanwhile;
/// - **cross-server replay**: a captured signed pull is replayed to another server of the same
///   partnership, and to the same server;
/// - **hostile server**: `accord sync` against a server answering 1.5 GiB unsigned, 1.5 GiB
///   signed, a gzip bomb with `Content-Encoding`, a redirect;
/// - **connection flood**: four times `--max-connections` connections held open.
public enum TargetedAttacks {
    /// One attack's outcome.
    public struct Outcome: Sendable, CustomStringConvertible {
        public var name: String
        public var refused: Bool
        public var detail: String
        public var peakKiB: Int

        public var description: String {
            "\(refused ? "refused" : "NOT REFUSED")  \(name): \(detail); peak RSS \(peakKiB / 1024) MiB"
        }
    }

    struct Setup {
        let root: String
        let accord: String
        let office: EventJournal

        func serve(_ site: String, _ options: [String]) throws -> (ChildProcess, Int) {
            let out = root + "/serve-\(site).out"
            let process = try ChildProcess(accord, ["serve", "--listen", "127.0.0.1:0", "--journal", root + "/" + site] + options, stdout: out, stderr: root + "/serve-\(site).err")
            for _ in 0..<400 {
                usleep(50_000)
                let text = readText(out)
                if let range = text.range(of: "http://127.0.0.1:"), let port = Int(text[range.upperBound...].prefix { $0.isNumber }), port > 0 { return (process, port) }
            }
            process.kill(SIGTERM)
            throw CrashCampaign.SetupError(message: "accord serve for \(site) printed no port")
        }

        /// Runs `accord sync` of the office against `port`, sampling its peak memory.
        func sync(port: Int) throws -> (Int32, Int, String) {
            let err = root + "/sync.err"
            let child = try ChildProcess(accord, ["sync", "--with", "http://127.0.0.1:\(port)", "--journal", root + "/office"], stderr: err)
            var peak = 0
            while child.poll() == nil {
                if let (_, hwm) = NetworkAbuse.memory(of: child.pid) { peak = max(peak, hwm) }
                usleep(20_000)
            }
            let status: Int32 = if case .exited(let code) = child.poll()! { code } else { -1 }
            return (status, peak, readText(err).split(separator: "\n").last.map(String.init) ?? "")
        }
    }

    /// Runs every attack; the journals go under `scratch`.
    public static func run(accord: String, scratch: String, log: (String) -> Void = { _ in }) throws -> [Outcome] {
        signal(SIGPIPE, SIG_IGN)
        _ = try ChildProcess.run("/bin/rm", ["-rf", scratch], scratch: "/tmp")
        mkdir(scratch, 0o755)
        for site in ["hub", "office", "other"] {
            let made = try ChildProcess.run(accord, ["init", "--site", site, "--partnership", "abuse", "--journal", scratch + "/" + site], scratch: scratch)
            guard made.status == 0 else { throw CrashCampaign.SetupError(message: made.stderr) }
        }
        for (from, to) in [("hub", "office"), ("office", "hub"), ("other", "office"), ("office", "other")] {
            try Data(contentsOf: URL(fileURLWithPath: scratch + "/\(from)/keys/\(from).pub")).write(to: URL(fileURLWithPath: scratch + "/\(to)/keys/\(from).pub"))
        }
        let setup = Setup(root: scratch, accord: accord, office: try EventJournal(opening: scratch + "/office"))
        var outcomes: [Outcome] = []
        log("no-key budget attack…")
        outcomes.append(try noKeyBudget(setup))
        log("cross-server replay…")
        outcomes += try replay(setup)
        log("hostile server…")
        outcomes += try hostileServer(setup)
        log("connection flood…")
        outcomes.append(try flood(setup))
        return outcomes
    }

    static func noKeyBudget(_ setup: Setup) throws -> Outcome {
        let (server, port) = try setup.serve("hub", [])
        defer { server.kill(SIGTERM); _ = server.wait() }
        let body = [UInt8](repeating: 0x7b, count: 64 << 20)
        let answers = Answers()
        var threads: [Thread] = []
        for _ in 0..<4 {
            var forged = try RequestSigning.headers(for: setup.office, method: "POST", path: "/v1/push", body: [], to: "hub")
            forged[RequestSigning.signatureHeader] = Base64.encode([UInt8](repeating: 9, count: 64))
            let request = httpRequest("POST", "/v1/push", headers: forged, contentLength: body.count)
            let thread = Thread {
                guard let connection = RawConnection(port: port, timeout: 30) else { return }
                connection.send(request)
                connection.send(body)
                let status = connection.readResponse()?.status ?? 0
                answers.lock.withLock { answers.statuses.append(status) }
            }
            thread.start()
            threads.append(thread)
        }
        let (sync, _, last) = try setup.sync(port: port)
        while answers.lock.withLock({ answers.statuses.count }) < 4 { usleep(50_000) }
        let answered = answers.lock.withLock { answers.statuses }
        let peak = NetworkAbuse.memory(of: server.pid)?.hwm ?? 0
        let all401 = answered.allSatisfy { $0 == 401 }
        return Outcome(name: "no-key budget (4 × 64 MiB, forged signature)", refused: all401 && sync == 0, detail: "forged requests got \(answered.sorted()), a real sync meanwhile exited \(sync)\(sync == 0 ? "" : " (\(last))")", peakKiB: peak)
    }

    final class Answers: @unchecked Sendable {
        let lock = NSLock()
        var statuses: [Int] = []
    }

    static func replay(_ setup: Setup) throws -> [Outcome] {
        let (hub, hubPort) = try setup.serve("hub", [])
        let (other, otherPort) = try setup.serve("other", [])
        defer {
            for server in [hub, other] { server.kill(SIGTERM); _ = server.wait() }
        }
        let body = Array(#"{"vector":{}}"#.utf8)
        let captured = httpRequest("POST", "/v1/pull", headers: try RequestSigning.headers(for: setup.office, method: "POST", path: "/v1/pull", body: body, to: "hub"), body: body)
        let first = RawConnection.exchange(port: hubPort, captured)?.status ?? 0
        let elsewhere = RawConnection.exchange(port: otherPort, captured)?.status ?? 0
        let again = RawConnection.exchange(port: hubPort, captured)?.status ?? 0
        return [
            Outcome(name: "replay of a pull to another site of the partnership", refused: elsewhere == 401, detail: "original \(first), replay to 'other' \(elsewhere)", peakKiB: NetworkAbuse.memory(of: other.pid)?.hwm ?? 0),
            Outcome(name: "replay of a pull to the same server", refused: again == 401, detail: "replay \(again)", peakKiB: NetworkAbuse.memory(of: hub.pid)?.hwm ?? 0),
        ]
    }

    static func hostileServer(_ setup: Setup) throws -> [Outcome] {
        let huge = 3 << 29
        let hub = try EventJournal(opening: setup.root + "/hub")
        @Sendable func signedHead(_ request: HostileServer.Request, length: Int, hash: String, extra: [String] = []) -> String {
            let text = RequestSigning.responseText(status: 200, method: request.method, path: request.path, nonce: request.headers["accord-nonce"] ?? "", site: "hub", length: length, contentHash: hash)
            let signature = (try? hub.signingKey().sign(text)).map(Base64.encode) ?? ""
            return (["HTTP/1.1 200 OK", "Content-Length: \(length)", "Accord-Site: hub", "Accord-Content-SHA256: \(hash)", "Accord-Signature: \(signature)"] + extra).joined(separator: "\r\n")
        }
        let bomb = setup.root + "/bomb.gz"
        _ = try ChildProcess.run("/bin/sh", ["-c", "head -c 2147483648 /dev/zero | gzip -1 > '\(bomb)'"], scratch: setup.root, timeout: 600)
        let bombBytes = readBytes(bomb)
        let bombHash = Digest.sha256Hex(bombBytes)
        let cases: [(String, @Sendable (HostileServer.Request) -> HostileServer.Answer)] = [
            ("hostile server: 1.5 GiB unsigned", { _ in .init(head: "HTTP/1.1 200 OK\r\nContent-Length: \(huge)", bodyBytes: huge) }),
            ("hostile server: 1.5 GiB signed by a trusted key", { request in .init(head: signedHead(request, length: huge, hash: String(repeating: "0", count: 64)), bodyBytes: huge) }),
            ("hostile server: gzip of 2 GiB of zeros (\(bombBytes.count / 1024) KiB), Content-Encoding: gzip", { request in .init(head: signedHead(request, length: bombBytes.count, hash: bombHash, extra: ["Content-Encoding: gzip"]), body: bombBytes) }),
            ("hostile server: redirect", { _ in .init(head: "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/v1/vector\r\nContent-Length: 0") }),
        ]
        var outcomes: [Outcome] = []
        for (name, answer) in cases {
            guard let server = HostileServer(answer: answer) else { throw CrashCampaign.SetupError(message: "cannot listen") }
            let (status, peak, last) = try setup.sync(port: server.port)
            outcomes.append(Outcome(name: name, refused: status != 0 && server.bytesSent < 32 << 20, detail: "accord sync exited \(status), accepted \(server.bytesSent) body bytes: \(last.prefix(160))", peakKiB: peak))
            server.stop()
        }
        return outcomes
    }

    static func flood(_ setup: Setup) throws -> Outcome {
        let cap = 64
        let (server, port) = try setup.serve("hub", ["--max-connections", String(cap), "--idle-timeout", "5"])
        defer { server.kill(SIGTERM); _ = server.wait() }
        var connections: [RawConnection] = []
        for _ in 0..<(4 * cap) {
            if let connection = RawConnection(port: port, timeout: 5) { connections.append(connection) }
        }
        usleep(500_000)
        let closed = connections.filter { $0.serverClosedOrAnswered() }.count
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count) ?? -1
        connections.removeAll()
        // Once the flood is gone, a real sync is served (after the server sees the closes).
        var status: Int32 = -1
        for _ in 0..<20 where status != 0 {
            status = try setup.sync(port: port).0
            if status != 0 { usleep(250_000) }
        }
        let peak = NetworkAbuse.memory(of: server.pid)?.hwm ?? 0
        return Outcome(name: "connection flood (\(4 * cap) connections, --max-connections \(cap))", refused: closed >= 3 * cap && status == 0, detail: "\(closed) closed at once, server held \(descriptors) descriptors, a sync afterwards exited \(status)", peakKiB: peak)
    }
}

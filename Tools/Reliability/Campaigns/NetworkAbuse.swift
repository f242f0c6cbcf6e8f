import AccordModel
import AccordStore
import AccordSync
import AccordTesting
import Foundation

/// The network abuse campaign (issue 5, part 5): one `accord serve` (a child process) on a hub
/// journal, and many concurrent clients over loopback for a while:
///
/// - **valid** clients, each with its own office journal: `accord append --from FILE` then
///   `accord sync --with http://…` (child processes), again and again;
/// - **hostile** clients on raw POSIX sockets: garbage bytes, broken request lines, huge
///   headers, unknown paths and methods, unsigned, wrongly signed, stale and untrusted requests,
///   bad pull bodies and bad bundles, oversized bodies (announced and sent, and chunked), and
///   replays of signed vector, pull and push requests (admitted once, then refused by their nonce);
/// - **slow-drip** (slowloris) clients: connections that send a request a byte at a time,
///   headers or body, and never finish.
///
/// Checks: the server stays up and still answers at the end; its memory (VmRSS, VmHWM from
/// `/proc`) stays bounded; every event of a push that got exit 0 from `accord sync` is in the
/// hub's journal; after a final round of syncs every journal has the hub's state digest.
public enum NetworkAbuse {
    public struct Settings: Sendable {
        public var accord: String
        public var scratch: String
        /// Concurrent clients in all; two in five are valid syncing offices, one in five drips.
        public var clients = 50
        /// How long the load lasts, in seconds.
        public var seconds = 60.0
        /// The server's `--max-body` (oversized requests send one byte more).
        public var maxBody = 1 << 20
        /// Slow connections each slow-drip client holds at once.
        public var slowConnectionsPerClient = 10
        /// Seconds between two bytes of a slow connection.
        public var dripInterval = 1.0
        /// The server's `--idle-timeout` and `--request-timeout`, in seconds: short, so that a
        /// short run sees slow connections cut.
        public var idleTimeout = 5.0
        public var requestTimeout = 10.0
        public var log: @Sendable (String) -> Void = { _ in }

        public init(accord: String, scratch: String) {
            self.accord = accord
            self.scratch = scratch
        }
    }

    /// What the campaign saw.
    public struct Report: Sendable, CustomStringConvertible {
        public var clients = 0, validClients = 0, hostileClients = 0, slowClients = 0
        public var seconds = 0.0
        /// Answers the clients received, by HTTP status (hostile requests and the requests of
        /// valid syncs as the server logged them).
        public var answersByStatus: [Int: Int] = [:]
        /// Hostile requests that got no answer (the server closed the connection or the client
        /// gave up), by kind.
        public var unansweredByKind: [String: Int] = [:]
        /// Hostile requests sent, by kind, and the statuses they got.
        public var hostileByKind: [String: [Int: Int]] = [:]
        /// Requests the server logged, by status.
        public var serverLoggedByStatus: [Int: Int] = [:]
        public var validSyncs = 0, validSyncsFailed = 0
        public var validSyncFailuresByExit: [Int32: Int] = [:]
        public var validSyncSecondsMedian = 0.0, validSyncSecondsMax = 0.0
        public var eventsAppended = 0
        /// Events whose push was acknowledged (a later `accord sync` exited 0).
        public var eventsPushedAndAcknowledged = 0
        /// Of those, missing from the hub's journal at the end (must be 0).
        public var acknowledgedButMissing = 0
        public var slowConnectionsOpened = 0
        public var slowConnectionsClosedByServer = 0
        public var slowConnectionsOpenAtEnd = 0
        public var slowLongestHeldSeconds = 0.0
        /// Times the server process was found dead (must be 0).
        public var serverCrashes = 0
        public var serverAnsweredAtEnd = false
        public var rssStartKiB = 0, rssPeakKiB = 0, rssEndKiB = 0, hwmKiB = 0
        public var rssSamples = 0
        public var hubVerifiedClean = false
        public var converged = false
        public var digests = 0
        public var failures: [String] = []
        /// The gate probes (``GateProbes``): an hlc bomb, a weak key, an unsigned directory and
        /// bundle bombs, each of which must be refused.
        public var gateProbes: [GateProbes.Probe] = []
        /// The first few reasons valid syncs failed (busy answers under load are allowed).
        public var notes: [String] = []

        public var passed: Bool {
            serverCrashes == 0 && serverAnsweredAtEnd && acknowledgedButMissing == 0 && converged && hubVerifiedClean && failures.isEmpty
        }

        public var description: String {
            func statuses(_ table: [Int: Int]) -> String { table.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)): \($0.value)" }.joined(separator: ", ") }
            var lines = [
                "\(clients) clients (\(validClients) valid offices, \(hostileClients) hostile, \(slowClients) slow-drip) for \(Int(seconds)) s",
                "answers to hostile requests by status: \(statuses(answersByStatus))",
                "server log, requests by status: \(statuses(serverLoggedByStatus)) (total \(serverLoggedByStatus.values.reduce(0, +)))",
                "valid syncs \(validSyncs) (failed \(validSyncsFailed)\(validSyncFailuresByExit.isEmpty ? "" : ", by exit: " + validSyncFailuresByExit.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))), seconds per sync median \(String(format: "%.2f", validSyncSecondsMedian)), max \(String(format: "%.2f", validSyncSecondsMax))",
                "events appended \(eventsAppended), pushed with an acknowledged sync \(eventsPushedAndAcknowledged), missing from the hub \(acknowledgedButMissing)",
                "slow-drip connections opened \(slowConnectionsOpened), closed by the server \(slowConnectionsClosedByServer), still open at the end \(slowConnectionsOpenAtEnd), longest held \(String(format: "%.1f", slowLongestHeldSeconds)) s",
                "server: crashes \(serverCrashes), answered at the end \(serverAnsweredAtEnd); RSS start \(rssStartKiB / 1024) MiB, peak \(rssPeakKiB / 1024) MiB, end \(rssEndKiB / 1024) MiB, VmHWM \(hwmKiB / 1024) MiB (\(rssSamples) samples)",
                "hub verifies clean \(hubVerifiedClean); \(digests) journals converged to one state digest: \(converged)",
            ]
            for (kind, table) in hostileByKind.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(kind): \(table.values.reduce(0, +)) sent; \(statuses(table))")
            }
            for probe in gateProbes { lines.append("gate probe, \(probe)") }
            for note in notes { lines.append("  note: " + note) }
            for failure in failures.prefix(20) { lines.append("  FAILED: " + failure) }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the campaign.
    /// - Throws: ``CrashCampaign/SetupError`` or ``SpawnError`` when the journals or the server
    ///   cannot be set up; everything after that is counted in the report.
    public static func run(_ settings: Settings) throws -> Report {
        signal(SIGPIPE, SIG_IGN)
        let root = settings.scratch
        _ = try ChildProcess.run("/bin/rm", ["-rf", root], scratch: "/tmp")
        mkdir(root, 0o755)
        let offices = max(1, settings.clients * 2 / 5)
        let slow = max(1, settings.clients / 5)
        let hostile = max(1, settings.clients - offices - slow)
        var report = Report()
        report.clients = offices + slow + hostile
        report.validClients = offices
        report.slowClients = slow
        report.hostileClients = hostile
        report.seconds = settings.seconds
        // The gate first, on journals of its own: each attack must be refused.
        report.gateProbes = try GateProbes.run(accord: settings.accord, scratch: root + "/gate")
        for probe in report.gateProbes where !probe.refused { report.failures.append("gate probe not refused: \(probe)") }
        settings.log(report.gateProbes.map { "gate probe, \($0)" }.joined(separator: "\n"))

        // Journals: the hub, the offices, and an intruder nobody trusts.
        let officeSites = (1...offices).map { "office-\($0)" }
        let sites = ["hub"] + officeSites
        for site in sites + ["intruder"] {
            let made = try ChildProcess.run(settings.accord, ["init", "--site", site, "--partnership", "abuse", "--journal", root + "/" + site], scratch: root)
            guard made.status == 0 else { throw CrashCampaign.SetupError(message: "accord init failed: \(made.stderr)") }
        }
        // Everyone in `sites` trusts everyone else: the public key files (Format.md §8).
        for site in sites {
            let key = readBytes(root + "/\(site)/keys/\(site).pub")
            for other in sites where other != site { writeBytes(root + "/\(other)/keys/\(site).pub", key) }
        }
        writeBytes(root + "/intruder/keys/hub.pub", readBytes(root + "/hub/keys/hub.pub"))

        let server = try ChildProcess(settings.accord, ["serve", "--listen", "127.0.0.1:0", "--journal", root + "/hub", "--max-body", String(settings.maxBody), "--idle-timeout", String(settings.idleTimeout), "--request-timeout", String(settings.requestTimeout)], stdout: root + "/serve.out", stderr: root + "/serve.err")
        var port = 0
        for _ in 0..<600 where port == 0 {
            sleepSeconds(0.05)
            let text = readText(root + "/serve.out")
            if let range = text.range(of: "http://127.0.0.1:") { port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0 }
            if server.poll() != nil { break }
        }
        guard port > 0 else {
            server.kill(SIGKILL)
            throw CrashCampaign.SetupError(message: "accord serve did not start: \(readText(root + "/serve.err").prefix(300))")
        }
        let url = "http://127.0.0.1:\(port)"
        let boundPort = port
        settings.log("server pid \(server.pid) at \(url); \(offices) offices, \(hostile) hostile, \(slow) slow-drip clients for \(Int(settings.seconds)) s")

        // Material for signed and replayed requests, made in this process.
        let first = try ChildProcess.run(settings.accord, ["append", "action.proposed.v1", "--subject", "action/office-1-seed", "--data", #"{"title":"Seed","pillar":"value-chain-integration"}"#, "--journal", root + "/office-1"], scratch: root)
        guard first.status == 0 else { throw CrashCampaign.SetupError(message: "accord append failed: \(first.stderr)") }
        let signer = try EventJournal(opening: root + "/office-1")
        let intruder = try EventJournal(opening: root + "/intruder")
        let pushBody = try AccordSync.Bundle.make(from: signer, beyond: VersionVector()).encoded()
        let pullBody = Array(#"{"vector":{}}"#.utf8)
        let replays = [
            httpRequest("GET", "/v1/vector", headers: try RequestSigning.headers(for: signer, method: "GET", path: "/v1/vector", body: [], to: "hub")),
            httpRequest("POST", "/v1/pull", headers: try RequestSigning.headers(for: signer, method: "POST", path: "/v1/pull", body: pullBody, to: "hub"), body: pullBody),
            httpRequest("POST", "/v1/push", headers: try RequestSigning.headers(for: signer, method: "POST", path: "/v1/push", body: pushBody, to: "hub"), body: pushBody),
        ]
        let tally = Tally()
        tally.acknowledged.insert("action/office-1-seed")
        tally.appended = 1
        let deadline = Clock.now + settings.seconds

        // Memory of the server over time.
        let sampler = Worker {
            while Clock.now < deadline + 1 {
                if let (rss, hwm) = memory(of: server.pid) { tally.sample(rss: rss, hwm: hwm) }
                sleepSeconds(0.25)
            }
        }
        var workers: [Worker] = [sampler]
        for (index, site) in officeSites.enumerated() {
            workers.append(Worker {
                validClient(site: site, index: index, root: root, url: url, accord: settings.accord, deadline: deadline, tally: tally)
            })
        }
        for index in 0..<hostile {
            workers.append(Worker {
                var rng = SeededRandom(seed: UInt64(index) &+ 1000)
                while Clock.now < deadline {
                    hostileRequest(&rng, port: boundPort, maxBody: settings.maxBody, signer: signer, intruder: intruder, replays: replays, tally: tally)
                }
            })
        }
        for _ in 0..<slow {
            workers.append(Worker {
                slowDrip(port: boundPort, connections: settings.slowConnectionsPerClient, interval: settings.dripInterval, deadline: deadline, signer: signer, tally: tally)
            })
        }
        var lastReport = Clock.now
        while Clock.now < deadline {
            sleepSeconds(0.5)
            if server.poll() != nil { break }
            if Clock.now - lastReport >= 10 {
                lastReport = Clock.now
                settings.log(tally.progress())
            }
        }
        for worker in workers { worker.join() }

        // The end: the server is up and answers, the pushes are durable, the journals converge.
        tally.fill(&report)
        for kind in ["replay-vector", "replay-pull", "replay-push"] where (report.hostileByKind[kind]?[200] ?? 0) > 1 {
            report.failures.append("a captured \(kind) request was admitted \(report.hostileByKind[kind]![200]!) times; its nonce admits it once")
        }
        if server.poll() != nil {
            report.serverCrashes += 1
            report.failures.append("the server exited during the campaign: \(server.poll()!); \(readText(root + "/serve.err").suffix(500))")
        }
        let vector = try httpRequest("GET", "/v1/vector", headers: RequestSigning.headers(for: signer, method: "GET", path: "/v1/vector", body: [], to: "hub"))
        report.serverAnsweredAtEnd = RawConnection.exchange(port: port, vector, timeout: 30)?.status == 200
        if let (rss, _) = memory(of: server.pid) { report.rssEndKiB = rss }
        if let hub = try? hubSubjects(root: root, accord: settings.accord) {
            report.acknowledgedButMissing = tally.acknowledged.subtracting(hub).count
        } else {
            report.failures.append("accord log on the hub failed")
        }
        var digests: Set<String> = []
        for _ in 0..<2 {
            for site in officeSites {
                let sync = try ChildProcess.run(settings.accord, ["sync", "--with", url, "--journal", root + "/" + site], scratch: root, environment: ["ACCORD_LOCK_TIMEOUT": "120"])
                if sync.status != 0 { report.failures.append("final sync of \(site) exited \(sync.status): \(sync.stderr.prefix(200))") }
            }
        }
        for site in sites {
            let digest = try ChildProcess.run(settings.accord, ["state", "--digest", "--journal", root + "/" + site], scratch: root)
            if digest.status == 0 { digests.insert(digest.stdout.trimmingCharacters()) }
        }
        report.digests = sites.count
        report.converged = digests.count == 1
        // No slow connection may outlive the server's limits (plus a drip and some slack).
        let bound = settings.idleTimeout + settings.requestTimeout + settings.dripInterval + 5
        if report.slowLongestHeldSeconds > bound, settings.seconds > bound {
            report.failures.append("a slow-drip connection was held \(Int(report.slowLongestHeldSeconds)) s, beyond the server's idle and request timeouts (\(Int(bound)) s with slack)")
        }
        server.kill(SIGTERM)
        let (stopped, timedOut) = server.wait(atMost: 30)
        if timedOut || stopped != .exited(0) { report.failures.append("the server did not stop cleanly on SIGTERM: \(stopped)\(timedOut ? " (killed after 30 s)" : "")") }
        report.hubVerifiedClean = (try ChildProcess.run(settings.accord, ["verify", "--journal", root + "/hub"], scratch: root)).status == 0
        for line in (readText(root + "/serve.out") + readText(root + "/serve.err")).split(separator: "\n") {
            // "POST /v1/push 200 site=office-3 appended=4"
            let words = line.split(separator: " ")
            if let at = words.firstIndex(where: { $0.hasPrefix("/") }), at + 1 < words.count, let status = Int(words[at + 1]), (100...599).contains(status) {
                report.serverLoggedByStatus[status, default: 0] += 1
            }
        }
        return report
    }

    /// VmRSS and VmHWM of `pid`, in KiB.
    public static func memory(of pid: pid_t) -> (rss: Int, hwm: Int)? {
        let text = readText("/proc/\(pid)/status")
        func field(_ name: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        guard let rss = field("VmRSS"), let hwm = field("VmHWM") else { return nil }
        return (rss, hwm)
    }

    static func hubSubjects(root: String, accord: String) throws -> Set<String> {
        let log = try ChildProcess.run(accord, ["log", "--json", "--journal", root + "/hub"], scratch: root)
        guard log.status == 0 else { throw CrashCampaign.SetupError(message: log.stderr) }
        var result: Set<String> = []
        for line in log.stdout.split(separator: "\n") {
            if case .object(let record)? = try? JSONParser.parse(Array(line.utf8)), let subject = record["subject"]?.stringValue { result.insert(subject) }
        }
        return result
    }

    /// A valid office: append a few events, sync, again and again. Events appended before a
    /// sync that exits 0 must be in the hub's journal.
    static func validClient(site: String, index: Int, root: String, url: String, accord: String, deadline: Double, tally: Tally) {
        let journal = root + "/" + site
        let scratch = root + "/work-\(site)"
        mkdir(scratch, 0o755)
        var pending: [String] = []
        var round = 0
        var rng = SeededRandom(seed: UInt64(index) &+ 7)
        while Clock.now < deadline {
            round += 1
            let count = Int.random(in: 1...20, using: &rng)
            let subjects = (0..<count).map { "action/\(site)-\(round)-\($0)" }
            let lines = subjects.map { #"{"type":"action.proposed.v1","subject":"\#($0)","data":{"title":"Round \#(round) of \#(site)","pillar":"skills-research-innovation"}}"# }
            writeBytes(scratch + "/batch.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
            if let append = try? ChildProcess.run(accord, ["append", "--from", scratch + "/batch.jsonl", "--journal", journal], scratch: scratch, environment: ["ACCORD_LOCK_TIMEOUT": "120"]), append.status == 0 {
                pending += subjects
                tally.appended(count)
            }
            let started = Clock.now
            guard let sync = try? ChildProcess.run(accord, ["sync", "--with", url, "--journal", journal], scratch: scratch, environment: ["ACCORD_LOCK_TIMEOUT": "120"]) else { continue }
            tally.synced(status: sync.status, seconds: Clock.now - started, acknowledged: sync.status == 0 ? pending : [])
            if sync.status != 0 { tally.note("\(site): accord sync exited \(sync.status): \(sync.stderr.prefix(200))") }
            if sync.status == 0 { pending = [] }
        }
    }

    /// The hostile request kinds, with how each is built.
    static let hostileKinds = [
        "garbage", "broken-request-line", "huge-header", "unknown-path", "wrong-method", "unsigned", "bad-signature",
        "stale-time", "untrusted-site", "bad-pull-body", "bad-bundle", "oversized-body", "oversized-chunked",
        "oversized-announced", "max-size-unsigned", "max-size-untrusted", "replay-vector", "replay-pull", "replay-push",
    ]

    /// A body of `count` bytes is sent from this one buffer, a MiB at a time.
    static let filler = [UInt8](repeating: 0x7b, count: 1 << 20)

    static func hostileRequest(_ rng: inout SeededRandom, port: Int, maxBody: Int, signer: EventJournal, intruder: EventJournal, replays: [[UInt8]], tally: Tally) {
        let kind = hostileKinds.randomElement(using: &rng)!
        func signed(_ journal: EventJournal, _ method: String, _ path: String, _ body: [UInt8], now: Timestamp = .now()) -> [String: String] {
            (try? RequestSigning.headers(for: journal, method: method, path: path, body: body, to: "hub", now: now)) ?? [:]
        }
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        var request: [UInt8]
        var closeAfter: Double?
        var streamed = 0
        switch kind {
        case "garbage": request = random(Int.random(in: 1...4096, using: &rng))
        case "broken-request-line": request = Array("GET\r\nAccord-Site: office-1\r\n\r\n".utf8)
        case "huge-header": request = httpRequest("GET", "/v1/vector", headers: ["X-Padding": String(repeating: "a", count: 200_000)])
        case "unknown-path": request = httpRequest("GET", "/v1/secrets", headers: signed(signer, "GET", "/v1/secrets", []))
        case "wrong-method": request = httpRequest("GET", "/v1/push", headers: signed(signer, "GET", "/v1/push", []))
        case "unsigned": request = httpRequest("POST", "/v1/pull", body: Array(#"{"vector":{}}"#.utf8))
        case "bad-signature":
            var headers = signed(signer, "POST", "/v1/pull", [])
            headers[RequestSigning.signatureHeader] = Base64.encode(random(64))
            request = httpRequest("POST", "/v1/pull", headers: headers, body: Array(#"{"vector":{}}"#.utf8))
        case "stale-time":
            let old = Timestamp(seconds: Timestamp.now().seconds - 3600, nanoseconds: 0)
            request = httpRequest("GET", "/v1/vector", headers: signed(signer, "GET", "/v1/vector", [], now: old))
        case "untrusted-site": request = httpRequest("GET", "/v1/vector", headers: signed(intruder, "GET", "/v1/vector", []))
        case "bad-pull-body":
            let body = Array(#"{"vector":"#.utf8) + random(16)
            request = httpRequest("POST", "/v1/pull", headers: signed(signer, "POST", "/v1/pull", body), body: body)
        case "bad-bundle":
            let body = random(Int.random(in: 1...65536, using: &rng))
            request = httpRequest("POST", "/v1/push", headers: signed(signer, "POST", "/v1/push", body), body: body)
        case "oversized-body":
            let body = [UInt8](repeating: 0x41, count: maxBody + 1)
            request = httpRequest("POST", "/v1/push", headers: signed(signer, "POST", "/v1/push", body), body: body)
        case "oversized-chunked":
            var text = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            for (name, value) in signed(signer, "POST", "/v1/push", []) { text += "\(name): \(value)\r\n" }
            text += "\r\n"
            let chunk = String(repeating: "B", count: 65536)
            for _ in 0..<(maxBody / 65536 + 2) { text += "10000\r\n" + chunk + "\r\n" }
            request = Array((text + "0\r\n\r\n").utf8)
        case "oversized-announced":
            // Announces 10 GB, sends 64 KiB, then gives up after 2 s unless answered.
            request = httpRequest("POST", "/v1/push", headers: signed(signer, "POST", "/v1/push", []), body: random(65536), contentLength: 10_000_000_000)
            closeAfter = 2
        case "max-size-unsigned":
            // A body the server may accept by size, from nobody: refusable from the headers.
            request = httpRequest("POST", "/v1/push", contentLength: maxBody)
            streamed = maxBody
        case "max-size-untrusted":
            request = httpRequest("POST", "/v1/push", headers: signed(intruder, "POST", "/v1/push", []), contentLength: maxBody)
            streamed = maxBody
        case "replay-vector": request = replays[0]
        case "replay-pull": request = replays[1]
        default: request = replays[2]
        }
        guard let connection = RawConnection(port: port, timeout: closeAfter ?? 20) else {
            tally.hostile(kind, status: 0)
            sleepSeconds(0.05)
            return
        }
        var sending = connection.send(request)
        while sending, streamed > 0, !connection.serverClosedOrAnswered() {
            let part = min(streamed, filler.count)
            sending = connection.send(part == filler.count ? filler : Array(filler[0..<part]))
            streamed -= part
        }
        let answer = connection.readResponse()
        tally.hostile(kind, status: answer?.status ?? 0)
        // Request signing version 2 (SyncProtocol.md §4.3.1): a captured request is admitted
        // once (its first use here) and refused by its nonce (401) every time after that.
        if kind.hasPrefix("replay"), let status = answer?.status, status != 200, status != 401 {
            tally.fail("a replayed \(kind) got \(status), not 401 (a replay is refused by its nonce)")
        }
        if !kind.hasPrefix("replay"), answer?.status == 200 {
            tally.fail("the hostile request '\(kind)' got 200")
        }
    }

    /// Holds `connections` connections that send a request one byte per `interval`: half never
    /// finish their headers, half announce a body and drip it. A connection the server closes is
    /// replaced by a new one.
    static func slowDrip(port: Int, connections: Int, interval: Double, deadline: Double, signer: EventJournal, tally: Tally) {
        struct Slow {
            var connection: RawConnection
            var bytes: [UInt8]
            var sent = 0
            let opened: Double
        }
        var serial = 0
        func open() -> Slow? {
            serial += 1
            guard let connection = RawConnection(port: port, timeout: 5) else { return nil }
            tally.slowOpened()
            // A third never finish their headers; a third drip an unsigned body; a third drip a
            // body whose signature (by a trusted site) can only be checked once it has arrived.
            let body = [UInt8](repeating: 0x7b, count: 100_000)
            let bytes: [UInt8]
            switch serial % 3 {
            case 0: bytes = Array("POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAccord-Site: office-1\r\nX-Slow: \(String(repeating: "z", count: 4000))\r\n\r\n".utf8)
            case 1: bytes = httpRequest("POST", "/v1/push", body: body)
            default: bytes = httpRequest("POST", "/v1/push", headers: (try? RequestSigning.headers(for: signer, method: "POST", path: "/v1/push", body: body, to: "hub")) ?? [:], body: body)
            }
            return Slow(connection: connection, bytes: bytes, opened: Clock.now)
        }
        var slows: [Slow] = (0..<connections).compactMap { _ in open() }
        while Clock.now < deadline {
            sleepSeconds(interval)
            for index in slows.indices.reversed() {
                if slows[index].connection.serverClosedOrAnswered() || slows[index].sent >= slows[index].bytes.count
                    || !slows[index].connection.send([slows[index].bytes[slows[index].sent]]) {
                    tally.slowClosed(after: Clock.now - slows[index].opened)
                    slows.remove(at: index)
                    if let replacement = open() { slows.append(replacement) }
                    continue
                }
                slows[index].sent += 1
            }
        }
        for slow in slows { tally.slowStillOpen(after: Clock.now - slow.opened) }
    }

    /// Counts shared by the workers.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        var acknowledged: Set<String> = []
        var appended = 0
        private var statuses: [Int: Int] = [:]
        private var byKind: [String: [Int: Int]] = [:]
        private var syncs = 0, syncFailures = 0
        private var syncExits: [Int32: Int] = [:]
        private var syncSeconds: [Double] = []
        private var slowOpen = 0, slowClosedByServer = 0, slowAtEnd = 0
        private var slowLongest = 0.0
        private var rssFirst = 0, rssPeak = 0, hwm = 0, samples = 0
        private var failures: [String] = []

        private func locked<T>(_ body: () -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body()
        }

        func appended(_ count: Int) { locked { appended += count } }
        func synced(status: Int32, seconds: Double, acknowledged events: [String]) {
            locked {
                syncs += 1
                syncSeconds.append(seconds)
                if status != 0 {
                    syncFailures += 1
                    syncExits[status, default: 0] += 1
                }
                acknowledged.formUnion(events)
            }
        }
        func hostile(_ kind: String, status: Int) {
            locked {
                statuses[status, default: 0] += 1
                byKind[kind, default: [:]][status, default: 0] += 1
            }
        }
        func fail(_ message: String) { locked { if failures.count < 100 { failures.append(message) } } }
        private var notes: [String] = []
        /// Something worth showing that is not a failure (e.g. why a valid sync was refused).
        func note(_ message: String) { locked { if notes.count < 5 { notes.append(message) } } }
        func slowOpened() { locked { slowOpen += 1 } }
        func slowClosed(after seconds: Double) {
            locked {
                slowClosedByServer += 1
                slowLongest = max(slowLongest, seconds)
            }
        }
        func slowStillOpen(after seconds: Double) {
            locked {
                slowAtEnd += 1
                slowLongest = max(slowLongest, seconds)
            }
        }
        func sample(rss: Int, hwm: Int) {
            locked {
                if samples == 0 { rssFirst = rss }
                samples += 1
                rssPeak = max(rssPeak, rss)
                self.hwm = max(self.hwm, hwm)
            }
        }
        func progress() -> String {
            locked {
                "answers \(statuses.values.reduce(0, +)) (\(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))); valid syncs \(syncs), failed \(syncFailures); slow open \(slowOpen - slowClosedByServer - slowAtEnd); RSS peak \(rssPeak / 1024) MiB"
            }
        }
        func fill(_ report: inout Report) {
            locked {
                report.answersByStatus = statuses
                report.hostileByKind = byKind
                report.unansweredByKind = byKind.compactMapValues { $0[0] }
                report.validSyncs = syncs
                report.validSyncsFailed = syncFailures
                report.validSyncFailuresByExit = syncExits
                let sorted = syncSeconds.sorted()
                report.validSyncSecondsMedian = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
                report.validSyncSecondsMax = sorted.last ?? 0
                report.eventsAppended = appended
                report.eventsPushedAndAcknowledged = acknowledged.count
                report.slowConnectionsOpened = slowOpen
                report.slowConnectionsClosedByServer = slowClosedByServer
                report.slowConnectionsOpenAtEnd = slowAtEnd
                report.slowLongestHeldSeconds = slowLongest
                report.rssStartKiB = rssFirst
                report.rssPeakKiB = rssPeak
                report.hwmKiB = hwm
                report.rssSamples = samples
                report.failures += failures
                report.notes = notes
            }
        }
    }
}

/// A thread running `body`, joined with ``join()``.
final class Worker: @unchecked Sendable {
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() { done.wait() }
}

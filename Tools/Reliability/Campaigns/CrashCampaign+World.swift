import AccordModel
import AccordTesting
import Glibc

extension CrashCampaign {
    /// Three journals that trust one another, one of them served over HTTP, and the ledger of
    /// what was submitted to them.
    public final class World: @unchecked Sendable {
        /// The site of each journal.
        public static let sites = ["a": "brussels", "b": "astana", "c": "lisbon"]
        public let root: String
        public let accord: String
        var ledger = Ledger()
        var server: ChildProcess?
        private var url: String?
        /// What each journal held at its last check: subject → id.
        private var seen: [String: [String: String]] = [:]
        /// The id each subject was first seen with, in any journal.
        private var idOf: [String: String] = [:]

        struct Ledger {
            var batches: [Batch] = []
            var reported: Set<Int> = []
        }

        init(root: String, accord: String, seed: UInt64) throws {
            self.root = root
            self.accord = accord
            _ = try ChildProcess.run("/bin/rm", ["-rf", root], scratch: "/tmp")
            guard mkdir(root, 0o755) == 0 || errno == EEXIST else { throw SetupError(message: "Cannot create '\(root)'.") }
            var keys: [String: String] = [:]
            for (name, site) in Self.sites.sorted(by: { $0.key < $1.key }) {
                let made = try ChildProcess.run(accord, ["init", "--site", site, "--partnership", "crash-campaign", "--journal", path(name)], scratch: root)
                guard made.status == 0, let range = made.stdout.range(of: "peers): ") else { throw SetupError(message: "accord init failed: \(made.stderr)") }
                keys[site] = String(made.stdout[range.upperBound...].prefix { !$0.isWhitespace })
            }
            for (name, site) in Self.sites {
                for (otherSite, key) in keys where otherSite != site {
                    let added = try ChildProcess.run(accord, ["peer", "add", otherSite, "--key", key, "--journal", path(name)], scratch: root)
                    guard added.status == 0 else { throw SetupError(message: "accord peer add failed: \(added.stderr)") }
                }
            }
        }

        /// The directory of journal `name` (`a`, `b` or `c`).
        public func path(_ name: String) -> String { root + "/" + name }

        /// `http://127.0.0.1:PORT` of `accord serve` on `c`, started if it is not running.
        public func serverURL() throws -> String {
            if let server, server.poll() == nil, let url { return url }
            let out = root + "/serve.out"
            unlink(out)
            let child = try ChildProcess(accord, ["serve", "--listen", "127.0.0.1:0", "--journal", path("c")], stdout: out, stderr: root + "/serve.err")
            for _ in 0..<600 {
                sleepSeconds(0.05)
                let text = readText(out)
                if let range = text.range(of: "http://127.0.0.1:") {
                    server = child
                    url = "http://127.0.0.1:" + text[range.upperBound...].prefix { $0.isNumber }
                    return url!
                }
                if child.poll() != nil { break }
            }
            child.kill(SIGKILL)
            child.wait()
            throw SetupError(message: "accord serve did not start: \(readText(root + "/serve.err").prefix(300))")
        }

        func stopServer() {
            guard let server else { return }
            server.kill(SIGTERM)
            if server.wait(atMost: 20).timedOut { server.kill(SIGKILL) }
            self.server = nil
        }

        func remove() {
            stopServer()
            _ = try? ChildProcess.run("/bin/rm", ["-rf", root], scratch: "/tmp")
        }

        /// The events of journal `name` (`accord log --json`): subject → ids.
        func subjects(of name: String) throws -> [String: [String]] {
            let log = try ChildProcess.run(accord, ["log", "--json", "--journal", path(name)], scratch: root)
            guard log.status == 0 else { throw SetupError(message: "accord log failed on '\(name)': \(log.stderr.prefix(300))") }
            var result: [String: [String]] = [:]
            for line in log.stdout.split(separator: "\n") {
                guard case .object(let record)? = try? JSONParser.parse(Array(line.utf8)),
                      let subject = record["subject"]?.stringValue, let id = record["id"]?.stringValue else { continue }
                result[subject, default: []].append(id)
            }
            return result
        }

        /// Verifies each journal (cutting off a torn tail with a recorded append), then checks
        /// its events against the ledger.
        func check(_ names: [String], counts: inout Counts, label: String) throws {
            for name in Set(names).sorted() {
                let lock = try WriterLockHold(path(name) + "/LOCK")
                var verify = try ChildProcess.run(accord, ["verify", "--journal", path(name)], scratch: root)
                if verify.status == 3, Self.onlyTornTail(verify.stdout) {
                    lock.release()
                    // The next append must cut the torn tail off into quarantine and succeed.
                    let subject = "action/recovery-\(counts.runs)-\(name)"
                    let append = try ChildProcess.run(accord, ["append", "action.proposed.v1", "--subject", subject, "--data", #"{"title":"After a torn tail","pillar":"skills-research-innovation"}"#, "--journal", path(name)], scratch: root)
                    ledger.batches.append(Batch(origin: name, subjects: [subject], acknowledged: append.status == 0))
                    counts.eventsSubmitted += 1
                    if append.status == 0, append.stderr.contains("Cut off an incomplete last batch") {
                        counts.tornTailsRecovered += 1
                    } else {
                        counts.verifyFailures += 1
                        counts.failures.append("\(label): journal '\(name)' had a torn tail, but the next append did not cut it off (exit \(append.status)): \(append.stderr.prefix(300))")
                    }
                    try lock.acquire()
                    verify = try ChildProcess.run(accord, ["verify", "--journal", path(name)], scratch: root)
                }
                if verify.status != 0 {
                    counts.verifyFailures += 1
                    counts.failures.append("\(label): verify of journal '\(name)' exited \(verify.status): \(verify.stdout.split(separator: "\n").filter { $0.contains("✗") }.prefix(3).joined(separator: " | ")) \(verify.stderr.prefix(200))")
                }
                let events = try subjects(of: name)
                lock.release()
                compare(name, events, counts: &counts, label: label)
            }
        }

        /// True when every problem `verify` listed is a torn last batch.
        public static func onlyTornTail(_ output: String) -> Bool {
            let problems = output.split(separator: "\n").filter { $0.contains("✗") }
            return !problems.isEmpty && problems.allSatisfy { $0.contains("the next append cuts it off") }
        }

        private func compare(_ name: String, _ events: [String: [String]], counts: inout Counts, label: String) {
            var held: [String: String] = [:]
            let submitted = Set(ledger.batches.flatMap(\.subjects))
            for (subject, ids) in events {
                held[subject] = ids[0]
                if ids.count > 1 {
                    counts.duplicates += ids.count - 1
                    counts.failures.append("\(label): '\(subject)' appears \(ids.count) times in '\(name)'")
                }
                if !submitted.contains(subject) {
                    counts.phantom += 1
                    counts.failures.append("\(label): '\(subject)' in '\(name)' was never submitted")
                }
                if let known = idOf[subject], known != ids[0] {
                    counts.idMismatches += 1
                    counts.failures.append("\(label): '\(subject)' has id \(ids[0]) in '\(name)' but \(known) elsewhere")
                } else {
                    idOf[subject] = ids[0]
                }
            }
            for (index, batch) in ledger.batches.enumerated() where batch.origin == name {
                let present = batch.subjects.filter { held[$0] != nil }.count
                if present != 0, present != batch.subjects.count {
                    counts.partialBatches += 1
                    counts.failures.append("\(label): a batch of \(batch.subjects.count) events is present in part (\(present)) in '\(name)'")
                }
                if batch.acknowledged, present < batch.subjects.count {
                    counts.lost += batch.subjects.count - present
                    counts.failures.append("\(label): \(batch.subjects.count - present) acknowledged events missing from '\(name)'")
                }
                if !batch.acknowledged, present == batch.subjects.count, !ledger.reported.contains(index) {
                    ledger.reported.insert(index)
                    counts.writtenUnacknowledged += 1
                }
            }
            let vanished = (seen[name] ?? [:]).keys.filter { held[$0] == nil }
            if !vanished.isEmpty {
                counts.lost += vanished.count
                counts.failures.append("\(label): \(vanished.count) events once held by '\(name)' vanished, e.g. '\(vanished[0])'")
            }
            seen[name] = held
        }

        /// After an acknowledged sync: both hold the same events.
        func expectSameEvents(_ first: String, _ second: String, counts: inout Counts, label: String) {
            let one = Set((seen[first] ?? [:]).keys), two = Set((seen[second] ?? [:]).keys)
            let difference = one.symmetricDifference(two)
            if !difference.isEmpty {
                counts.lost += difference.count
                counts.failures.append("\(label): after an acknowledged sync '\(first)' and '\(second)' differ by \(difference.count) events, e.g. '\(difference.first!)'")
            }
        }

        /// After an acknowledged bundle apply: the receiver holds what the bundle brought.
        func expectHolds(_ receiver: String, _ subjects: Set<String>, counts: inout Counts, label: String) {
            let missing = subjects.subtracting((seen[receiver] ?? [:]).keys)
            if !missing.isEmpty {
                counts.lost += missing.count
                counts.failures.append("\(label): after an acknowledged bundle apply '\(receiver)' lacks \(missing.count) events, e.g. '\(missing.first!)'")
            }
        }

        /// Syncs everything (b with a, a and b with c over HTTP, then again) and checks that the
        /// three journals hold the same events and the same state digest.
        func converge(counts: inout Counts, label: String) throws -> Bool {
            let url = try serverURL()
            for _ in 0..<2 {
                for (here, there) in [("a", path("b")), ("a", url), ("b", url)] {
                    let sync = try ChildProcess.run(accord, ["sync", "--with", there, "--journal", path(here)], scratch: root)
                    if sync.status != 0 {
                        counts.failures.append("\(label): sync of '\(here)' with \(there) exited \(sync.status): \(sync.stderr.prefix(300))")
                        return false
                    }
                }
            }
            stopServer()
            try check(["a", "b", "c"], counts: &counts, label: label)
            let one = Set((seen["a"] ?? [:]).keys)
            var digests: Set<String> = []
            for name in ["a", "b", "c"] {
                if Set((seen[name] ?? [:]).keys) != one {
                    counts.failures.append("\(label): '\(name)' and 'a' hold different events after the final sync")
                    return false
                }
                let digest = try ChildProcess.run(accord, ["state", "--digest", "--journal", path(name)], scratch: root)
                guard digest.status == 0 else {
                    counts.failures.append("\(label): state --digest of '\(name)' exited \(digest.status): \(digest.stderr.prefix(200))")
                    return false
                }
                digests.insert(digest.stdout.trimmingCharacters())
            }
            if digests.count != 1 { counts.failures.append("\(label): state digests differ: \(digests.sorted())") }
            return digests.count == 1
        }
    }
}

/// Holds a journal's writer lock (`flock(LOCK_EX)` on `LOCK`, Format.md §5), so that no writer
/// — such as the server finishing a push whose client was killed — changes it during a check.
final class WriterLockHold {
    private let fd: Int32
    private var held = false

    init(_ path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CrashCampaign.SetupError(message: "Cannot open '\(path)'.") }
        try acquire()
    }

    func acquire() throws {
        guard !held else { return }
        let deadline = Clock.now + 120
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Clock.now < deadline else { throw CrashCampaign.SetupError(message: "A writer held the lock for 120 s.") }
            sleepSeconds(0.01)
        }
        held = true
    }

    func release() {
        if held { flock(fd, LOCK_UN) }
        held = false
    }

    deinit {
        release()
        close(fd)
    }
}

extension String {
    func trimmingCharacters() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        return String(text)
    }
}

import AccordMirror
import AccordModel
import AccordStore
import AccordTesting
import Foundation
import Glibc
import Logging
import PostgresNIO

// accord-mirror-campaign: the mirror's long runs (Journal/Mirror.md §3, Tools/README.md).
//
//   accord-mirror-campaign crash --postgres URL [--events 100000] [--kills 50] [--accord PATH] [--scratch DIR]
//     A journal of N realistic events; one mirror of it made in one go; another made by
//     'accord mirror' SIGKILLed at K random moments and resumed each time. Prints the events
//     mirrored after each kill, then checks that every table equals the one-go mirror and that
//     no event is there twice (exit 1 if not).
//   accord-mirror-campaign throughput --postgres URL [--events 1000000] [--scratch DIR]
//     A journal of N realistic events mirrored in one go into a new database, in this process;
//     prints events per second.
//
// URL names a server and a database the role may create databases from (each run makes its own).

let logger = Logger(label: "accord.mirror.campaign", factory: { _ in SwiftLogNoOpLogHandler() })

func say(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

func option(_ name: String, _ fallback: String?) -> String? {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count { return arguments[index + 1] }
    return fallback
}

func connect(_ target: MirrorTarget) async throws -> PostgresConnection {
    let configuration: PostgresConnection.Configuration
    switch target.endpoint {
    case .tcp(let host, let port):
        configuration = .init(host: host, port: port, username: target.user, password: target.password, database: target.database, tls: .disable)
    case .socket(let path):
        configuration = .init(unixSocketPath: path, username: target.user, password: target.password, database: target.database)
    }
    return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
}

func values(_ sql: String, on target: MirrorTarget) async throws -> [String] {
    let connection = try await connect(target)
    var result: [String] = []
    do {
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            for cell in row { result.append(try cell.decode(String?.self) ?? "NULL") }
        }
    } catch {
        try? await connection.close()
        throw error
    }
    try await connection.close()
    return result
}

func freshDatabase(_ server: MirrorTarget, _ label: String) async throws -> MirrorTarget {
    let name = "accord_campaign_\(label)_\(UInt32.random(in: 0...UInt32.max))"
    _ = try await values("CREATE DATABASE \(name)", on: server)
    return server.with(database: name)
}

func urlText(_ target: MirrorTarget) -> String {
    let password = target.password.map { ":" + $0 } ?? ""
    switch target.endpoint {
    case .tcp(let host, let port): return "postgres://\(target.user)\(password)@\(host):\(port)/\(target.database)"
    case .socket(let path):
        let cut = path.range(of: "/.s.PGSQL.", options: .backwards)!
        return "postgres://\(target.user)\(password)@\(path[..<cut.lowerBound].replacingOccurrences(of: "/", with: "%2F")):\(path[cut.upperBound...])/\(target.database)"
    }
}

let tables = ["events", "mirror_checkpoints", "stakeholders", "agreements", "actions", "fundings", "funding_stages", "funding_sums",
              "projects", "milestones", "offtakes", "research", "research_outputs", "programmes", "programme_deliveries"]

/// Each table's rows as text, hashed by PostgreSQL (md5 of the rows in byte order).
func digests(_ target: MirrorTarget) async throws -> [String: String] {
    var result: [String: String] = [:]
    for table in tables {
        result[table] = try await values("SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE \"C\"), '')) FROM \(table) t", on: target).first
    }
    return result
}

func makeJournal(_ path: String, events: Int) throws {
    if FileManager.default.fileExists(atPath: path + "/SITE"), let journal = try? EventJournal(opening: path) {
        var count = 0
        var iterator = try journal.events()
        while try iterator.next() != nil { count += 1 }
        if count == events { say("journal: reusing \(path) (\(events) events)"); return }
        try FileManager.default.removeItem(atPath: path)
    }
    try? FileManager.default.removeItem(atPath: path)
    let journal = try Fixtures.makeJournal(at: path)
    let writer = try journal.openWriter()
    defer { writer.close() }
    var start = 0
    while start < events {
        let count = min(1_000, events - start)
        _ = try writer.append(Fixtures.realisticDrafts(count: count, startingAt: start), now: Fixtures.time(Int64(start)))
        start += count
    }
    say("journal: \(events) realistic events at \(path)")
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func crash(server: MirrorTarget, scratch: String) async throws -> Int32 {
    let events = Int(option("events", "100000")!)!
    let kills = Int(option("kills", "50")!)!
    let accord = option("accord", URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("accord").path)!
    let journalPath = scratch + "/journal-\(events)"
    try makeJournal(journalPath, events: events)

    let oneGo = try await freshDatabase(server, "once")
    var start = ContinuousClock.now
    let summary = try await PostgresMirror(journal: try EventJournal(opening: journalPath), target: oneGo).run(follow: false)
    let oneGoSeconds = seconds(since: start)
    say("one go: \(summary.added) events in \(String(format: "%.1f", oneGoSeconds)) s")

    let killed = try await freshDatabase(server, "killed")
    let url = urlText(killed)
    var random = SeededRandom(seed: UInt64(option("seed", "1")!)!)
    var killedMidway = 0
    // The window a kill falls in: at first what a whole mirror takes; a quarter longer after a
    // run killed before it added anything (a resumed run first reads back and checks what the
    // database holds: with the one-go time alone, 1.4 s at 100,000 events in session 31, every
    // kill after the first fell before a resumed run's first commit), and half as long after a run
    // that finished before its kill.
    var window = max(oneGoSeconds, 0.5)
    var held = "0"
    start = ContinuousClock.now
    for kill in 1...kills {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: accord)
        process.arguments = ["mirror", "--postgres", url, "--journal", journalPath, "--events-per-transaction", "2000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A random moment within the window (above).
        let delay = UInt64(Double(random.next() % 1_000_000) / 1_000_000 * window * 1_000_000)
        usleep(UInt32(min(delay, 60_000_000)))
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let finished = process.terminationReason == .exit
        if !finished { killedMidway += 1 }
        let mirrored = try await values("SELECT count(*)::text FROM events", on: killed).first ?? "?"
        say("kill \(kill): after \(delay / 1000) ms, \(finished ? "had finished" : "killed"); \(mirrored) events mirrored")
        if finished { window *= 0.5 } else if mirrored == held, mirrored != String(events) { window *= 1.25 }
        held = mirrored
    }
    let resumed = Process()
    resumed.executableURL = URL(fileURLWithPath: accord)
    resumed.arguments = ["mirror", "--postgres", url, "--journal", journalPath]
    try resumed.run()
    resumed.waitUntilExit()
    say("killed \(killedMidway) of \(kills) runs mid-mirror; the last run resumed and exited \(resumed.terminationStatus) (\(String(format: "%.1f", seconds(since: start))) s in all)")

    let counts = try await values("SELECT count(*)::text, count(DISTINCT id)::text FROM events", on: killed)
    let expected = try await digests(oneGo), actual = try await digests(killed)
    var failed = counts != [String(events), String(events)]
    say("events: \(counts[0]) rows, \(counts[1]) distinct ids, \(events) in the journal")
    for table in tables {
        let same = expected[table] == actual[table]
        if !same { failed = true }
        say("\(table): \(same ? "equal to the one-go mirror" : "DIFFERS from the one-go mirror")")
    }
    say(failed ? "FAILED" : "PASSED: every table equals the one-go mirror; no event twice")
    return failed ? 1 : 0
}

func throughput(server: MirrorTarget, scratch: String) async throws -> Int32 {
    let events = Int(option("events", "1000000")!)!
    let journalPath = scratch + "/journal-\(events)"
    try makeJournal(journalPath, events: events)
    let target = try await freshDatabase(server, "throughput")
    let start = ContinuousClock.now
    let summary = try await PostgresMirror(journal: try EventJournal(opening: journalPath), target: target).run(follow: false)
    let elapsed = seconds(since: start)
    let rate = Double(summary.added) / elapsed
    print("mirror throughput: \(summary.added) events into \(target) in \(String(format: "%.1f", elapsed)) s: \(Int(rate)) events/s (\(summary.transactions) transactions)")
    return 0
}

let mode = CommandLine.arguments.dropFirst().first ?? ""
guard let url = option("postgres", ProcessInfo.processInfo.environment["ACCORD_TEST_POSTGRES_URL"]), ["crash", "throughput"].contains(mode) else {
    say("usage: accord-mirror-campaign crash|throughput --postgres URL [--events N] [--kills K] [--accord PATH] [--scratch DIR]")
    exit(2)
}
let scratch = option("scratch", "/tmp/accord-mirror-campaign")!
try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
do {
    let server = try MirrorTarget(parsing: url)
    let status = mode == "crash" ? try await crash(server: server, scratch: scratch) : try await throughput(server: server, scratch: scratch)
    exit(status)
} catch {
    say("accord-mirror-campaign: \(error)")
    exit(1)
}

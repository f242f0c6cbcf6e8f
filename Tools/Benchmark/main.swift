// accord-bench: durable ingest, replay, size on disk and replay memory of the journal.
//
//   swift build -c release && .build/release/accord-bench [--events 100000] [--large 1000000] [--out FILE]
//
// Figures, never pass/fail: every append is durable (one write + fdatasync per batch of 1,000).
// Replay runs the real `accord log --json > /dev/null` in a child process, and its peak RSS is
// the child's ru_maxrss from wait4(2).
import AccordJournal
import AccordModel
import AccordSync
import AccordTesting
import Foundation

struct Options {
    var events = 100_000
    var large = 1_000_000
    var batch = 1_000
    var out: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--events": events = Int(iterator.next() ?? "") ?? events
            case "--large": large = Int(iterator.next() ?? "") ?? large
            case "--batch": batch = Int(iterator.next() ?? "") ?? batch
            case "--out": out = iterator.next()
            default:
                print("usage: accord-bench [--events N] [--large N] [--batch N] [--out FILE]")
                exit(2)
            }
        }
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Appends `count` realistic events in durable batches; returns seconds spent in `append`.
func ingest(_ journal: EventJournal, count: Int, batch: Int, from start: Int = 0) throws -> (seconds: Double, recordBytes: Int) {
    let writer = try journal.openWriter()
    var total = 0.0
    var recordBytes = 0
    var done = 0
    let base = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
    while done < count {
        let n = min(batch, count - done)
        let drafts = Fixtures.realisticDrafts(count: n, startingAt: start + done)
        var events: [Event] = []
        total += try seconds { events = try writer.append(drafts, now: Timestamp(seconds: base.seconds + Int64(start + done), nanoseconds: 0)) }
        recordBytes += events.reduce(0) { $0 + $1.record.count + 1 }
        done += n
    }
    return (total, recordBytes)
}

func bytesOnDisk(_ journal: EventJournal) throws -> Int64 {
    try journal.directory.scan { _ in }.bytes
}

/// Runs `accord log --json` on the journal with output to /dev/null; returns seconds and the
/// child's peak RSS in KiB.
func replay(_ journal: String, accord: String) throws -> (seconds: Double, peakKiB: Int) {
    try child(accord, ["log", "--json", "--journal", journal])
}

/// Runs `accord ARGUMENTS` with output to /dev/null; returns seconds and the child's peak RSS in KiB.
func child(_ accord: String, _ arguments: [String]) throws -> (seconds: Double, peakKiB: Int) {
    var pid: pid_t = 0
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let words: [String] = [accord] + arguments
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let start = DispatchTime.now().uptimeNanoseconds
    guard posix_spawn(&pid, accord, &actions, nil, argv, environ) == 0 else {
        throw CocoaError(.executableLoad)
    }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard status == 0 else { throw CocoaError(.executableRuntimeMismatch) }
    return (elapsed, Int(usage.ru_maxrss))
}

let options = Options(CommandLine.arguments)
let accord = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("accord").path
guard FileManager.default.isExecutableFile(atPath: accord) else {
    print("accord-bench: build the 'accord' product first (it is looked for beside this program).")
    exit(2)
}
let scratch = TemporaryDirectory("bench")
nonisolated(unsafe) var rows: [(String, String)] = []
func report(_ name: String, _ value: String) {
    rows.append((name, value))
    print("\(name): \(value)")
}

// 1. Durable bulk ingest.
let journal = try Fixtures.makeJournal(at: scratch.child("small"))
let (ingestSeconds, recordBytes) = try ingest(journal, count: options.events, batch: options.batch)
report("durable bulk append, \(options.events) events in batches of \(options.batch)", String(format: "%.0f events/s (%.2f s)", Double(options.events) / ingestSeconds, ingestSeconds))
let disk = try bytesOnDisk(journal)
report("bytes per event on disk", String(format: "%.1f (records average %.1f bytes; compression %.2f×)", Double(disk) / Double(options.events), Double(recordBytes) / Double(options.events), Double(recordBytes) / Double(disk)))

// 2. Replay through the CLI.
let small = try replay(journal.path, accord: accord)
report("log --json > /dev/null, \(options.events) events", String(format: "%.0f events/s, %.1f MB/s of records (%.2f s)", Double(options.events) / small.seconds, Double(recordBytes) / 1e6 / small.seconds, small.seconds))
report("replay peak RSS, \(options.events) events", "\(small.peakKiB / 1024) MiB")

// 3. Replay memory at a larger size: it must not grow with the journal.
if options.large > 0 {
    let big = try Fixtures.makeJournal(at: scratch.child("large"))
    let (bigSeconds, _) = try ingest(big, count: options.large, batch: options.batch)
    report("durable bulk append, \(options.large) events", String(format: "%.0f events/s", Double(options.large) / bigSeconds))
    let large = try replay(big.path, accord: accord)
    report("log --json > /dev/null, \(options.large) events", String(format: "%.0f events/s (%.2f s)", Double(options.large) / large.seconds, large.seconds))
    report("replay peak RSS, \(options.large) events", "\(large.peakKiB / 1024) MiB (\(String(format: "%.2f", Double(large.peakKiB) / Double(small.peakKiB)))× the \(options.events)-event figure)")

    // 4. Projections: a full rebuild of the state, then opening with a snapshot.
    let rebuild = try child(accord, ["state", "--digest", "--no-snapshot", "--journal", big.path])
    report("state rebuild (full replay), \(options.large) events", String(format: "%.0f events/s (%.2f s), peak RSS %d MiB", Double(options.large) / rebuild.seconds, rebuild.seconds, rebuild.peakKiB / 1024))
    let snapshot = try child(accord, ["snapshot", "--journal", big.path])
    report("writing a snapshot of that state", String(format: "%.2f s, peak RSS %d MiB", snapshot.seconds, snapshot.peakKiB / 1024))
    _ = try ingest(big, count: options.batch, batch: options.batch, from: options.large)
    let withSnapshot = try child(accord, ["state", "--digest", "--journal", big.path])
    let withoutSnapshot = try child(accord, ["state", "--digest", "--no-snapshot", "--journal", big.path])
    report("opening the state after \(options.batch) more events", String(format: "with snapshot %.2f s (peak RSS %d MiB), without %.2f s (peak RSS %d MiB): %.1f× faster", withSnapshot.seconds, withSnapshot.peakKiB / 1024, withoutSnapshot.seconds, withoutSnapshot.peakKiB / 1024, withoutSnapshot.seconds / withSnapshot.seconds))
}

// 5. Sync over loopback HTTP.
/// Makes `path` a journal of site `site` holding a copy of `source`'s events (a file copy, then a
/// new site name and key), and makes the two trust each other.
func replica(of source: EventJournal, at path: String, site: String) throws -> EventJournal {
    try FileManager.default.copyItem(atPath: source.path, toPath: path)
    try? FileManager.default.removeItem(atPath: path + "/snapshots")
    let key = try SiteKey(seed: Fixtures.seed(site))
    try FileBytes.writeAtomically(path + "/keys/\(site).key", bytes: Array((Base64.encode(Array(Fixtures.seed(site))) + "\n").utf8), mode: 0o600)
    try FileBytes.writeAtomically(path + "/keys/\(site).pub", bytes: Array((key.publicKey.base64 + "\n").utf8))
    try FileBytes.writeAtomically(path + "/SITE", bytes: Array((site + "\n").utf8))
    let copy = try EventJournal(opening: path)
    try source.trust(key.publicKey, for: SiteID(site))
    return copy
}

/// Starts `accord serve` on a free port; returns the process and its URL.
func serve(_ journal: EventJournal) throws -> (Process, PeerURL) {
    let out = journal.path + "/../serve-\(journal.site).out"
    FileManager.default.createFile(atPath: out, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: accord)
    process.arguments = ["serve", "--listen", "127.0.0.1:0", "--journal", journal.path]
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
    process.standardError = FileHandle.nullDevice
    try process.run()
    for _ in 0..<400 {
        usleep(50_000)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        if let range = text.range(of: "http://127.0.0.1:") {
            return (process, try PeerURL("http://127.0.0.1:" + text[range.upperBound...].prefix { $0.isNumber }))
        }
    }
    throw CocoaError(.executableLoad)
}

do {
    // A 10k-event delta: Astana serves 10,000 events Brussels lacks.
    let astana = try Fixtures.makeJournal(at: scratch.child("sync-astana"), site: "astana")
    _ = try ingest(astana, count: 10_000, batch: options.batch, from: 5_000_000)
    let brussels = try Fixtures.makeJournal(at: scratch.child("sync-brussels"), site: "brussels")
    try brussels.trust(try astana.signingKey().publicKey, for: SiteID("astana"))
    try astana.trust(try brussels.signingKey().publicKey, for: SiteID("brussels"))
    let bundlePath = scratch.child("delta.bundle")
    try Bundle.make(from: astana).write(to: bundlePath)
    let bundleBytes = (try FileManager.default.attributesOfItem(atPath: bundlePath)[.size] as? Int) ?? 0
    report("bundle bytes per event (10,000 events)", String(format: "%.1f", Double(bundleBytes) / 10_000))
    let (server, url) = try serve(astana)
    var pulled = 0
    let delta = try seconds { pulled = try HTTPSync.sync(brussels, with: url).pulled.appended }
    server.terminate()
    server.waitUntilExit()
    report("sync of a 10,000-event delta over loopback HTTP", String(format: "%.0f events/s (%.2f s, %d events)", Double(pulled) / delta, delta, pulled))

    // A 100-event delta on top of 10k and of \(options.large) events of history.
    for history in [10_000, options.large] where history > 0 {
        let source = try Fixtures.makeJournal(at: scratch.child("history-\(history)"), site: "brussels")
        if history == options.large, options.large > 0 {
            try FileManager.default.removeItem(atPath: source.path)
            try FileManager.default.copyItem(atPath: scratch.child("large"), toPath: source.path)
            try? FileManager.default.removeItem(atPath: source.path + "/snapshots")
        } else {
            _ = try ingest(source, count: history, batch: options.batch, from: 6_000_000)
        }
        let peer = try replica(of: try EventJournal(opening: source.path), at: scratch.child("history-\(history)-astana"), site: "astana")
        _ = try ingest(try EventJournal(opening: source.path), count: 100, batch: 100, from: 7_000_000)
        let (server, url) = try serve(peer)
        var pushed = 0
        let time = try seconds { pushed = try HTTPSync.sync(try EventJournal(opening: source.path), with: url).pushed.appended }
        server.terminate()
        server.waitUntilExit()
        report("sync of a 100-event delta with \(history) events of history", String(format: "%.3f s (%d events pushed)", time, pushed))
    }
} catch {
    report("sync benchmark", "failed: \(error)")
}

var uname = utsname()
uname_(&uname)
let machine = withUnsafeBytes(of: uname.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
var table = "| measure | figure |\n|---|---|\n"
for (name, value) in rows { table += "| \(name) | \(value) |\n" }
table += "\n\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, \(machine), \(ISO8601DateFormatter().string(from: Date())).\n"
print("\n" + table)
if let out = options.out { try table.write(toFile: out, atomically: true, encoding: .utf8) }

func uname_(_ value: inout utsname) { _ = Glibc.uname(&value) }

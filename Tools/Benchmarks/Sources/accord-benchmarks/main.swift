import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation

// accord-benchmarks: Accord beside SQLite (C API) and gzip'd JSON Lines, on one generated
// workload, in one run; prints a markdown table of figures and ratios and writes it to a file.
//
//   swift build -c release
//   .build/release/accord-benchmarks [--sizes 1000,100000,1000000] [--out FILE] [--scratch DIR]
//                                    [--singles 300] [--level N] [--accord CLI [--cli-runs 5]]
//
// Every phase runs in a child process of this program (`accord-benchmarks phase NAME …`), so
// each peak RSS (ru_maxrss from wait4, i.e. the child's VmHWM) belongs to that phase alone.
// Every append of every peer is durable: Accord one write + fdatasync per batch (and a
// directory fsync per new segment), SQLite WAL with synchronous=FULL, gzip write + fdatasync.

if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "phase" {
    do {
        try Phases.run(CommandLine.arguments[2], Arguments(CommandLine.arguments.dropFirst(3)))
        exit(0)
    } catch {
        FileHandle.standardError.write("phase \(CommandLine.arguments[2]): \(error)\n".data(using: .utf8)!)
        exit(1)
    }
}

let options = Arguments(CommandLine.arguments.dropFirst())
let sizes = (options.values["sizes"] ?? "1000,100000,1000000").split(separator: ",").compactMap { Int($0) }
let singles = (try? options.int("singles", default: 300)) ?? 300
let out = options.values["out"] ?? "benchmark-results.md"
let levelArguments = options.values["level"].map { ["--level", $0] } ?? []
let scratch = options.values["scratch"] ?? (NSTemporaryDirectory() + "accord-benchmarks-\(getpid())")
try? FileManager.default.removeItem(atPath: scratch)
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { if options.values["keep"] == nil { try? FileManager.default.removeItem(atPath: scratch) } }
func log(_ text: String) {
    FileHandle.standardError.write("[\(String(format: "%.0f", Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 100_000)))] \(text)\n".data(using: .utf8)!)
}

/// One row of the report.
struct Row {
    var measure: String
    var accord: String
    var peers: String
    var ratio: String
    var target: String
    var met: String
}
nonisolated(unsafe) var rows: [Row] = []
nonisolated(unsafe) var rssRows: [(String, String)] = []
func f0(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.0f", x) }
func f1(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.1f", x) }
func f2(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.2f", x) }
func f3(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
func verdict(_ ok: Bool) -> String { ok ? "met" : "**missed**" }
func rss(_ name: String, _ run: ChildRun) { rssRows.append((name, "\(f0(run.peakMiB)) MiB")) }

struct SizeRuns {
    var accord, sqlite, gzip, ceiling, replayAccord, replaySQLite, replayFloor: ChildRun
    var journal, db, gz: String
}
var bySize: [Int: SizeRuns] = [:]

func runSize(_ n: Int) throws -> SizeRuns {
    let dir = scratch + "/n\(n)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let journal = dir + "/accord", workload = dir + "/workload.tsv", db = dir + "/sqlite.db", gz = dir + "/events.jsonl.gz"
    log("\(n): generating the other sites' batches")
    _ = try runPhase("gen-remote", ["--dir", dir, "--events", "\(n)"], scratch: scratch)
    log("\(n): ingest accord")
    let accord = try runPhase("ingest-accord", ["--dir", dir, "--events", "\(n)", "--journal", journal, "--workload", workload] + levelArguments, scratch: scratch)
    log("\(n): ingest sqlite")
    let sqlite = try runPhase("ingest-sqlite", ["--db", db, "--workload", workload], scratch: scratch)
    log("\(n): ingest gzip")
    let gzip = try runPhase("ingest-gzip", ["--file", gz, "--workload", workload], scratch: scratch)
    log("\(n): deflate ceiling")
    let ceiling = try runPhase("deflate-ceiling", ["--workload", workload] + levelArguments, scratch: scratch)
    log("\(n): replays")
    let replayAccord = try runPhase("replay-accord", ["--journal", journal], scratch: scratch)
    let replaySQLite = try runPhase("replay-sqlite", ["--db", db], scratch: scratch)
    let replayFloor = try runPhase("replay-floor", ["--file", gz], scratch: scratch)
    for run in [replayAccord, replaySQLite, replayFloor] where Int(run["events"]) != n {
        throw BenchError.failed("a replay of \(n) events read \(run["events"])")
    }
    return SizeRuns(accord: accord, sqlite: sqlite, gzip: gzip, ceiling: ceiling, replayAccord: replayAccord, replaySQLite: replaySQLite, replayFloor: replayFloor, journal: journal, db: db, gz: gz)
}

for n in sizes {
    let runs = try runSize(n)
    bySize[n] = runs
    let a = Double(n) / runs.accord["seconds"], s = Double(n) / runs.sqlite["seconds"], g = Double(n) / runs.gzip["seconds"]
    rows.append(Row(measure: "durable ingest, \(n) events, batches of 1,000 (events/s)", accord: f0(a), peers: "SQLite \(f0(s)); gzip \(f0(g))",
                    ratio: "\(f2(a / s))× SQLite; \(f2(a / g))× gzip", target: "≥ 1.5× SQLite", met: verdict(a / s >= 1.5)))
    let c = Double(n) / runs.ceiling["seconds"]
    rows.append(Row(measure: "ceiling: deflate alone at level \(f0(runs.ceiling["level"])) on both cores, \(n) events (events/s)", accord: f0(c), peers: "SQLite \(f0(s))",
                    ratio: "\(f2(c / s))× SQLite; Accord ingest reaches \(f2(a / c))× of it", target: "ingest ≥ 0.6× of it", met: verdict(a / c >= 0.6)))
    let ab = runs.accord["bytes"] / Double(n), sb = runs.sqlite["bytes"] / Double(n), gb = runs.gzip["bytes"] / Double(n)
    rows.append(Row(measure: "bytes per event on disk, \(n) events (records average \(f0(runs.accord["recordBytes"] / Double(n))) B)", accord: f1(ab), peers: "SQLite \(f1(sb)); gzip \(f1(gb))",
                    ratio: "\(f2(ab / sb))× SQLite; \(f2(ab / gb))× gzip", target: "≤ 0.3× SQLite", met: verdict(ab / sb <= 0.3)))
    let ra = Double(n) / runs.replayAccord["seconds"], rs = Double(n) / runs.replaySQLite["seconds"], rf = Double(n) / runs.replayFloor["seconds"]
    rows.append(Row(measure: "replay, \(n) events (events/s)", accord: f0(ra), peers: "SQLite+decode \(f0(rs)); inflate+split \(f0(rf))",
                    ratio: "\(f2(ra / rs))× SQLite+decode; \(f2(ra / rf))× floor", target: "≥ 1.5× SQLite+decode, ≥ 0.5× floor", met: verdict(ra / rs >= 1.5 && ra / rf >= 0.5)))
    rss("ingest \(n): Accord / SQLite / gzip", runs.accord); rssRows[rssRows.count - 1].1 += " / \(f0(runs.sqlite.peakMiB)) / \(f0(runs.gzip.peakMiB)) MiB"
    rss("replay \(n): Accord / SQLite+decode / floor", runs.replayAccord); rssRows[rssRows.count - 1].1 += " / \(f0(runs.replaySQLite.peakMiB)) / \(f0(runs.replayFloor.peakMiB)) MiB"
}

// Replay memory must not grow with the journal.
let sorted = sizes.sorted()
if sorted.count >= 2, let small = bySize[sorted[sorted.count - 2]], let large = bySize[sorted[sorted.count - 1]] {
    let ratio = large.replayAccord.peakMiB / small.replayAccord.peakMiB
    rows.append(Row(measure: "replay peak RSS, \(sorted[sorted.count - 1]) vs \(sorted[sorted.count - 2]) events (MiB)", accord: "\(f0(large.replayAccord.peakMiB)) vs \(f0(small.replayAccord.peakMiB))",
                    peers: "SQLite+decode \(f0(large.replaySQLite.peakMiB)) vs \(f0(small.replaySQLite.peakMiB))", ratio: "\(f2(ratio))×", target: "≤ 1.2×", met: verdict(ratio <= 1.2)))
}

// Single durable append latency.
do {
    let dir = scratch + "/singles"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // The workload file sits beside the journal (`<dir>/accord`, `<dir>/workload.tsv`).
    let smallest = bySize[sorted[0]]!.journal
    let workload = String(smallest[..<smallest.lastIndex(of: "/")!]) + "/workload.tsv"
    log("single appends")
    let all = try runPhase("append1-all", ["--dir", dir, "--count", "\(singles)", "--workload", workload], scratch: scratch)
    func peer(_ name: String) -> Figures { Dictionary(uniqueKeysWithValues: all.figures.compactMap { $0.key.hasPrefix(name + ".") ? (String($0.key.dropFirst(name.count + 1)), $0.value) : nil }) }
    let a = ChildRun(figures: peer("accord"), peakKiB: all.peakKiB, wall: all.wall)
    let s = ChildRun(figures: peer("sqlite"), peakKiB: all.peakKiB, wall: all.wall)
    let b = ChildRun(figures: peer("bare"), peakKiB: all.peakKiB, wall: all.wall)
    rows.append(Row(measure: "single durable append, \(singles) calls each, interleaved (appends/s)", accord: f0(a["perSecond"]), peers: "SQLite 1-row tx \(f0(s["perSecond"])); write+fdatasync \(f0(b["perSecond"]))",
                    ratio: "\(f2(a["perSecond"] / s["perSecond"]))× SQLite", target: "≥ 10× SQLite", met: verdict(a["perSecond"] / s["perSecond"] >= 10)))
    rows.append(Row(measure: "single durable append latency p50 / p99 (ms)", accord: "\(f3(a["p50ms"])) / \(f3(a["p99ms"]))",
                    peers: "SQLite \(f3(s["p50ms"])) / \(f3(s["p99ms"])); write+fdatasync \(f3(b["p50ms"])) / \(f3(b["p99ms"]))",
                    ratio: "p50 \(f2(a["p50ms"] / b["p50ms"]))× write+fdatasync", target: "p50 ≤ 1.3× write+fdatasync", met: verdict(a["p50ms"] / b["p50ms"] <= 1.3)))
    rssRows.append(("single appends (the three interleaved in one process)", "\(f0(all.peakMiB)) MiB"))
}

// The read model (Format.md §9.4) at every size: writing it, and loading it against replaying
// the events it covers (loading must always be cheaper).
for n in sorted {
    guard let runs = bySize[n] else { continue }
    log("read model \(n)")
    // First the rebuild from scratch that `accord state` makes on a journal without a read model
    // (chunked, §9.4.5): the row with the issue's target; then the in-memory fold written in one
    // go, which the rows after it load.
    let rebuild = try runPhase("readmodel-rebuild", ["--journal", runs.journal], scratch: scratch)
    let write = try runPhase("readmodel-write", ["--journal", runs.journal], scratch: scratch)
    let load = try runPhase("state-accord", ["--journal", runs.journal, "--readmodel", "yes"], scratch: scratch)
    let replay = try runPhase("state-accord", ["--journal", runs.journal, "--readmodel", "no"], scratch: scratch)
    if Int(load["loaded"]) != n || Int(load["replayed"]) != 0 { throw BenchError.failed("the read model of \(n) events loaded \(load["loaded"]) and replayed \(load["replayed"])") }
    rows.append(Row(measure: "read model, \(n) events: loading it / replaying what it covers (s)", accord: "\(f3(load["seconds"])) / \(f3(replay["seconds"]))",
                    peers: "(summary \(f1(write["bytes"] / 1_048_576)) MiB; history \(f1(write["historyBytes"] / 1_048_576)) MiB, read only when needed)", ratio: "loading \(f2(replay["seconds"] / load["seconds"]))× faster",
                    target: "loading cheaper", met: verdict(load["seconds"] < replay["seconds"])))
    rows.append(Row(measure: "rebuilding the read model from scratch, \(n) events, as `accord state` does (s: slowest write; whole rebuild; peak RSS of the phase, MiB)",
                    accord: "\(f3(rebuild["slowestWrite"])); \(f2(rebuild["seconds"])); \(f0(rebuild.peakMiB))",
                    peers: "(\(f0(rebuild["writes"])) writes of chunks of \(f0(rebuild["chunk"])) events or \(f0(rebuild["chunkEntries"])) history entries, \(f2(rebuild["writeSeconds"])) s in all; at most \(f0(rebuild["mostEntries"])) history entries held)", ratio: "–",
                    target: n >= 1_000_000 ? "≤ 1 s a write, ≤ 64 MiB" : "–",
                    met: n >= 1_000_000 ? verdict(rebuild["slowestWrite"] <= 1 && rebuild.peakMiB <= 64) : "–"))
    // Not a path of `accord`: the whole journal folded in memory (every history entry held),
    // then written in one go; kept for the write's own time and memory.
    let own = write.peakMiB - write["peakBeforeMiB"]
    rows.append(Row(measure: "writing the read model of an in-memory fold in one go, \(n) events (s; peak RSS of the phase / added by the write, MiB)", accord: "\(f3(write["seconds"])); \(f0(write.peakMiB)) / \(f0(own))",
                    peers: "–", ratio: "–", target: "–", met: "–"))
    rssRows.append(("read model \(n): loading / replaying / rebuilding (chunked) / writing an in-memory fold", "\(f0(load.peakMiB)) / \(f0(replay.peakMiB)) / \(f0(rebuild.peakMiB)) / \(f0(write.peakMiB)) MiB"))
}

// State at the largest size: full replay, and from the read model after 1,000 more events.
if let n = sorted.last, let runs = bySize[n] {
    log("state rebuild \(n)")
    let full = try runPhase("state-accord", ["--journal", runs.journal, "--readmodel", "no"], scratch: scratch)
    let sql = try runPhase("state-sqlite", ["--db", runs.db], scratch: scratch)
    _ = try runPhase("readmodel-write", ["--journal", runs.journal], scratch: scratch)
    _ = try runPhase("append-more", ["--journal", runs.journal, "--events", "1000", "--from", "\(n + 10_000_000)"], scratch: scratch)
    let withReadModel = try runPhase("state-accord", ["--journal", runs.journal, "--readmodel", "yes"], scratch: scratch)
    let without = try runPhase("state-accord", ["--journal", runs.journal, "--readmodel", "no"], scratch: scratch)
    let incremental = try runPhase("readmodel-write-incremental", ["--journal", runs.journal], scratch: scratch)
    if Int(incremental["replayed"]) != 1_000 { throw BenchError.failed("the incremental write folded \(incremental["replayed"]) events, not 1,000") }
    rows.append(Row(measure: "state rebuild, \(n) events, no read model (s)", accord: f2(full["seconds"]), peers: "SQLite aggregate queries \(f2(sql["seconds"]))",
                    ratio: "\(f2(sql["seconds"] / full["seconds"]))× SQLite's speed", target: "–", met: "–"))
    rows.append(Row(measure: "state after 1,000 more events on \(n): with read model / without (s)", accord: "\(f3(withReadModel["seconds"])) / \(f2(without["seconds"]))", peers: "–",
                    ratio: "\(f2(without["seconds"] / withReadModel["seconds"]))× faster with", target: "≤ 0.1 s with", met: verdict(withReadModel["seconds"] <= 0.1)))
    rows.append(Row(measure: "writing the read model after 1,000 more events on \(n) (s; peak RSS of the phase / added by the write, MiB)",
                    accord: "\(f3(incremental["seconds"])); \(f0(incremental.peakMiB)) / \(f0(incremental.peakMiB - incremental["peakBeforeMiB"]))",
                    peers: "(summary \(f1(incremental["bytes"] / 1_048_576)) MiB rewritten; the new entries appended to the history)", ratio: "–",
                    target: "≤ 1 s, ≤ 64 MiB", met: verdict(incremental["seconds"] <= 1 && incremental.peakMiB <= 64)))
    let render = try runPhase("report-render", ["--journal", runs.journal], scratch: scratch)
    rows.append(Row(measure: "accord report --html from the read model, \(n) events: render time (s, median of 5)", accord: f3(render["seconds"]),
                    peers: "(\(f0(render["bytes"] / 1024)) KiB)", ratio: "–", target: "≤ 0.3 s, ≤ 200 KiB",
                    met: verdict(render["seconds"] <= 0.3 && render["bytes"] <= 204_800)))
    rssRows.append(("state rebuild \(n): Accord full / with read model / SQLite queries", "\(f0(full.peakMiB)) / \(f0(withReadModel.peakMiB)) / \(f0(sql.peakMiB)) MiB"))
}

// Sync over loopback HTTP.
/// Starts `serve` on `journal`; returns its pid and URL.
func startServer(_ journal: String) throws -> (pid_t, String) {
    let portFile = journal + ".port"
    unlink(portFile)
    let pid = try spawn([selfPath, "phase", "serve", "--result", "/dev/null", "--journal", journal, "--port-file", portFile], stdout: journal + ".serve.log")
    for _ in 0..<600 {
        usleep(20_000)
        if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return (pid, "http://127.0.0.1:\(port)")
        }
    }
    throw BenchError.failed("the server did not start")
}

func stopServer(_ pid: pid_t) -> Int {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
    return Int(usage.ru_maxrss)
}

/// A copy of `source` as the journal of `site` (new SITE and key), trusted by the source.
func replica(of source: String, at path: String, site: String) throws {
    try FileManager.default.copyItem(atPath: source, toPath: path)
    // The heads cache stays: it describes the same bytes, and a peer that serves keeps its own.
    try? FileManager.default.removeItem(atPath: path + "/cache/partnership.readmodel")
    let sourceSite = try EventJournal(opening: source).site
    unlink(path + "/keys/\(sourceSite).key")
    let key = try SiteKey(seed: Fixtures.seed(site))
    try FileBytes.writeAtomically(path + "/keys/\(site).key", bytes: Array((Base64.encode(Fixtures.seed(site)) + "\n").utf8), mode: 0o600)
    try FileBytes.writeAtomically(path + "/keys/\(site).pub", bytes: Array((key.publicKey.base64 + "\n").utf8))
    try FileBytes.writeAtomically(path + "/SITE", bytes: Array((site + "\n").utf8))
    try EventJournal(opening: source).trust(key.publicKey, for: SiteID(site))
}

do {
    let dir = scratch + "/sync"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    log("sync: 10k delta")
    // A 10k-event delta: a journal of 10,000 events (three feeds) pulled into an empty one.
    let ten = dir + "/ten"
    try FileManager.default.createDirectory(atPath: ten, withIntermediateDirectories: true)
    _ = try runPhase("gen-remote", ["--dir", ten, "--events", "10000"], scratch: scratch)
    _ = try runPhase("ingest-accord", ["--dir", ten, "--events", "10000", "--journal", ten + "/accord", "--workload", ten + "/workload.tsv"] + levelArguments, scratch: scratch)
    let empty = dir + "/empty"
    _ = try Workload.makeJournal(at: empty, site: "tashkent")
    let source = try EventJournal(opening: ten + "/accord")
    try source.trust(try SiteKey(seed: Fixtures.seed("tashkent")).publicKey, for: SiteID("tashkent"))
    let (server, url) = try startServer(ten + "/accord")
    let pull = try runPhase("sync-client", ["--journal", empty, "--url", url], scratch: scratch)
    let serverKiB = stopServer(server)
    let rate = pull["pulled"] / pull["seconds"]
    rows.append(Row(measure: "sync of a 10,000-event delta over loopback HTTP", accord: "\(f0(rate)) events/s (\(f2(pull["seconds"])) s)", peers: "–", ratio: "–", target: "–", met: "–"))
    rssRows.append(("sync 10k delta: client / server", "\(f0(pull.peakMiB)) / \(f0(Double(serverKiB) / 1024)) MiB"))

    // A 100-event delta on top of 10k events and of the largest journal.
    var times: [Int: Double] = [:]
    for (history, journal) in [(10_000, ten + "/accord")] + (sorted.last.flatMap { n in bySize[n].map { (n, $0.journal) } }.map { [$0] } ?? []) {
        log("sync: 100-event delta with \(history) of history")
        let peer = dir + "/peer-\(history)"
        try replica(of: journal, at: peer, site: "tashkent")
        _ = try runPhase("append-more", ["--journal", journal, "--events", "100", "--from", "\(20_000_000)"], scratch: scratch)
        let (server, url) = try startServer(peer)
        let push = try runPhase("sync-client", ["--journal", journal, "--url", url], scratch: scratch)
        let serverKiB = stopServer(server)
        guard Int(push["pushed"]) == 100 else { throw BenchError.failed("pushed \(push["pushed"]) events, expected 100") }
        times[history] = push["seconds"]
        rssRows.append(("sync 100-event delta, \(history) history: client / server", "\(f0(push.peakMiB)) / \(f0(Double(serverKiB) / 1024)) MiB"))
    }
    if let small = times[10_000], let largest = sorted.last, let large = times[largest], largest != 10_000 {
        rows.append(Row(measure: "sync of a 100-event delta: \(largest) vs 10,000 events of history (s)", accord: "\(f3(large)) vs \(f3(small))", peers: "–",
                        ratio: "\(f2(large / small))×", target: "≤ 2×", met: verdict(large / small <= 2)))
    }
} catch {
    rows.append(Row(measure: "sync", accord: "failed: \(error)", peers: "", ratio: "", target: "", met: ""))
}

// The IATI import and a push applied by `accord serve` (issue 16), with `--accord PATH` (a release
// build of the CLI): `Tools/iati-import-bench.py` (the import beside Python's ElementTree) and
// `Tools/bench-push.sh` (the push beside a local `append --from` of the same events), run here so
// that their rows come from the same run as the others; `--cli-runs` interleaved runs each.
var toolRows: [String] = []
var toolNotes: [String] = []
if let cli = options.values["accord"] {
    let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    let runs = options.values["cli-runs"] ?? "5"
    for (name, command) in [("IATI import", ["/usr/bin/env", "python3", tools + "/iati-import-bench.py", "--accord", cli, "--runs", runs]),
                            ("push", ["/usr/bin/env", "bash", tools + "/bench-push.sh", "30000", cli, runs])] {
        log(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError.failed("exit status \(process.terminationStatus)") }
            for line in output.split(separator: "\n") {
                if line.hasPrefix("| IATI import") || line.hasPrefix("| a ") { toolRows.append(String(line)) }
                else if !line.hasPrefix("|"), !line.isEmpty { toolNotes.append("\(name): \(line)") }
            }
        } catch {
            toolRows.append("| \(name) | failed: \(error) | | | | |")
        }
    }
}

// The report.
func machine() -> String {
    let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
    var fs = "?", best = 0
    for line in mounts.split(separator: "\n") {
        let f = line.split(separator: " ")
        if f.count > 2, scratch.hasPrefix(String(f[1])), f[1].count > best { best = f[1].count; fs = "\(f[2]) on \(f[0])" }
    }
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, Linux \(kernel), scratch on \(fs)"
}
var table = "| measure | Accord | peers | ratio | target | |\n|---|---|---|---|---|---|\n"
for row in rows { table += "| \(row.measure) | \(row.accord) | \(row.peers) | \(row.ratio) | \(row.target) | \(row.met) |\n" }
for row in toolRows { table += row + "\n" }
table += "\n| peak RSS of each phase (child process) | MiB |\n|---|---|\n"
for (name, value) in rssRows { table += "| \(name) | \(value) |\n" }
let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
table += "\n\(machine()); load average at the end \(load); \(ISO8601DateFormatter().string(from: Date())).\n"
for note in toolNotes { table += "\n" + note + "\n" }
print(table)
try table.write(toFile: out, atomically: true, encoding: .utf8)
log("wrote \(out)")

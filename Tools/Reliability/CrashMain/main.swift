import AccordReliability
import Glibc

// accord-crash: the crash campaign (Tools/Reliability.md). Kills `accord append`,
// `append --from`, `sync` (directory and HTTP) and `bundle apply` with SIGKILL at random
// moments and checks that nothing acknowledged is lost and nothing is invented.

let usage = """
    usage: accord-crash [--kills N] [--runs-per-seed N] [--first-seed S] [--server-kill-share F] [--only A,B]
                        [--scratch DIR] [--accord PATH]
      --kills N            kills to send in all (default 1000); one world per --runs-per-seed kills
      --runs-per-seed N    killed runs per world of three journals (default 25)
      --first-seed S       the first seed (default 1); seeds S, S+1, … follow
      --server-kill-share  the share of HTTP syncs whose server is killed instead (default 0.15)
      --only A,B           draw only these operations (append, append-batch, append-batch-at-write,
                           sync-directory, sync-http, bundle-apply)
      --scratch DIR        where the worlds go (default /tmp/accord-crash); failed worlds are kept
      --accord PATH        the accord executable (default: beside this one, or $ACCORD_BIN)
    Prints progress, then the counts; exits 1 if anything was lost, invented, doubled or damaged.
    """

do {
    let arguments = try DriverArguments(Array(CommandLine.arguments.dropFirst()), flagNames: ["help"])
    if arguments.flag("help") {
        say(usage)
        exit(0)
    }
    let kills = try arguments.int("kills", default: 1000)
    let perSeed = max(1, try arguments.int("runs-per-seed", default: 25))
    let first = UInt64(max(0, try arguments.int("first-seed", default: 1)))
    let seeds = (0..<UInt64((kills + perSeed - 1) / perSeed)).map { first + $0 }
    let scratch = arguments.string("scratch", default: "/tmp/accord-crash")
    mkdir(scratch, 0o755)
    var settings = CrashCampaign.Settings(accord: arguments.string("accord", default: defaultAccordPath()), scratch: scratch, seeds: seeds, runsPerSeed: perSeed)
    settings.serverKillShare = try arguments.double("server-kill-share", default: 0.15)
    settings.log = { say($0) }
    if let only = Optional(arguments.string("only", default: "")), !only.isEmpty {
        settings.only = Set(only.split(separator: ",").map(String.init))
    }
    let started = Clock.now
    say("accord-crash: \(seeds.count) worlds × \(perSeed) killed runs, seeds \(seeds.first ?? 0)…\(seeds.last ?? 0), accord '\(settings.accord)'")
    let counts = try CrashCampaign.run(settings)
    say("\nCrash campaign, \(Int(Clock.now - started)) s:\n\(counts)")
    say(counts.allSurvived ? "RESULT: every acknowledged event survived; 0 lost, 0 phantom, 0 duplicates." : "RESULT: FAILED (see above; failed worlds are kept under \(scratch)).")
    exit(counts.allSurvived ? 0 : 1)
} catch {
    say("accord-crash: \(error)\n\n\(usage)")
    exit(2)
}

import AccordReliability
import Glibc

// accord-abuse: the network abuse campaign (Tools/Reliability.md). Many concurrent clients —
// valid syncing offices, hostile raw-socket requests and slow-drip connections — against one
// `accord serve`; checks that it stays up, bounded and durable, and that journals converge.

let usage = """
    usage: accord-abuse [--clients N] [--seconds S] [--max-body BYTES] [--slow-connections N]
                        [--drip-interval S] [--idle-timeout S] [--request-timeout S]
                        [--scratch DIR] [--accord PATH]
      --clients N           concurrent clients (default 50): 2/5 valid offices, 1/5 slow-drip, the rest hostile
      --seconds S           how long the load lasts (default 60)
      --max-body BYTES      the server's --max-body (default 1048576); oversized requests exceed it
      --slow-connections N  connections each slow-drip client holds (default 10)
      --drip-interval S     seconds between two bytes of a slow connection (default 1)
      --idle-timeout S      the server's --idle-timeout (default 5)
      --request-timeout S   the server's --request-timeout (default 10)
      --scratch DIR         where the journals go (default /tmp/accord-abuse)
      --accord PATH         the accord executable (default: beside this one, or $ACCORD_BIN)
      --attacks             instead, run the attacks of issue 13 once each (no-key budget, cross-server
                            replay, hostile server against accord sync, connection flood) and print each
                            as refused or not, with the peak RSS of the process attacked
    Prints progress, then the report; exits 1 if a check failed.
    """

do {
    let arguments = try DriverArguments(Array(CommandLine.arguments.dropFirst()), flagNames: ["help", "attacks"])
    if arguments.flag("help") {
        say(usage)
        exit(0)
    }
    if arguments.flag("attacks") {
        let outcomes = try TargetedAttacks.run(accord: arguments.string("accord", default: defaultAccordPath()), scratch: arguments.string("scratch", default: "/tmp/accord-abuse"), log: { say($0) })
        say("\nTargeted attacks (issue 13):")
        for outcome in outcomes { say("  \(outcome)") }
        let refused = outcomes.allSatisfy(\.refused)
        say(refused ? "RESULT: every attack was refused." : "RESULT: FAILED (see above).")
        exit(refused ? 0 : 1)
    }
    var settings = NetworkAbuse.Settings(accord: arguments.string("accord", default: defaultAccordPath()), scratch: arguments.string("scratch", default: "/tmp/accord-abuse"))
    settings.clients = max(3, try arguments.int("clients", default: 50))
    settings.seconds = try arguments.double("seconds", default: 60)
    settings.maxBody = try arguments.int("max-body", default: 1 << 20)
    settings.slowConnectionsPerClient = try arguments.int("slow-connections", default: 10)
    settings.dripInterval = try arguments.double("drip-interval", default: 1)
    settings.idleTimeout = try arguments.double("idle-timeout", default: 5)
    settings.requestTimeout = try arguments.double("request-timeout", default: 10)
    settings.log = { say($0) }
    let report = try NetworkAbuse.run(settings)
    say("\nNetwork abuse campaign:\n\(report)")
    say(report.passed ? "RESULT: the server stayed up, every acknowledged push is durable, the journals converged." : "RESULT: FAILED (see above).")
    exit(report.passed ? 0 : 1)
} catch {
    say("accord-abuse: \(error)\n\n\(usage)")
    exit(2)
}

import AccordMirror
import AccordModel
import AccordStore
import ArgumentParser
import Dispatch
import Glibc
import Synchronization

/// `accord mirror --postgres URL [--follow]`: the journal's events and views as PostgreSQL
/// tables (Journal/Mirror.md).
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Mirror the journal's events and views into PostgreSQL tables (Journal/Mirror.md).",
        discussion: """
            --postgres is a URL, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, or a Unix socket \
            directory such as /var/run/postgresql (then $PGUSER, $PGPORT and $PGDATABASE apply; a \
            password may also come from $PGPASSWORD). The tables are created in an empty database; \
            each transaction adds events, rewrites the view rows they change and moves the per-site \
            checkpoints together, so a mirror stopped at any moment resumes exactly. Several offices \
            may mirror into one database: its views are those of the union of their events; \
            several partnerships may share one too, each row keyed by its partnership. \
            With --follow, keeps mirroring as the journal grows until SIGINT or SIGTERM. \
            Example: accord mirror --postgres postgres://accord@127.0.0.1:5432/partnership
            """)

    @OptionGroup var options: JournalOptions
    @Option(help: ArgumentHelp("Where to mirror: a postgres:// URL or a Unix socket directory.", valueName: "url"))
    var postgres: String
    @Flag(help: "Keep mirroring new events as the journal grows, until SIGINT or SIGTERM.")
    var follow = false
    @Option(help: ArgumentHelp("Events per transaction.", valueName: "n"))
    var eventsPerTransaction: Int = MirrorSchema.eventsPerTransaction
    @Flag(help: "Print a line after each transaction.")
    var verbose = false

    func validate() throws {
        guard eventsPerTransaction >= 1 else { throw ValidationError("--events-per-transaction must be at least 1.") }
    }

    func run() async throws {
        let target = try MirrorTarget(parsing: postgres)
        let journal = try options.open()
        let mirror = PostgresMirror(journal: journal, target: target)
        mirror.eventsPerTransaction = eventsPerTransaction
        if verbose {
            mirror.progress = { summary in
                printError("accord mirror: \(summary.added) added, \(summary.alreadyMirrored) already there, \(summary.transactions) transactions")
            }
        }
        let stop = StopSignals()
        let started = Timestamp.now()
        let summary = try await mirror.run(follow: follow, shouldStop: { stop.requested })
        let elapsed = Double(Timestamp.now().milliseconds - started.milliseconds) / 1000
        writeOut("Mirrored \(summary.added) new events into \(target) (\(summary.alreadyMirrored) already there, \(summary.readBack) read back from the database first) in \(summary.transactions) transactions, \(elapsed) s.\n")
    }
}

/// SIGINT and SIGTERM, turned into a flag that the mirror checks between transactions, so that
/// it stops after a commit rather than in the middle of one.
final class StopSignals: @unchecked Sendable {
    private let flag = Mutex(false)
    // Written once in init, then only kept alive (a cancelled or released source stops firing).
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in flag.withLock { $0 = true } }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool { flag.withLock { $0 } }
}

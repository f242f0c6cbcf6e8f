import AccordModel
import AccordTesting
import Glibc

/// The crash campaign (issue 5, part 1): runs `accord` commands that write journals in child
/// processes, kills each with SIGKILL at a random moment, and checks after every kill that
///
/// - every journal verifies (`accord verify` exit 0), apart from a torn last batch, which the
///   next append must cut off into `quarantine/` (counted as a torn tail recovered);
/// - every event whose append was acknowledged (exit 0) is present in its journal exactly once;
/// - no event is present that was never submitted (a phantom), none twice (a duplicate), and no
///   batch partly (batches are atomic);
/// - no event a journal once held has disappeared, and an event has the same id everywhere;
/// - after an acknowledged sync both journals hold the same events, and after an acknowledged
///   `bundle apply` the receiver holds everything the bundle brought.
///
/// Each seed is a world of three journals — `a` (site brussels), `b` (astana), `c` (lisbon,
/// served over HTTP by a child `accord serve`) — that trust one another; the operations are in
/// ``CrashCampaign/operations`` (CrashCampaign+Operations.swift). At the end of a world all
/// three are synced and must hold the same events and the same `accord state --digest`.
///
/// A SIGKILL ends a process, not the machine: what the process handed to the kernel stays in
/// the page cache. Power loss (unsynced pages lost) is not simulated here; the writer's
/// `fdatasync`-before-acknowledge is checked by the fault-injection tests instead.
public struct CrashCampaign {
    /// What to run.
    public struct Settings: Sendable {
        /// The `accord` executable.
        public var accord: String
        /// A directory for the worlds (each seed gets `seed-N/`).
        public var scratch: String
        /// One world per seed; kills are reproducible from the seed (timing aside).
        public var seeds: [UInt64]
        /// Killed runs per world.
        public var runsPerSeed: Int
        /// The share of HTTP syncs in which the server, not the client, is killed.
        public var serverKillShare: Double = 0.15
        /// The operations to draw from, by name (default: all of ``CrashCampaign/operations``).
        public var only: Set<String>?
        /// Keep worlds in which a check failed (default true); clean ones are removed.
        public var keepFailedWorlds = true
        /// Where progress lines go.
        public var log: @Sendable (String) -> Void = { _ in }

        public init(accord: String, scratch: String, seeds: [UInt64], runsPerSeed: Int) {
            self.accord = accord
            self.scratch = scratch
            self.seeds = seeds
            self.runsPerSeed = runsPerSeed
        }
    }

    /// What a campaign tried and what survived.
    public struct Counts: Sendable, CustomStringConvertible {
        /// Operations started (each was sent a SIGKILL).
        public var runs = 0
        /// SIGKILLs sent (to the operation, or to the server during an HTTP sync).
        public var kills = 0
        /// Kills that found their process still running (it ended by the signal).
        public var killedMidOperation = 0
        /// Kills of the `accord serve` an HTTP sync was talking to (counted in ``kills``).
        public var serverKills = 0
        /// Operations that finished before their kill came.
        public var finishedBeforeKill = 0
        /// Operations that exited 0 (acknowledged).
        public var acknowledged = 0
        /// Batches written whole but never acknowledged (killed after the write): allowed.
        public var writtenUnacknowledged = 0
        /// Torn last batches found by `verify` and cut off by the next append.
        public var tornTailsRecovered = 0
        /// Acknowledged events missing (or events once present that vanished).
        public var lost = 0
        /// Events present that were never submitted.
        public var phantom = 0
        /// Extra copies of an event in one journal.
        public var duplicates = 0
        /// Batches present in part.
        public var partialBatches = 0
        /// An event with different ids in two journals.
        public var idMismatches = 0
        /// `verify` found damage other than a torn tail, or a recovery failed.
        public var verifyFailures = 0
        /// Worlds whose journals, synced at the end, held the same events and digest.
        public var worldsConverged = 0
        public var worlds = 0
        /// Events submitted in all.
        public var eventsSubmitted = 0
        /// Runs and mid-operation kills per operation.
        public var perOperation: [String: (runs: Int, killedMidOperation: Int, acknowledged: Int)] = [:]
        /// One line per failed check.
        public var failures: [String] = []

        /// True when nothing was lost, invented, doubled, split or damaged.
        public var allSurvived: Bool {
            lost == 0 && phantom == 0 && duplicates == 0 && partialBatches == 0 && idMismatches == 0 && verifyFailures == 0 && worldsConverged == worlds
        }

        public var description: String {
            var lines = [
                "runs \(runs), kills \(kills) (\(killedMidOperation) mid-operation, \(finishedBeforeKill) after the operation had finished; \(serverKills) of the server during an HTTP sync), acknowledged \(acknowledged)",
                "events submitted \(eventsSubmitted); batches written but unacknowledged \(writtenUnacknowledged); torn tails recovered \(tornTailsRecovered)",
                "lost \(lost), phantom \(phantom), duplicates \(duplicates), partial batches \(partialBatches), id mismatches \(idMismatches), verify failures \(verifyFailures)",
                "worlds \(worlds), converged at the end \(worldsConverged)",
            ]
            for (name, figures) in perOperation.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(name): \(figures.runs) runs, \(figures.killedMidOperation) killed mid-operation, \(figures.acknowledged) acknowledged")
            }
            for failure in failures.prefix(20) { lines.append("  FAILED: " + failure) }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the campaign.
    /// - Throws: ``SpawnError`` or ``CrashCampaign/SetupError`` when a world cannot be built;
    ///   check failures are counted, not thrown.
    public static func run(_ settings: Settings) throws -> Counts {
        var counts = Counts()
        var typical: [String: Double] = [:]
        let drawn = operations.filter { settings.only?.contains($0.name) ?? true }
        guard !drawn.isEmpty else { throw SetupError(message: "No operation is named \(settings.only?.sorted() ?? []); the operations are \(operations.map(\.name)).") }
        for seed in settings.seeds {
            let world = try World(root: settings.scratch + "/seed-\(seed)", accord: settings.accord, seed: seed)
            defer { world.stopServer() }
            var rng = SeededRandom(seed: seed &* 0x9E37_79B9 &+ 17)
            let failuresBefore = counts.failures.count
            for run in 0..<settings.runsPerSeed {
                let operation = pick(drawn, &rng)
                var attempt = try operation.make(world, &rng, "s\(seed)r\(run)")
                counts.runs += 1
                counts.eventsSubmitted += attempt.submitted.reduce(0) { $0 + $1.subjects.count }
                let expected = typical[operation.name] ?? 0.4
                let delay = Double.random(in: 0...(expected * 1.1), using: &rng)
                let killServer = attempt.usesServer && Double.random(in: 0..<1, using: &rng) < settings.serverKillShare
                let started = Clock.now
                let child = try ChildProcess(settings.accord, attempt.arguments, stdout: world.root + "/op.out", stderr: world.root + "/op.err", environment: ["ACCORD_LOCK_TIMEOUT": "60"])
                if let segments = attempt.killWhenSegmentsGrow {
                    let before = segmentBytes(segments)
                    let deadline = Clock.now + max(30, expected * 4)
                    while Clock.now < deadline, child.poll() == nil, segmentBytes(segments) == before { usleep(20) }
                    // At once half the time (inside the write), else within 2 ms (its fdatasync).
                    if Bool.random(using: &rng) { sleepSeconds(Double.random(in: 0...0.002, using: &rng)) }
                } else {
                    sleepSeconds(delay)
                }
                var midOperation = false
                if killServer, let server = world.server {
                    midOperation = server.poll() == nil && child.poll() == nil
                    server.kill(SIGKILL)
                    server.wait()
                    counts.serverKills += 1
                    world.server = nil
                    _ = child.wait(atMost: 120)
                } else {
                    midOperation = child.poll() == nil
                    child.kill(SIGKILL)
                }
                let termination = child.wait()
                counts.kills += 1
                if termination == .signalled(SIGKILL) { midOperation = true }
                let acknowledged = termination == .exited(0)
                if midOperation { counts.killedMidOperation += 1 } else { counts.finishedBeforeKill += 1 }
                if !midOperation, acknowledged {
                    let took = Clock.now - started
                    typical[operation.name] = typical[operation.name].map { $0 * 0.8 + took * 0.2 } ?? took
                }
                if acknowledged { counts.acknowledged += 1 }
                var figures = counts.perOperation[operation.name] ?? (0, 0, 0)
                figures.runs += 1
                if midOperation { figures.killedMidOperation += 1 }
                if acknowledged { figures.acknowledged += 1 }
                counts.perOperation[operation.name] = figures
                if !acknowledged, case .exited(let code) = termination, !killServer {
                    // An operation that was not killed must succeed: anything else is a finding.
                    counts.failures.append("seed \(seed) run \(run) \(operation.name) exited \(code) without being killed: \(readText(world.root + "/op.err").prefix(300))")
                }
                for index in attempt.submitted.indices { attempt.submitted[index].acknowledged = acknowledged }
                world.ledger.batches += attempt.submitted
                try world.check(attempt.touched, counts: &counts, label: "seed \(seed) run \(run) \(operation.name) (\(termination))")
                if acknowledged, let sync = attempt.synced {
                    world.expectSameEvents(sync.0, sync.1, counts: &counts, label: "seed \(seed) run \(run) \(operation.name)")
                }
                if acknowledged, let delivered = attempt.delivered {
                    world.expectHolds(delivered.receiver, delivered.subjects, counts: &counts, label: "seed \(seed) run \(run) \(operation.name)")
                }
                if run % 10 == 9 { settings.log("seed \(seed): \(run + 1) runs; kills \(counts.kills), mid-operation \(counts.killedMidOperation), torn tails \(counts.tornTailsRecovered), lost \(counts.lost), phantom \(counts.phantom)") }
            }
            counts.worlds += 1
            if try world.converge(counts: &counts, label: "seed \(seed) final sync") { counts.worldsConverged += 1 }
            world.stopServer()
            if counts.failures.count == failuresBefore || !settings.keepFailedWorlds { world.remove() }
        }
        return counts
    }

    private static func pick(_ operations: [Operation], _ rng: inout SeededRandom) -> Operation {
        // Operations of weight 0 are drawn only when nothing else is on offer (`--only`).
        let weights = operations.contains { $0.weight > 0 } ? operations.map(\.weight) : operations.map { _ in 1 }
        var roll = Int.random(in: 0..<weights.reduce(0, +), using: &rng)
        for (operation, weight) in zip(operations, weights) {
            if roll < weight { return operation }
            roll -= weight
        }
        return operations[0]
    }

    /// A world could not be set up (an `accord init`, `peer add` or `serve` failed).
    public struct SetupError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// The total size of the files in a journal's `segments/` folder, in bytes.
func segmentBytes(_ folder: String) -> Int {
    guard let directory = opendir(folder) else { return 0 }
    defer { closedir(directory) }
    var total = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard name.hasSuffix(".gz") else { continue }
        var info = stat()
        if stat(folder + "/" + name, &info) == 0 { total += Int(info.st_size) }
    }
    return total
}

func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
}

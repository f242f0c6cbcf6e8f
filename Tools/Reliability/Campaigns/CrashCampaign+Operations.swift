import AccordTesting
import Glibc

extension CrashCampaign {
    /// One kind of command the campaign kills.
    ///
    /// **Adding an operation** (for example `accord import`) is one entry in ``operations``: a
    /// name, a weight (how often it is drawn; 0: only with `--only`), and `make`, which prepares the input files in
    /// the world, registers the events the command will submit with ``Batch`` (subjects it will
    /// create, all or nothing, in which journal), and returns the command's arguments and the
    /// journals it touches. The campaign kills it, then runs every check on those journals.
    public struct Operation: Sendable {
        public var name: String
        public var weight: Int
        public var make: @Sendable (World, inout SeededRandom, _ tag: String) throws -> Attempt
    }

    /// One prepared command.
    public struct Attempt: Sendable {
        /// `accord`'s arguments.
        public var arguments: [String]
        /// The journals (`a`, `b`, `c`) to check after the kill.
        public var touched: [String]
        /// The batches the command submits: each is wholly present or wholly absent afterwards,
        /// and present if the command exits 0.
        public var submitted: [Batch] = []
        /// The two journals that hold the same events if the command exits 0 (a sync).
        public var synced: (String, String)?
        /// A journal that holds these subjects if the command exits 0 (a bundle apply).
        public var delivered: (receiver: String, subjects: Set<String>)?
        /// True when the command talks to the world's `accord serve` (it may be killed instead).
        public var usesServer = false
        /// When set, the kill is timed to the write instead of a random delay: the campaign
        /// polls the size of this journal's segments and kills 0–2 ms after they start to grow,
        /// which lands inside the `pwrite` of a large batch or its `fdatasync`.
        public var killWhenSegmentsGrow: String?
    }

    /// Events submitted together: all or nothing.
    public struct Batch: Sendable {
        /// The journal the events are appended to.
        public var origin: String
        /// Their subjects (each unique in the campaign, so an event is known by its subject).
        public var subjects: [String]
        public var acknowledged = false
    }

    /// The operations, drawn by weight. To add one, append an entry (see ``Operation``), e.g.:
    ///
    /// ```swift
    /// Operation(name: "import-csv", weight: 2) { world, rng, tag in
    ///     let subjects = (0..<n).map { "action/\(tag)-\($0)" }      // what the file will create
    ///     writeBytes(world.root + "/in.csv", …)
    ///     return Attempt(arguments: ["import", "--csv", world.root + "/in.csv", "--journal", world.path("a")],
    ///                    touched: ["a"], submitted: [Batch(origin: "a", subjects: subjects)])
    /// }
    /// ```
    public static let operations: [Operation] = [
        // One event, `accord append TYPE --subject S --data JSON`.
        Operation(name: "append", weight: 3) { world, rng, tag in
            let target = ["a", "b", "c"].randomElement(using: &rng)!
            let subject = "action/\(tag)"
            return Attempt(
                arguments: ["append", "action.proposed.v1", "--subject", subject, "--data", actionData(tag, &rng), "--journal", world.path(target)],
                touched: [target], submitted: [Batch(origin: target, subjects: [subject])])
        },
        // A batch of 2…3000 events from a JSON Lines file, `accord append --from FILE`.
        Operation(name: "append-batch", weight: 4) { world, rng, tag in
            let target = ["a", "b", "c"].randomElement(using: &rng)!
            let roll = Int.random(in: 0..<10, using: &rng)
            let count = roll < 5 ? Int.random(in: 2...20, using: &rng) : roll < 8 ? Int.random(in: 21...500, using: &rng) : Int.random(in: 501...3000, using: &rng)
            let subjects = (0..<count).map { "action/\(tag)-\($0)" }
            var text = ""
            for (index, subject) in subjects.enumerated() {
                text += #"{"type":"action.proposed.v1","subject":"\#(subject)","data":\#(actionData("\(tag)-\(index)", &rng))}"# + "\n"
            }
            let file = world.root + "/batch.jsonl"
            writeBytes(file, Array(text.utf8))
            return Attempt(arguments: ["append", "--from", file, "--journal", world.path(target)], touched: [target], submitted: [Batch(origin: target, subjects: subjects)])
        },
        // `accord import cloudevents FILE`: 1…3000 CloudEvents of another system, recorded as one
        // batch (an import of at most 10,000 new events is one batch, Journal/Import.md).
        Operation(name: "import-cloudevents", weight: 2) { world, rng, tag in
            let target = ["a", "b", "c"].randomElement(using: &rng)!
            let count = Bool.random(using: &rng) ? Int.random(in: 1...50, using: &rng) : Int.random(in: 51...3000, using: &rng)
            let subjects = (0..<count).map { "action/\(tag)-\($0)" }
            var text = ""
            for (index, subject) in subjects.enumerated() {
                text += #"{"specversion":"1.0","id":"\#(tag)-\#(index)","source":"urn:crash-campaign","type":"action.proposed.v1","subject":"\#(subject)","datacontenttype":"application/json","data":\#(actionData("\(tag)-\(index)", &rng))}"# + "\n"
            }
            let file = world.root + "/events.ndjson"
            writeBytes(file, Array(text.utf8))
            return Attempt(arguments: ["import", "cloudevents", file, "--journal", world.path(target)], touched: [target], submitted: [Batch(origin: target, subjects: subjects)])
        },
        // A large batch (2000–4000 events, a member of about 150–300 KB) killed as its write
        // begins, so that the kill lands inside the write (a torn tail) or the fdatasync.
        // Weight 0: drawn only when asked for (`--only append-batch-at-write`); it is slow in a
        // debug build, and in trials here the kernel finished the write before the kill landed.
        Operation(name: "append-batch-at-write", weight: 0) { world, rng, tag in
            let target = ["a", "b", "c"].randomElement(using: &rng)!
            let count = Int.random(in: 2000...4000, using: &rng)
            let subjects = (0..<count).map { "action/\(tag)-\($0)" }
            var text = ""
            for (index, subject) in subjects.enumerated() {
                text += #"{"type":"action.proposed.v1","subject":"\#(subject)","data":\#(actionData("\(tag)-\(index)", &rng))}"# + "\n"
            }
            let file = world.root + "/batch.jsonl"
            writeBytes(file, Array(text.utf8))
            var attempt = Attempt(arguments: ["append", "--from", file, "--journal", world.path(target)], touched: [target], submitted: [Batch(origin: target, subjects: subjects)])
            attempt.killWhenSegmentsGrow = world.path(target) + "/segments"
            return attempt
        },
        // `accord sync --with DIR` between a and b, either way round.
        Operation(name: "sync-directory", weight: 2) { world, rng, _ in
            let (here, there) = Bool.random(using: &rng) ? ("a", "b") : ("b", "a")
            var attempt = Attempt(arguments: ["sync", "--with", world.path(there), "--journal", world.path(here)], touched: [here, there])
            attempt.synced = (here, there)
            return attempt
        },
        // `accord sync --with http://…` from a or b against `accord serve` on c.
        Operation(name: "sync-http", weight: 2) { world, rng, _ in
            let here = Bool.random(using: &rng) ? "a" : "b"
            let url = try world.serverURL()
            var attempt = Attempt(arguments: ["sync", "--with", url, "--journal", world.path(here)], touched: [here, "c"])
            attempt.synced = (here, "c")
            attempt.usesServer = true
            return attempt
        },
        // `accord bundle apply FILE`, the bundle made (not killed) from another journal, for the
        // receiver (what it was last known to lack) or whole.
        Operation(name: "bundle-apply", weight: 2) { world, rng, _ in
            let names = ["a", "b", "c"].shuffled(using: &rng)
            let (from, to) = (names[0], names[1])
            let file = world.root + "/exchange.bundle"
            unlink(file)
            var create = ["bundle", "create", "--out", file, "--journal", world.path(from)]
            if Bool.random(using: &rng) { create += ["--for", World.sites[to]!] }
            let made = try ChildProcess.run(world.accord, create, scratch: world.root)
            guard made.status == 0 else { throw SetupError(message: "bundle create failed: \(made.stderr)") }
            let brought = try world.subjects(of: from)
            var attempt = Attempt(arguments: ["bundle", "apply", file, "--journal", world.path(to)], touched: [to])
            // A bundle made --for the receiver brings only what it lacked; all it holds after an
            // acknowledged apply is checked either way.
            attempt.delivered = (to, Set(brought.keys))
            return attempt
        },
    ]

    /// A valid `action.proposed.v1` data object, of varying length.
    static func actionData(_ tag: String, _ rng: inout SeededRandom) -> String {
        let words = ["battery", "lithium", "hydrogen", "electrolyser", "refining", "skills", "offtake", "tailings", "grid", "recycling"]
        let title = (0..<Int.random(in: 2...30, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
        let pillars = ["supply-chain-resilience", "value-chain-integration"]
        return #"{"title":"\#(tag) \#(title)","pillar":"\#(pillars.randomElement(using: &rng)!)"}"#
    }
}

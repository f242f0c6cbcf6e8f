import AccordModel
import AccordProjections
import AccordSegments
import AccordServer
import AccordStore
import AccordSync
import AccordTLS
import ArgumentParser

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Merge with another office: another journal directory, or an 'accord serve' URL.",
        discussion: """
            Pulls what the other has that this journal lacks, then pushes what it lacks. Every incoming \
            event is checked (id, chain, the signature of its site under the key trusted here) before \
            anything is written. Exit 3 if a fork is found (both versions are kept in quarantine/).
            Examples: accord sync --with /mnt/share/astana · accord sync --with http://10.0.0.5:8740
            """)

    @OptionGroup var options: JournalOptions
    @Option(help: "The other journal's directory, or http://HOST:PORT of its 'accord serve'.")
    var with: String

    func run() async throws {
        let journal = try options.open()
        let result: DirectorySync.Result
        if with.hasPrefix("http://") || with.hasPrefix("https://") {
            let url = try PeerURL(with)
            if url.scheme == "http", !SiteTLS.isLoopback(host: url.host) {  // once per sync (SyncProtocol.md §4.4.4)
                printError("Warning: \(url.text) is plain HTTP to another machine: anyone on the path can read every event. Serve with 'accord serve --tls' and sync with https://.")
            }
            result = try await SyncClient.sync(journal, with: url, options: try JournalOptions.writerOptions())
        } else {
            result = try DirectorySync.sync(journal, with: try EventJournal(opening: with), options: try JournalOptions.writerOptions())
        }
        writeOut("Pulled: \(result.pulled).\nPushed: \(result.pushed).\n")
        let forks = result.pulled.forks + result.pushed.forks
        if !forks.isEmpty {
            throw CommandFailure(status: .damaged, message: forks.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "; ") + ". Nothing was merged silently; resolve it with the other office.")
        }
    }
}

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Exchange events as a file: create, verify, apply.",
        subcommands: [Create.self, VerifyBundle.self, Apply.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a bundle of the events a peer lacks (or all events).",
            discussion: "With --for PEER, only what PEER was not known to hold after the last exchange with it. Example: accord bundle create --out to-astana.bundle --for astana")
        @OptionGroup var options: JournalOptions
        @Option(help: "The bundle file to write.")
        var out: String
        @Option(name: .customLong("for"), help: "The peer the bundle is for.")
        var peer: String?

        func run() throws {
            let journal = try options.open()
            var base = VersionVector()
            if let peer {
                let site = try SiteID(peer)
                guard try journal.trustedKeys()[site] != nil, site != journal.site else {
                    throw AccordError(.notFound, "'\(peer)' is not a peer of this journal; add it with 'accord peer add'.")
                }
                base = (try? PeerStore(journal: journal).load(peer).have) ?? nil ?? VersionVector()
            }
            let bundle = try Bundle.make(from: journal, beyond: base)
            try bundle.write(to: out)
            let spans = bundle.brings.keys.sorted().map { "\($0) \(bundle.brings[$0]!.first)…\(bundle.brings[$0]!.last)" }.joined(separator: ", ")
            writeOut("Wrote '\(out)': \(bundle.records.count) events\(spans.isEmpty ? "" : " (\(spans))")\(base.entries.isEmpty ? "" : ", beyond what '\(peer!)' holds: \(base)").\n")
        }
    }

    struct VerifyBundle: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check a bundle against this journal without applying it.")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The bundle file.")
        var file: String

        func run() throws {
            let journal = try options.open()
            let bundle = try Bundle.read(file, checkingAgainst: journal)
            let notes = try bundle.verify(against: journal)
            let forks = try bundle.forks(against: journal)
            guard forks.isEmpty else {
                throw SyncError(.fork, "'\(file)' from '\(bundle.source)' forks this journal: \(forks.joined(separator: "; ")). Applying it would keep both versions in quarantine/ and write nothing of those feeds (see 'accord forks'; SyncProtocol.md §6).")
            }
            writeOut("OK: '\(file)' from '\(bundle.source)' (partnership '\(bundle.partnership)') brings \(bundle.records.count) valid, signed events.\n")
            for note in notes { writeOut("  note: \(note)\n") }
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify a bundle, then merge it. Applying it again adds nothing.")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The bundle file.")
        var file: String

        func run() throws {
            let journal = try options.open()
            let bundle = try Bundle.read(file, checkingAgainst: journal)
            let events = try bundle.decodedEvents()
            _ = try bundle.verify(against: journal, events: events, gate: false)  // the session runs the gate
            let session = try SyncSession(journal: journal, options: try JournalOptions.writerOptions())
            let summary = try session.apply(bundle.records, events: events)
            var have = bundle.requires
            for (site, span) in bundle.brings { have.entries[site] = .init(seq: span.last, id: span.lastID) }
            session.close()
            try PeerStore(journal: journal).noteExchange(with: bundle.source, have: have)
            writeOut("Applied '\(file)': \(summary).\n")
            if !summary.forks.isEmpty {
                throw CommandFailure(status: .damaged, message: summary.forks.joined(separator: "; ") + ".")
            }
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What this journal holds, what is pending, and where each peer stands.")
    @OptionGroup var options: JournalOptions

    func run() throws {
        let journal = try options.open()
        let vector = try journal.versionVector()
        let pending = try SyncSession.pendingCount(of: journal)
        var lines = ["Journal '\(journal.path)', site '\(journal.site)', partnership '\(journal.partnership)'.", "Holds: \(vector)."]
        if journal.isRestoreHeld { lines.append("Restored from a backup: appends are refused until the own feed is pulled back from a peer.") }
        lines.append(pending == 0 ? "Pending: none." : "Pending: \(pending) event\(pending == 1 ? "" : "s") waiting for earlier events of their feed.")
        for peer in try PeerStore(journal: journal).all() {
            var line = "Peer '\(peer.site)'" + (peer.record?.url.map { " at \($0)" } ?? "")
            if let have = peer.record?.have {
                let inSync = pending == 0 && have == vector
                line += ": held \(have) at \(peer.record?.lastExchange ?? "?")" + (inSync ? " — in sync." : (vector.covers(have) ? " — it lacks some of ours." : " — it has events we lack."))
            } else {
                line += ": no exchange yet."
            }
            lines.append(line)
        }
        writeOut(lines.joined(separator: "\n") + "\n")
    }
}

struct Restored: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mark this journal as restored from a backup: refuse its own appends until its own feed is pulled back from a peer.",
        discussion: """
            Run it right after restoring a journal from a backup, then 'accord sync --with PEER' (a directory or \
            URL): the pull brings back any events this site wrote after the backup, and the mark is lifted when it \
            completes without a fork of the own feed, so no sequence number is used twice. If the office had \
            appended past its backup, the pull ends in a fork and the mark stays (see 'accord forks'). A bundle does not lift the mark (its header is not \
            signed); an office that only exchanges files applies a full bundle from every peer ('accord bundle \
            create' without --for) and then runs 'accord restored --done'.
            """)
    @OptionGroup var options: JournalOptions
    @Flag(help: "Lift the mark by hand, after applying a full bundle from every peer.")
    var done = false

    func run() throws {
        let journal = try options.open()
        try journal.setRestoreHeld(!done)
        writeOut(done ? "'\(journal.path)' may append again.\n" : "Marked '\(journal.path)' as restored. Pull from a peer next: accord sync --with PEER.\n")
        // A fork of the own feed means the office appended past its backup: a sync cannot lift the
        // mark then (SyncProtocol.md §6.2), and lifting it by hand makes the next append fork again.
        let own = try ForkQuarantine.entries(of: journal).compactMap(\.proof).filter { $0.site == journal.site }
        if let proof = own.first {
            writeOut("Note: quarantine/ holds a proof that this site's own feed forks at \(proof.seq) (\(proof.id)): this journal appended past its backup, and its events from there on conflict with the ones its peers hold. "
                + (done ? "Appending now continues that other history; keep the peers' version instead (SyncProtocol.md §6.2).\n" : "A sync will keep the mark; keep the peers' version: set this journal aside and pull the feed into a new one (SyncProtocol.md §6.2).\n"))
        }
    }
}

struct Conflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List concurrent changes of the same field by different offices, and concurrent disbursements beyond a commitment.",
        discussion: "The state shows the greater-stamp version; a later change made after seeing both versions resolves a conflict.")
    @OptionGroup var options: JournalOptions

    func run() throws {
        let journal = try options.open()
        // The scanner's read model (cache/conflicts.readmodel) plus the events after it (Format.md §9.4).
        let store = ReadModelStore<ConflictScanner>(journal: journal)
        let current = try store.current()
        noteReadModel(rejection: current.rejection, file: store.relativePath, oldSnapshots: false)
        let conflicts = current.model.conflicts()
        if conflicts.isEmpty { writeOut("No conflicts.\n") }
        for conflict in conflicts {
            writeOut("\(conflict.subject) · \(conflict.field)\n")
            for write in conflict.writes { writeOut("    \(write.site):\(write.seq)  \(write.value)  (\(write.id.prefix(12))…)\n") }
            writeOut("    \(conflict.note)\n")
        }
    }
}

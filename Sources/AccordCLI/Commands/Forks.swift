import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import ArgumentParser

/// `accord forks`: the fork proofs in `quarantine/` (SyncProtocol.md §6.1).
struct Forks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, export and check fork proofs: evidence that a site signed two histories of its feed.",
        discussion: """
            A sync that finds a fork keeps its proof in quarantine/ (and gives it to the other side): both \
            versions of the feed from the fork point, each with the site's signed event that covers it. \
            Anyone who trusts the site's key can check a proof offline.
            Examples: accord forks · accord forks export astana-41-3fa9c2d1e0b4 --out fork.proof · accord forks verify fork.proof
            """,
        subcommands: [List.self, Export.self, VerifyProof.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the fork proofs this journal holds.")
        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            let entries = try ForkQuarantine.entries(of: journal)
            if entries.isEmpty { writeOut("No forks.\n") }
            for entry in entries {
                if let proof = entry.proof {
                    writeOut(describe(proof) + "\n  kept in '\(ForkProof.folder)/\(entry.fileName)'\n")
                } else {
                    writeOut("'\(ForkProof.folder)/\(entry.fileName)': not a valid fork proof here (\(entry.problem ?? "unreadable")).\n")
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a fork proof to a file, for another office or an auditor.",
            discussion: "ID is the name 'accord forks' prints (site-seq-digits); it may be left out when the journal holds one proof.")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The proof's id.")
        var id: String?
        @Option(help: "The file to write.")
        var out: String

        func run() throws {
            let journal = try options.open()
            let proofs = try ForkQuarantine.entries(of: journal).compactMap(\.proof)
            let chosen: ForkProof
            if let id {
                guard let found = proofs.first(where: { Array($0.id.utf8) == Array(id.utf8) || Array($0.fileName.utf8) == Array(id.utf8) }) else {
                    throw CommandFailure(status: .badInput, message: "This journal holds no fork proof '\(id)'" + (proofs.isEmpty ? "." : "; it holds: " + proofs.map(\.id).joined(separator: ", ") + "."))
                }
                chosen = found
            } else {
                guard proofs.count == 1 else {
                    throw CommandFailure(status: .badInput, message: proofs.isEmpty ? "This journal holds no fork proof." : "This journal holds \(proofs.count) fork proofs; name one: " + proofs.map(\.id).joined(separator: ", ") + ".")
                }
                chosen = proofs[0]
            }
            try FileBytes.writeAtomically(out, bytes: chosen.encoded())
            writeOut("Wrote '\(out)': the proof \(chosen.id) that site '\(chosen.site)' signed two different events at \(chosen.seq).\n")
        }
    }

    struct VerifyProof: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a fork proof offline, with the key this journal trusts for its site.",
            discussion: "Exit 0 when the file proves that the site signed two different events at one sequence number; 2 when it is not a fork proof of this version; 3 when its records or signatures do not hold up, or the site is not trusted here.")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The proof file ('-' for standard input).")
        var file: String
        @Flag(help: "Also keep the proof in this journal's quarantine/.")
        var keep = false

        func run() throws {
            let journal = try options.open()
            let bytes = try readInput(file, limit: ForkProof.maxBytes)
            let proof: ForkProof
            do {
                proof = try ForkProof.decode(bytes, keys: try journal.trustedKeys())
            } catch let error as AccordError {
                throw CommandFailure(status: ExitStatus.of(error), message: "'\(file)' is not a valid fork proof: \(error.message)")
            }
            writeOut("Valid: " + describe(proof) + "\n  checked with the key trusted here for '\(proof.site)'.\n")
            if keep { writeOut("Kept in '\(try ForkQuarantine.keep(proof, in: journal))'.\n") }
        }
    }
}

/// "Fork astana-3-…: site 'astana' signed two different events at 3: 1a2b… (covered by its signed event 3) and 7c8d… (covered by 5)."
private func describe(_ proof: ForkProof) -> String {
    let branches = proof.branches.map { "\($0.idAtFork.short)… (records \($0.first)…\($0.last), covered by its signed event \($0.last))" }
    return "fork \(proof.id): site '\(proof.site)' signed two different events at sequence number \(proof.seq): " + branches.joined(separator: " and ") + "."
}

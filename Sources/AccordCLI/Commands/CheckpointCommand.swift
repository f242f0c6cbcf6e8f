import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTrust
import ArgumentParser
import Glibc

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Signed checkpoints of the feeds (C2SP tlog-checkpoint), witnessing, and the auditor's offline check.",
        discussion: "Journal/Trust.md, 'Checkpoints and proofs', holds the formats byte for byte.",
        subcommands: [Write.self, Cosign.self, VerifyFile.self, WitnessKey.self, TrustWitness.self],
        defaultSubcommand: Write.self)

    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write",
            abstract: "Sign the own feed's checkpoint, keep the verified checkpoints of the other feeds, and sign the state digest.",
            discussion: """
                Writes checkpoints/<site>/<size>.note for every feed with a known checkpoint (the own one signed \
                now with the site key; the others' as their events carried them, kept only when their signature \
                verifies and their root is this copy's), records the own checkpoint as a checkpoint.signed.v1 \
                event so that it syncs, and writes checkpoints/state.note: the state digest and the version \
                vector it covers, signed with the site key (Trust.md §5).
                """)
        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            let results = try FeedCheckpoints.write(journal, writerOptions: try JournalOptions.writerOptions())
            for result in results {
                writeOut("feed '\(result.site)': \(result.summary)\n")
            }
            // The state note covers the journal as it is now (the own checkpoint event included).
            let (state, _) = try buildState(journal: journal, asOf: nil, at: nil, noSnapshot: false)
            let digest = try state.digest()
            let logs = try FeedLogs.read(journal)
            let note = try StateNote.sign(journal: journal, digest: digest, logs: logs)
            try FileBytes.writeAtomically(journal.path + "/" + CheckpointStore.folder + "/state.note", bytes: note.bytes)
            writeOut("state digest \(digest) over \(logs.trees.count) feed\(logs.trees.count == 1 ? "" : "s"): '\(CheckpointStore.folder)/state.note'\n")
        }
    }

    struct Cosign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Witness the other offices' feeds: cosign their latest checkpoints after a consistency check.",
            discussion: """
                For each other feed whose signed checkpoint this journal holds (or the note FILE), checks the \
                site's signature, then a consistency proof, from this copy of the feed, from the last size this \
                office cosigned; then adds a C2SP tlog-cosignature with the witness key (keys/<site>.witness.key, \
                created the first time) and records it as a checkpoint.cosigned.v1 event. A second, different \
                checkpoint for a size already seen is a fork: nothing is cosigned for that feed, both notes are \
                kept in checkpoints/forks/, and the exit status is 3 (Trust.md §3, §7).
                """)
        @OptionGroup var options: JournalOptions
        @Argument(help: "A signed checkpoint note received from elsewhere (optional).")
        var note: String?

        func run() throws {
            let journal = try options.open()
            let offered = try note.map { try SignedNote(parsing: try readInput($0, limit: SignedNote.maxBytes + 1)) }
            let outcomes = try Witness.cosign(journal, offered: offered, time: UInt64(max(0, time(nil))), writerOptions: try JournalOptions.writerOptions())
            if outcomes.isEmpty { writeOut("No checkpoint of another feed is held yet; sync with the other offices after they run 'accord checkpoint'.\n") }
            for outcome in outcomes { writeOut("feed '\(outcome.site)': \(outcome.summary)\n") }
        }
    }

    struct VerifyFile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a signed checkpoint, its cosignatures and a proof offline, with no journal (what an auditor runs).",
            discussion: """
                Example: accord checkpoint verify brussels-12.note --proof receipt.txt \
                --key 'accord/eu-kz-2022/brussels+1a2b3c4d+AR…' --key 'accord/eu-kz-2022/astana/witness+…+BA…' \
                --min-cosignatures 1. A receipt from 'accord prove' holds its checkpoint: FILE may be the receipt \
                itself. Exit 0 when everything verifies, 3 otherwise (Trust.md §6).
                """)
        @Argument(help: "The signed checkpoint note, or a tlog-proof receipt.")
        var file: String
        @Option(help: "A tlog-proof receipt ('accord prove EVENT_ID') to check against the checkpoint.")
        var proof: String?
        @Option(help: "An older signed checkpoint of the same feed, checked with --consistency-proof.")
        var old: String?
        @Option(name: .customLong("consistency-proof"), help: "A consistency proof ('accord prove --consistency OLD NEW') from --old to FILE.")
        var consistencyProof: String?
        @Option(help: "A verifier key: the feed's (name = origin, type 0x01) or a witness's (type 0x04). Repeat.")
        var key: [String] = []
        @Option(help: "How many valid cosignatures of the witness keys given are required.")
        var minCosignatures = 0
        @Option(help: "The 64 hex digits of the event the receipt should prove (default: the receipt's 'extra').")
        var event: String?

        func validate() throws {
            guard !key.isEmpty else { throw ValidationError("Give the feed's verifier key with --key (as 'accord keys show' prints it at that office).") }
            guard (old == nil) == (consistencyProof == nil) else { throw ValidationError("Give --old and --consistency-proof together.") }
        }

        func run() throws {
            let verifiers = try key.map { try NoteVerifier(parsing: $0) }
            let bytes = try readInput(file, limit: TlogProof.maxBytes)
            let isReceipt = bytes.starts(with: Array(TlogProof.header.utf8))
            let note = isReceipt ? try TlogProof(parsing: bytes).note : try SignedNote(parsing: bytes)
            let checked = try CheckpointAudit.check(note, verifiers: verifiers, minimumCosignatures: minCosignatures)
            let checkpoint = checked.checkpoint
            var lines = ["checkpoint '\(checkpoint.origin)' size \(checkpoint.size) root \(Base64.encode(checkpoint.root))",
                         "  signed by \(checked.signedBy.joined(separator: ", "))"]
            for cosigner in checked.cosignedBy { lines.append("  cosigned by \(cosigner.name) at \(cosigner.time) (Unix seconds)") }
            let receiptPath = proof ?? (isReceipt ? file : nil)
            if let receiptPath {
                let receipt = try TlogProof(parsing: try readInput(receiptPath, limit: TlogProof.maxBytes))
                guard receipt.note.text == note.text else {
                    throw AccordError(.untrusted, "The receipt '\(receiptPath)' leads to another checkpoint than '\(file)'.")
                }
                let leaf = try event.map { FeedLogs.leafBytes(of: try EventID(hex: $0)) }
                _ = try CheckpointAudit.check(receipt, leaf: leaf, verifiers: verifiers)
                let id = FeedLogs.hex(leaf ?? receipt.extra ?? [])
                lines.append("  event \(id) is entry \(receipt.index + 1) (leaf index \(receipt.index)) of the feed: inclusion proof of \(receipt.hashes.count) hashes verifies")
            }
            if let old, let consistencyProof {
                let oldNote = try SignedNote(parsing: try readInput(old, limit: SignedNote.maxBytes + 1))
                let oldChecked = try CheckpointAudit.check(oldNote, verifiers: verifiers)
                let proof = try ConsistencyProof(parsing: try readInput(consistencyProof, limit: TlogProof.maxBytes))
                try CheckpointAudit.checkConsistency(old: oldChecked.checkpoint, new: checkpoint, proof: proof)
                lines.append("  extends the checkpoint of size \(oldChecked.checkpoint.size): consistency proof of \(proof.hashes.count) hashes verifies")
            }
            lines.append("OK")
            writeOut(lines.joined(separator: "\n") + "\n")
        }
    }

    struct WitnessKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "witness-key",
            abstract: "Print this office's witness verifier key (creating the key the first time), for the other offices and auditors.")
        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            let signer = try WitnessKeys(journal: journal).ownSigner()
            writeOut(signer.cosignatureVerifier.text + "\n")
        }
    }

    struct TrustWitness: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust-witness",
            abstract: "Trust another office's witness key, so that its cosignatures are kept on the checkpoints.",
            discussion: "Example: accord checkpoint trust-witness astana --key \"$(accord checkpoint witness-key --journal /srv/astana)\"")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The office's site name.")
        var site: String
        @Option(help: "Its witness verifier key, as 'accord checkpoint witness-key' prints it there.")
        var key: String

        func run() throws {
            let journal = try options.open()
            try WitnessKeys(journal: journal).trust(try NoteVerifier(parsing: key), for: try SiteID(site))
            writeOut("Trusting the witness key of site '\(site)'.\n")
        }
    }
}

struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a C2SP tlog-proof receipt that an event is in its feed, or a consistency proof between two checkpoints.",
        discussion: """
            accord prove EVENT_ID: the event's index, its inclusion proof and the latest stored checkpoint of its \
            feed that covers it, with its cosignatures (run 'accord checkpoint' first). \
            accord prove --consistency OLD NEW: the RFC 6962 consistency proof from the checkpoint note OLD to NEW. \
            Check either offline with 'accord checkpoint verify' (Trust.md §4, §6).
            """)
    @OptionGroup var options: JournalOptions
    @Argument(help: "The event id (64 hex digits), or with --consistency the two checkpoint notes OLD and NEW.")
    var arguments: [String]
    @Flag(help: "Prove that the checkpoint NEW extends the checkpoint OLD.")
    var consistency = false

    func validate() throws {
        guard arguments.count == (consistency ? 2 : 1) else {
            throw ValidationError(consistency ? "Give two checkpoint notes: OLD NEW." : "Give one event id.")
        }
    }

    func run() throws {
        let journal = try options.open()
        if consistency {
            let notes = try arguments.map { try SignedNote(parsing: try readInput($0, limit: SignedNote.maxBytes + 1)) }
            let proof = try FeedCheckpoints.consistency(from: try Checkpoint(text: notes[0].text), to: try Checkpoint(text: notes[1].text), in: journal)
            writeOut(proof.bytes)
        } else {
            writeOut(try FeedCheckpoints.prove(try EventID(hex: arguments[0]), in: journal).bytes)
        }
    }
}

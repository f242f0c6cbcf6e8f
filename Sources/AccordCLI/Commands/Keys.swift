import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTrust
import ArgumentParser

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the site's keys; adopt pre-rotation, rotate, revoke (Journal/Trust.md).",
        subcommands: [ShowKey.self, Incept.self, Rotate.self, Revoke.self])

    struct ShowKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the site's name, its first (anchor) key to give to new peers, the key in force, and the key committed to come next. Private keys are never printed.")

        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            let key = try journal.signingKey().publicKey
            var text = "site        \(journal.site)\npublic key  \(key.base64)\nprivate key \(EventJournal.keysFolder)/\(journal.site).key (mode 0600; never printed)\n"
            if let history = try journal.keyHistories()[journal.site], history.epochs.count > 1 || history.hasInception {
                text += "anchor key  \(history.anchor.base64) (give this one to 'accord peer add'; peers follow the key events)\n"
                text += "key events  \(history.keyEvents.keys.sorted().map { String($0.rawValue) }.joined(separator: ", ")) (rotations \(history.epochs.count - 1 - history.revocations.count), revocations \(history.revocations.count))\n"
                if let next = history.nextDigest { text += "next key    SHA-256 \(next) (\(EventJournal.keysFolder)/\(journal.site).next.key, or where you keep it)\n" }
            }
            // The key in force as a C2SP verifier key for the feed's checkpoints (Trust.md §2.2).
            text += "note key    \(try CheckpointStore.feedSigner(for: journal).verifier.text)\n"
            // Earlier keys check the checkpoints made while they were in force: a checkpoint of
            // size n is signed by the key in force at n + 1 (Trust.md §2.1).
            if let history = try journal.keyHistories()[journal.site], history.epochs.count > 1 {
                let name = Array(Checkpoint.origin(partnership: journal.partnership, site: journal.site).utf8)
                for (index, epoch) in history.epochs.dropLast().enumerated() {
                    let last = history.epochs[index + 1].firstSeq.rawValue - 2
                    let verifier = NoteVerifier(name: name, type: NoteVerifier.ed25519, publicKey: epoch.key.rawBytes)
                    text += "earlier note key \(verifier.text) (checkpoints of sizes \(epoch.firstSeq.rawValue - 1)…\(last))\n"
                }
            }
            writeOut(text)
        }
    }

    struct Incept: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "incept",
            abstract: "Adopt pre-rotation: append key.inception.v1, signed by the key in force, committing to a new next key.",
            discussion: "The next key's seed is written to keys/SITE.next.key (mode 0600) or --next-key-file; move it off this machine if you can, and bring it back to rotate or revoke. A feed without an inception cannot rotate (Journal/Trust.md).")
        @OptionGroup var options: JournalOptions
        @Option(help: "Where to write the next key's seed (default keys/SITE.next.key).")
        var nextKeyFile: String?

        func run() throws {
            let outcome = try KeyRotation.incept(try options.open(), nextKeyPath: nextKeyFile)
            writeOut("Adopted pre-rotation at \(outcome.event.seq): the next key (SHA-256 \(outcome.nextDigest.prefix(16))…) is in '\(outcome.nextKeyFile)'. Keep it apart from the journal.\n")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Rotate to the committed next key: append key.rotated.v1 (signed by the key in force) revealing it and committing to a new next key.")
        @OptionGroup var options: JournalOptions
        @Option(help: "The committed next key's seed file (default keys/SITE.next.key); the new next key replaces it there.")
        var nextKeyFile: String?

        func run() throws {
            let outcome = try KeyRotation.rotate(try options.open(), nextKeyPath: nextKeyFile)
            writeOut("Rotated at \(outcome.event.seq): the key in force is now \(outcome.current.base64); the new next key (SHA-256 \(outcome.nextDigest.prefix(16))…) is in '\(outcome.nextKeyFile)'. Peers learn the rotation by sync.\n")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "After a compromise: append key.revoked.v1, signed by the committed next key, revoking the key in force from --from-seq on.",
            discussion: "Events signed by the revoked key at or after --from-seq that this feed does not hold are quarantined at every office they reach (Journal/Trust.md, \"Revocation\"). Choose --from-seq as the first place you do not vouch for; the feed's own events before the revocation stay valid.")
        @OptionGroup var options: JournalOptions
        @Option(help: "The first sequence number of this feed not signed by you.")
        var fromSeq: UInt64
        @Option(help: "Why (stored in the event, e.g. 'laptop stolen 2026-12-01').")
        var reason: String?
        @Option(help: "The committed next key's seed file (default keys/SITE.next.key); the new next key replaces it there.")
        var nextKeyFile: String?

        func run() throws {
            let outcome = try KeyRotation.revoke(try options.open(), fromSeq: SequenceNumber(fromSeq), reason: reason, nextKeyPath: nextKeyFile)
            writeOut("Revoked the previous key from \(fromSeq) on, at \(outcome.event.seq): the key in force is now \(outcome.current.base64); the new next key (SHA-256 \(outcome.nextDigest.prefix(16))…) is in '\(outcome.nextKeyFile)'. Sync with every peer now.\n")
        }
    }
}

struct Peer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the sites whose events this journal trusts.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trust a site's public key: its events are accepted only under this key.",
            discussion: "Example: accord peer add astana --key 'q1x…=' (the output of 'accord keys show' at that site)")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The peer site's name.")
        var name: String
        @Option(help: "The peer's Ed25519 public key, base64.")
        var key: String
        @Option(help: "http://HOST:PORT of the peer's 'accord serve', for 'accord sync'.")
        var url: String?

        func run() throws {
            let journal = try options.open()
            try PeerStore(journal: journal).add(site: try SiteID(name), key: try SitePublicKey(base64: key), url: url)
            writeOut("Trusting site '\(name)'\(url.map { " at \($0)" } ?? "").\n")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the trusted sites and their keys.")
        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            for (site, key) in try journal.trustedKeys().sorted(by: { $0.key < $1.key }) {
                let url = (try? PeerStore(journal: journal).load(site.rawValue).url) ?? nil
                writeOut(pad(site.rawValue, 20) + "  " + key.base64 + (site == journal.site ? "  (this site)" : "") + (url.map { "  " + $0 } ?? "") + "\n")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop trusting a site: its further events are refused; those already here stay.")
        @OptionGroup var options: JournalOptions
        @Argument(help: "The peer site's name.")
        var name: String

        func run() throws {
            let journal = try options.open()
            try PeerStore(journal: journal).remove(site: try SiteID(name))
            writeOut("No longer trusting site '\(name)'.\n")
        }
    }
}

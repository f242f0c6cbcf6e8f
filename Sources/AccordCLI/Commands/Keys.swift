import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTrust
import ArgumentParser

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the site's public key.",
        subcommands: [ShowKey.self])

    struct ShowKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the site's name and Ed25519 public key (base64). The private key is never printed.")

        @OptionGroup var options: JournalOptions

        func run() throws {
            let journal = try options.open()
            let key = try journal.signingKey().publicKey
            writeOut("site        \(journal.site)\npublic key  \(key.base64)\nprivate key \(EventJournal.keysFolder)/\(journal.site).key (mode 0600; never printed)\n")
            // The same key as a C2SP verifier key for the feed's checkpoints (Trust.md §2.2).
            writeOut("note key    \(try CheckpointStore.feedSigner(for: journal).verifier.text)\n")
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

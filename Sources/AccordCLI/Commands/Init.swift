import AccordModel
import AccordSegments
import AccordStore
import ArgumentParser
import Glibc

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a journal and the site's Ed25519 key pair.",
        discussion: "The private key is written to keys/<site>.key with mode 0600 and is never printed. Example: accord init --site brussels --journal /srv/accord")

    @OptionGroup var options: JournalOptions
    @Option(help: "The site's name: lower-case letters, digits and dashes (e.g. brussels).")
    var site: String
    @Option(help: "The partnership's identifier, the same at every office (e.g. eu-kz-2022). Journals of different partnerships never exchange events.")
    var partnership: String = EventJournal.defaultPartnership

    func run() throws {
        let site = try SiteID(site)
        let path = options.path
        try makeParents(of: path)
        let journal = try EventJournal.create(at: path, site: site, partnership: partnership)
        let key = try journal.signingKey().publicKey
        writeOut("Created the journal of site '\(site)' at '\(path)'.\nPublic key (give it to your peers): \(key.base64)\n")
    }

    private func makeParents(of path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw CommandFailure(status: .io, message: "Cannot create the directory '\(prefix)': \(Errno(errno)).")
            }
        }
    }
}

import AccordModel
import AccordSegments
import ArgumentParser

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one event by its id (or a unique prefix of at least 6 hex digits).",
        discussion: "Example: accord show 3f1a9c  ·  accord show 3f1a9c --json")

    @OptionGroup var options: JournalOptions
    @Argument(help: "The event id, or a unique prefix of it.")
    var id: String
    @Flag(help: "Print the stored record exactly.")
    var json = false

    func run() throws {
        let journal = try options.open()
        let wanted = try resolveID(id, in: journal)
        var events = try journal.events()
        var found: Event?
        while found == nil, let event = try events.next() {
            if event.id == wanted { found = event }
        }
        guard let event = found else {
            throw AccordError(.notFound, "No event with id '\(wanted)' in the journal at '\(journal.path)'.", field: "id")
        }
        if json {
            writeOut(event.record + [0x0a])
            return
        }
        var lines = [
            "id       \(event.id)",
            "site     \(event.site)",
            "seq      \(event.seq)",
            "prev     \(event.prev?.hex ?? "-")",
            "time     \(event.time)",
            "hlc      \(event.hlc)",
            "type     \(event.type)",
            "subject  \(event.subject)",
            "actor    \(event.actor)",
            "signed   \(event.signature == nil ? "no (covered by the signature on a later event of the batch)" : "yes")",
            "data",
        ]
        for member in event.data.members {
            lines.append("  \(member.key): \(member.value)")
        }
        writeOut(lines.joined(separator: "\n") + "\n")
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Events whose predecessor has not arrived yet, kept durably in `pending/<site>.jsonl`
/// (SyncProtocol.md §3.3): one stored record per line, replaced atomically. They survive a
/// restart and are applied when the gap is filled. Pending events are not part of the journal
/// and not in any state.
struct PendingStore {
    static let folder = "pending"
    let journal: EventJournal

    private var folderPath: String { journal.path + "/" + Self.folder }

    func events(of site: SiteID) throws -> [Event] {
        let path = folderPath + "/\(site).jsonl"
        guard access(path, F_OK) == 0 else { return [] }
        let bytes = try FileBytes.read(path, limit: 1 << 30)
        return try bytes.split(separator: 0x0a).map { try EventRecord.decode($0) }
    }

    /// Replaces the site's pending events (removes the file when there are none).
    func replace(site: SiteID, with events: [Event]) throws {
        let path = folderPath + "/\(site).jsonl"
        if events.isEmpty {
            if unlink(path) == 0 { try FileBytes.syncDirectory(folderPath) }
            return
        }
        if mkdir(folderPath, 0o755) != 0, errno != EEXIST {
            throw AccordError(.io, "Cannot create '\(folderPath)': \(Errno(errno)).")
        }
        try FileBytes.writeAtomically(path, bytes: events.sorted { $0.seq < $1.seq }.flatMap { $0.record + [0x0a] })
    }

    /// Pending events of all sites.
    func count() throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
        var total = 0
        for name in names where name.hasSuffix(".jsonl") {
            total += try FileBytes.read(folderPath + "/" + name, limit: 1 << 30).split(separator: 0x0a).count
        }
        return total
    }
}

import AccordJournal
import AccordModel

/// Sync over HTTP with a peer's `accord serve` (SyncProtocol.md §4.3).
public enum HTTPSync {
    public static func sync(_ journal: EventJournal, with url: PeerURL) throws -> DirectorySync.Result {
        throw AccordError(.badInput, "Sync over HTTP is not available in this build; use a journal directory or a bundle.")
    }
}

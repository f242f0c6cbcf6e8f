import AccordModel
import AccordSegments
import AccordStore

/// Sync with another journal directory on this machine or a shared drive (SyncProtocol.md §4.1):
/// pull what it has that we lack, then push what we have that it lacks. Each side is written
/// only under its own writer lock, through ``SyncSession``.
public enum DirectorySync {
    /// The two halves of a sync.
    public struct Result: Sendable {
        /// What the pull merged into the local journal.
        public var pulled: SyncSummary
        /// What the push merged into the other journal.
        public var pushed: SyncSummary
    }

    /// Syncs `local` with `remote`, both ways.
    /// - Parameter options: the writer options of both sides (fault injection in tests).
    /// - Returns: what each half did.
    /// - Throws: ``AccordError`` `.badInput` when the journals record different partnerships;
    ///   any error of ``SyncSession/apply(_:)`` (the side being written stays unchanged).
    public static func sync(_ local: EventJournal, with remote: EventJournal, options: SegmentWriter.Options = SegmentWriter.Options()) throws -> Result {
        guard local.partnership == remote.partnership else {
            throw AccordError(.badInput, "'\(remote.path)' records partnership '\(remote.partnership)', this journal '\(local.partnership)'; they never exchange events.")
        }
        guard local.site != remote.site else {
            throw AccordError(.badInput, "'\(remote.path)' is a journal of this same site '\(local.site)'; sync with another office's journal.")
        }
        let here = try SyncSession(journal: local, options: options)
        let pulled = try here.apply(try remote.records(lacking: here.vector))
        try here.releaseRestoreHold()
        let localVector = here.vector
        here.close()
        // A fork found by the pull is told to the other side at once (SyncProtocol.md §6.1).
        try ForkQuarantine.share(pulled.proofs, with: remote)
        let there = try SyncSession(journal: remote, options: options)
        let pushed = try there.apply(try local.records(lacking: there.vector))
        let remoteVector = there.vector
        there.close()
        try ForkQuarantine.share(pushed.proofs, with: local)
        _ = localVector
        try PeerStore(journal: local).noteExchange(with: remote.site.rawValue, have: remoteVector)
        try PeerStore(journal: remote).noteExchange(with: local.site.rawValue, have: try local.versionVector())
        return Result(pulled: pulled, pushed: pushed)
    }
}

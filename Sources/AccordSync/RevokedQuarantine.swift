import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// Events signed by a revoked key, kept in a journal's `quarantine/` (Trust.md "Revocation"):
/// `quarantine/revoked-<site>-<id>.jsonl`, where `<id>` is the id of the signed event, holding
/// the stretch's records, one a line, byte for byte as received. They are never merged; they are
/// kept so that an office can show what was forged under the site's name.
public enum RevokedQuarantine {
    /// At most this many files per site (Trust.md "Limits"): whoever holds a revoked key can sign
    /// without end, so what is kept of it is bounded; beyond, stretches are reported, not kept.
    public static let maxFilesPerSite = 64
    /// The file name prefix.
    public static let prefix = "revoked-"

    /// Keeps `stretch` (atomically; the same stretch again writes the same file).
    /// - Returns: the path relative to the journal, or nil when the site's files reached
    ///   ``maxFilesPerSite``.
    /// - Throws: ``AccordError`` `.io` when the folder cannot be created; ``SegmentError`` for a failed write.
    public static func keep(_ stretch: SyncGate.RevokedStretch, in journal: EventJournal) throws -> String? {
        let folder = journal.path + "/" + SegmentFormat.quarantineFolder
        if mkdir(folder, 0o755) != 0, errno != EEXIST { throw AccordError(.io, "Cannot create '\(folder)': \(Errno(errno)).") }
        let lastID = (try? EventRecord.decode(stretch.records[stretch.records.count - 1]))?.id.hex ?? "unknown"
        let name = "\(prefix)\(stretch.site)-\(lastID).jsonl"
        let existing = files(in: journal).filter { $0.hasPrefix("\(prefix)\(stretch.site)-") }
        guard existing.contains(name) || existing.count < maxFilesPerSite else { return nil }
        var bytes: [UInt8] = []
        for record in stretch.records { bytes += record + [0x0A] }
        try FileBytes.writeAtomically(folder + "/" + name, bytes: bytes)
        return SegmentFormat.quarantineFolder + "/" + name
    }

    /// The names of every `quarantine/revoked-*.jsonl` of `journal`, sorted.
    public static func files(in journal: EventJournal) -> [String] {
        guard let dir = opendir(journal.path + "/" + SegmentFormat.quarantineFolder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(prefix), name.hasSuffix(".jsonl") { names.append(name) }
        }
        return names.sorted()
    }
}

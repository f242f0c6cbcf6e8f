import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// The bounds on events kept pending, per feed (SyncProtocol.md §3.3). The merge that keeps
/// pending events and the reader that reads them back use the same values; what would pass them
/// is not kept (it is sent again by the next exchange), and the merge's summary counts it
/// (``SyncSummary/notKept``).
public struct PendingLimits: Sendable, Equatable {
    /// The default number of pending events per feed.
    public static let defaultMaxEventsPerFeed = 50_000
    /// The default number of bytes of pending records per feed (each record and its `\n`): 16 MiB.
    public static let defaultMaxBytesPerFeed = 16 << 20
    /// The default number of pending runs (files) per feed.
    public static let defaultMaxRunsPerFeed = 64
    /// The limits every journal uses unless a test sets others.
    public static let standard = PendingLimits(
        maxEventsPerFeed: defaultMaxEventsPerFeed, maxBytesPerFeed: defaultMaxBytesPerFeed, maxRunsPerFeed: defaultMaxRunsPerFeed)

    /// At most this many pending events per feed.
    public var maxEventsPerFeed: Int
    /// At most this many bytes of pending records per feed (each record and its `\n`).
    public var maxBytesPerFeed: Int
    /// At most this many pending runs per feed.
    public var maxRunsPerFeed: Int

    /// Limits with these values (counts and bytes, each at least 1).
    public init(maxEventsPerFeed: Int, maxBytesPerFeed: Int, maxRunsPerFeed: Int) {
        self.maxEventsPerFeed = maxEventsPerFeed
        self.maxBytesPerFeed = maxBytesPerFeed
        self.maxRunsPerFeed = maxRunsPerFeed
    }
}

/// Events whose predecessor has not arrived yet (SyncProtocol.md §3.3), kept durably as
/// **runs**: `pending/<site>/<first>-<last>-<lastID>.jsonl`, one file per stretch of the feed
/// that chains from `first` to `last` and ends with the site's signed event `lastID` (so a
/// signature covers every event in it). One stored record per line. A run file is written once
/// (atomically) and removed when its events are written to the journal or found redundant; it is
/// never rewritten, so keeping new events costs what they weigh, and the names alone say what is
/// pending: a merge reads a run only when the gap before it is filled, or when new events
/// overlap it.
///
/// Pending events are not part of the journal and not in any state.
final class PendingStore {
    static let folder = "pending"
    let journal: EventJournal
    /// Bytes read from pending files by this store (records of runs and of old-format files).
    private(set) var bytesRead = 0

    init(journal: EventJournal) { self.journal = journal }

    /// A run, as its file name describes it.
    struct Run: Equatable {
        var first: SequenceNumber
        var last: SequenceNumber
        var lastID: EventID
        /// The file's size: its records and their newlines.
        var bytes: Int
        var fileName: String
        var count: Int { Int(last.rawValue - first.rawValue + 1) }
    }

    private var folderPath: String { journal.path + "/" + Self.folder }
    private func feedPath(_ site: SiteID) -> String { folderPath + "/" + site.rawValue }

    /// The runs of `site`, by first sequence number: from the names in its folder (nothing is read).
    func runs(of site: SiteID) -> [Run] {
        let folder = feedPath(site)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var runs: [Run] = []
        for name in names where name.hasSuffix(".jsonl") {
            let parts = name.dropLast(6).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, let first = UInt64(parts[0]), let last = UInt64(parts[1]), first >= 1, last >= first,
                  String(first) == parts[0], String(last) == parts[1], let lastID = try? EventID(hex: String(parts[2])) else { continue }
            var info = stat()
            guard stat(folder + "/" + name, &info) == 0 else { continue }
            runs.append(Run(first: SequenceNumber(first), last: SequenceNumber(last), lastID: lastID, bytes: Int(info.st_size), fileName: name))
        }
        return runs.sorted { $0.first < $1.first }
    }

    /// Reads a run back: each record is checked again (form, id), the records must be of `site`,
    /// chain from `first` to `last`, end with `lastID`, and the last must carry a signature valid
    /// under a key of the site's `history` (Trust.md "Verification": which key was in force there
    /// may depend on key events not yet here; the run is checked again under the key in force
    /// when it is written). Returns nil (and removes the file) when any of that fails: such a run
    /// is not covered by a signature and is dropped.
    func load(_ run: Run, of site: SiteID, history: KeyHistory?, limits: PendingLimits) throws -> [Event]? {
        let path = feedPath(site) + "/" + run.fileName
        guard let history, let bytes = try? FileBytes.read(path, limit: limits.maxBytesPerFeed) else {
            try remove(run, of: site)
            return nil
        }
        bytesRead += bytes.count
        var events: [Event] = []
        for line in bytes.split(separator: 0x0a) {
            guard let event = try? EventRecord.decode(line), event.site == site,
                  events.last.map({ event.seq == $0.seq.next && event.prev == $0.id }) ?? (event.seq == run.first) else {
                try remove(run, of: site)
                return nil
            }
            events.append(event)
        }
        guard let last = events.last, last.seq == run.last, last.id == run.lastID, let signature = last.signature,
              history.epochs.contains(where: { $0.key.verifies(signature, forBatchEndingAt: last.id) })
                || (KeyHistory.revealedKey(of: last)?.verifies(signature, forBatchEndingAt: last.id) ?? false) else {
            try remove(run, of: site)
            return nil
        }
        return events
    }

    /// Keeps `events` (one chained stretch of `site`'s feed ending with a signed event) as a new run.
    func add(_ events: [Event], of site: SiteID) throws -> Run {
        let first = events[0].seq, last = events[events.count - 1]
        let name = "\(first.rawValue)-\(last.seq.rawValue)-\(last.id.hex).jsonl"
        for path in [folderPath, feedPath(site)] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AccordError(.io, "Cannot create '\(path)': \(Errno(errno)).")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.reduce(0) { $0 + $1.record.count + 1 })
        for event in events {
            bytes += event.record
            bytes.append(0x0a)
        }
        try FileBytes.writeAtomically(feedPath(site) + "/" + name, bytes: bytes)
        return Run(first: first, last: last.seq, lastID: last.id, bytes: bytes.count, fileName: name)
    }

    /// Removes one run.
    func remove(_ run: Run, of site: SiteID) throws {
        if unlink(feedPath(site) + "/" + run.fileName) == 0 { try FileBytes.syncDirectory(feedPath(site)) }
    }

    /// Removes every pending event of `site`.
    func removeAll(of site: SiteID) throws {
        for run in runs(of: site) { try remove(run, of: site) }
        _ = rmdir(feedPath(site))
        try removeLegacy(of: site)
    }

    /// The events of a `pending/<site>.jsonl` of the first storage (one file per feed, rewritten
    /// at every merge), read once and removed. They were kept without any check of coverage, so
    /// the merge keeps only those a valid signature covers. A file larger than the per-feed
    /// bound, or one that does not read, is dropped whole.
    func takeLegacy(of site: SiteID, limits: PendingLimits) throws -> [Event] {
        let path = folderPath + "/\(site).jsonl"
        guard access(path, F_OK) == 0 else { return [] }
        defer { try? removeLegacy(of: site) }
        guard let bytes = try? FileBytes.read(path, limit: limits.maxBytesPerFeed) else { return [] }
        bytesRead += bytes.count
        return bytes.split(separator: 0x0a).compactMap { try? EventRecord.decode($0) }.filter { $0.site == site }
    }

    private func removeLegacy(of site: SiteID) throws {
        if unlink(folderPath + "/\(site).jsonl") == 0 { try FileBytes.syncDirectory(folderPath) }
    }

    /// Pending events of all sites, from the run names (and the lines of old-format files).
    func count() throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
        var total = 0
        for name in names {
            if name.hasSuffix(".jsonl") {
                total += (try? FileBytes.read(folderPath + "/" + name, limit: 1 << 30).split(separator: 0x0a).count) ?? 0
            } else if let site = try? SiteID(name) {
                total += runs(of: site).reduce(0) { $0 + $1.count }
            }
        }
        return total
    }

    /// Pending bytes (records and newlines) of `site`, from the run files' sizes.
    func bytes(of site: SiteID) -> Int { runs(of: site).reduce(0) { $0 + $1.bytes } }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Snapshots of ``PartnershipState`` in the journal's `snapshots/` folder (Format.md §9.4).
///
/// A snapshot is a cache, never the truth: it holds the state, the version vector and the last
/// batch it covers, the projection's name and version, and the state's digest. It is used only
/// if all of these still hold: same projection and version, its digest matches its state, and
/// the journal still has, at the recorded position, a batch ending where the snapshot says with
/// the recorded last event id. Anything else — an older projection version, a snapshot taken
/// from another journal or covering events this journal lacks — is ignored, and the state is
/// rebuilt. Events after the covered batch are replayed; none before it is applied again.
public struct SnapshotStore: Sendable {
    /// The folder of snapshot files, in the journal's directory.
    public static let folder = "snapshots"

    /// A snapshot file's content.
    public struct Snapshot: Codable, Sendable {
        /// The projection's name (``PartnershipProjection/name``).
        public var projection: String
        /// The projection's version (``PartnershipProjection/version``).
        public var version: Int
        /// The digest of ``state`` (``PartnershipState/digest()``).
        public var digest: String
        /// Version vector: for each site, the last sequence number and id covered.
        public var vector: [String: PartnershipState.Feed]
        /// The last batch the state covers.
        public var coverage: StateBuilder.Coverage
        /// The state.
        public var state: PartnershipState
    }

    /// The journal whose snapshots these are.
    public let journal: EventJournal

    /// The snapshots of `journal`; nothing is read yet.
    public init(journal: EventJournal) { self.journal = journal }

    private var folderPath: String { journal.path + "/" + Self.folder }

    /// Snapshot files, newest (most events covered) first.
    public func files() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
        return names.filter { $0.hasPrefix("\(PartnershipProjection.name)-") && $0.hasSuffix(".json") }
            .sorted { eventsCovered(by: $0) > eventsCovered(by: $1) }
    }

    private func eventsCovered(by name: String) -> Int {
        Int(name.split(separator: "-").last?.dropLast(5) ?? "") ?? 0
    }

    /// The newest snapshot that is valid for this journal and projection, or nil.
    public func newestValid() -> Snapshot? {
        for name in files() {
            if let snapshot = try? load(name), isValid(snapshot) { return snapshot }
        }
        return nil
    }

    /// Reads a snapshot file.
    public func load(_ name: String) throws -> Snapshot {
        let bytes = try FileBytes.read(folderPath + "/" + name, limit: 1 << 30)
        return try JSONDecoder().decode(Snapshot.self, from: Data(bytes))
    }

    /// Whether `snapshot` may be used for this journal now.
    public func isValid(_ snapshot: Snapshot) -> Bool {
        guard snapshot.projection == PartnershipProjection.name, snapshot.version == PartnershipProjection.version,
              (try? snapshot.state.digest()) == snapshot.digest, snapshot.vector == snapshot.state.feeds
        else { return false }
        // The journal must still hold the covered batch, ending where recorded, with that last id.
        guard var batches = try? journal.directory.batches(from: snapshot.coverage.batch),
              let batch = try? batches.next(), batch.end == snapshot.coverage.end,
              let last = batch.records.last, let event = try? EventRecord.decode(last)
        else { return false }
        return event.id.hex == snapshot.coverage.lastID
    }

    /// Writes a snapshot atomically; returns its file name relative to the journal.
    @discardableResult
    public func write(state: PartnershipState, coverage: StateBuilder.Coverage) throws -> String {
        let snapshot = Snapshot(
            projection: PartnershipProjection.name, version: PartnershipProjection.version, digest: try state.digest(),
            vector: state.feeds, coverage: coverage, state: state)
        if mkdir(folderPath, 0o755) != 0, errno != EEXIST {
            throw AccordError(.io, "Cannot create '\(folderPath)': \(Errno(errno)).")
        }
        let name = "\(PartnershipProjection.name)-v\(PartnershipProjection.version)-\(state.eventCount).json"
        try FileBytes.writeAtomically(folderPath + "/" + name, bytes: Array(try JSONEncoder().encode(snapshot)))
        return Self.folder + "/" + name
    }
}

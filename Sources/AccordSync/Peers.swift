import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// What a journal knows of a peer site, in `peers/<site>.json` (SyncProtocol.md §5): where to
/// reach it and what it was last known to hold. Its key is in `keys/<site>.pub`.
public struct PeerRecord: Codable, Sendable, Equatable {
    /// The peer's site name.
    public var site: String
    /// `http://HOST:PORT` of its `accord serve`, if any.
    public var url: String?
    /// What the peer held after the last exchange with it.
    public var have: VersionVector?
    /// When that was (UTC).
    public var lastExchange: String?
}

/// The peers of a journal.
public struct PeerStore: Sendable {
    /// The folder of the peer records, in the journal directory.
    public static let folder = "peers"
    /// The journal whose peers these are.
    public let journal: EventJournal

    /// The peers of `journal`; reads nothing yet.
    public init(journal: EventJournal) { self.journal = journal }

    private func path(_ site: String) -> String { journal.path + "/" + Self.folder + "/" + site + ".json" }

    /// Trusts `key` for `site` and records its URL.
    /// - Throws: ``AccordError`` `.badInput` for this journal's own site or another key already trusted.
    public func add(site: SiteID, key: SitePublicKey, url: String?) throws {
        guard site != journal.site else { throw AccordError(.badInput, "'\(site)' is this journal's own site, not a peer.") }
        if let url { _ = try PeerURL(url) }
        try journal.trust(key, for: site)
        var record = (try? load(site.rawValue)) ?? PeerRecord(site: site.rawValue)
        record.url = url ?? record.url
        try save(record)
    }

    /// Stops trusting `site`: its key and record are removed; its events already here stay.
    public func remove(site: SiteID) throws {
        guard site != journal.site else { throw AccordError(.badInput, "'\(site)' is this journal's own site, not a peer.") }
        let key = journal.path + "/" + EventJournal.keysFolder + "/\(site).pub"
        guard access(key, F_OK) == 0 else { throw AccordError(.notFound, "'\(site)' is not a peer of this journal.") }
        unlink(key)
        unlink(path(site.rawValue))
        try FileBytes.syncDirectory(journal.path + "/" + EventJournal.keysFolder)
    }

    /// Reads the record of peer `site`.
    /// - Throws: ``SegmentError`` when there is none or it cannot be read; `DecodingError` when
    ///   it is not a peer record.
    public func load(_ site: String) throws -> PeerRecord {
        try JSONDecoder().decode(PeerRecord.self, from: Data(try FileBytes.read(path(site), limit: 1 << 20)))
    }

    /// Writes `record` to `peers/<site>.json`, durably and atomically (sorted keys, pretty-printed).
    /// - Throws: ``AccordError`` `.io` when the folder cannot be created; ``SegmentError`` for a
    ///   failed write.
    public func save(_ record: PeerRecord) throws {
        let folder = journal.path + "/" + Self.folder
        if mkdir(folder, 0o755) != 0, errno != EEXIST { throw AccordError(.io, "Cannot create '\(folder)': \(Errno(errno)).") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileBytes.writeAtomically(path(record.site), bytes: Array(try encoder.encode(record)))
    }

    /// Records what a peer holds after an exchange.
    public func noteExchange(with site: String, have: VersionVector) throws {
        guard site != journal.site.rawValue, Slug.isValid(site) else { return }
        var record = (try? load(site)) ?? PeerRecord(site: site)
        record.have = have
        record.lastExchange = Timestamp.now().text
        try save(record)
    }

    /// Every trusted peer, with its record when there is one.
    public func all() throws -> [(site: SiteID, key: SitePublicKey, record: PeerRecord?)] {
        try journal.trustedKeys().filter { $0.key != journal.site }.sorted { $0.key < $1.key }.map { ($0.key, $0.value, try? load($0.key.rawValue)) }
    }
}

/// An `http://host:port` peer address.
public struct PeerURL: Sendable {
    /// `http` (plain, for loopback) or `https` (mutual TLS pinned to the site keys,
    /// SyncProtocol.md §4.4).
    public let scheme: String
    /// The host, as written.
    public let host: String
    /// The TCP port, 1 to 65535.
    public let port: Int
    /// `SCHEME://HOST:PORT`, without a trailing slash.
    public let text: String

    /// True for `https://`.
    public var isTLS: Bool { scheme == "https" }

    /// Parses a peer address.
    /// - Throws: ``AccordError`` `.badInput` unless `text` is `http://HOST:PORT` or
    ///   `https://HOST:PORT` (no path).
    public init(_ text: String) throws {
        let scheme: String
        if text.hasPrefix("http://") { scheme = "http" } else if text.hasPrefix("https://") { scheme = "https" } else {
            throw AccordError(.badInput, "The peer URL '\(text.prefix(80))' must be http://HOST:PORT or https://HOST:PORT.", field: "url")
        }
        var rest = String(text.dropFirst(scheme.count + 3))
        if rest.hasSuffix("/") { rest.removeLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port), colon > rest.startIndex else {
            throw AccordError(.badInput, "The peer URL '\(text.prefix(80))' must be http://HOST:PORT or https://HOST:PORT.", field: "url")
        }
        self.scheme = scheme
        host = String(rest[..<colon])
        self.port = port
        self.text = "\(scheme)://\(host):\(port)"
    }
}

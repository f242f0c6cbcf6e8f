import AccordModel
import AccordParallel
import AccordSegments
import AccordStore
import Foundation
import Glibc

/// A bundle: the file offices exchange instead of connecting (SyncProtocol.md §4), like a git
/// bundle. It is a member file (Format.md §4): the first batch holds one record, the header;
/// every later batch holds event records of one site, in sequence order, ending with a signed
/// event. `zcat bundle` shows it all.
///
/// The header (canonical JSON, version 2):
/// `{"brings":{"brussels":{"first":5,"last":21,"lastID":"…"}},"bundle":"accord","bytes":5120,
///   "created":"2024-05-01T10:00:00Z","events":17,"partnership":"eu-kz-2022",
///   "requires":{"brussels":{"id":"…","seq":4}},"sig":"…","source":"brussels","version":2}`
/// — `requires` is what the receiver must already hold for the bundle to apply without
/// leaving anything pending; `brings` what it adds; `bytes` the bytes of its event records
/// (each with its newline) once inflated; `sig` the source site's Ed25519 signature of the
/// ASCII `accord-bundle-v2:` followed by the header's canonical JSON without `sig`
/// (SyncProtocol.md §4.2). A reader checks the header — signature, partnership, bounds —
/// before it inflates anything else, and inflates no more than `bytes` (``maxRecordBytes``).
public struct Bundle: Sendable {
    /// The header's `bundle` field.
    public static let formatName = "accord"
    /// The bundle format version this program writes and reads (SyncProtocol.md §4.2, §8).
    /// Version 1 (an unsigned header) is refused with its reason (Journal/Decisions/0009-signed-bundle-headers.md).
    public static let version = 2

    /// The most bytes of event records (each with its newline) a bundle may hold once inflated:
    /// 1 GiB (1,073,741,824). Writers split larger exchanges (``split(maxBytes:)``); a reader
    /// refuses a header that declares more, and stops inflating past what the header declares.
    public static let maxRecordBytes = 1 << 30

    /// The prefix of the signed message of a header (SyncProtocol.md §4.2).
    static let signaturePrefix = "accord-bundle-v2:"

    /// What a feed's part of the bundle brings: its events `first…last`, the last one's id.
    public struct Span: Sendable, Equatable {
        /// The sequence number of the first event brought.
        public var first: SequenceNumber
        /// The sequence number of the last event brought (a signed one).
        public var last: SequenceNumber
        /// The id of the last event brought.
        public var lastID: EventID
    }

    /// The partnership of the journal that made the bundle.
    public var partnership: String
    /// The site that made the bundle.
    public var source: String
    /// When it was made (RFC 3339 UTC).
    public var created: String
    /// What the receiver must hold for the bundle to apply without leaving anything pending.
    public var requires: VersionVector
    /// What it brings, by site.
    public var brings: [SiteID: Span]
    /// The event records, per site in sequence order.
    public var records: [[UInt8]] {
        didSet { envelopes = nil }
    }

    /// What ``encoded()`` and ``split(maxBytes:)`` read of an event record: its place and
    /// whether it carries a signature.
    typealias Envelope = EventRecord.Place

    /// The envelopes of ``records``, in order, when the bundle was made from events decoded
    /// already (``make(from:beyond:)`` reads them from the journal, every record checked there):
    /// ``split(maxBytes:)`` and ``encoded()`` then do not decode every record again (issue 16).
    /// Dropped whenever ``records`` changes; nil means: decode.
    private var envelopes: [Envelope]?

    /// The envelope of every record, in order: ``envelopes``, else each record decoded (checked
    /// in full; its data is not built).
    /// - Throws: ``AccordError`` for the first record that is not an event.
    private func recordEnvelopes() throws -> [Envelope] {
        if let envelopes, envelopes.count == records.count { return envelopes }
        return try EventRecord.decodeAll(records).map { Envelope(try $0.get()) }
    }
    /// The key the header is signed with when the bundle is encoded: the source site's
    /// (``make(from:beyond:)`` loads it from the journal).
    public var signingKey: SiteKey?
    /// The header's signature as read (nil for a bundle made here).
    public private(set) var headerSignature: [UInt8]?

    /// A bundle from its parts (to be signed with `signingKey` when encoded).
    public init(partnership: String, source: String, created: String, requires: VersionVector, brings: [SiteID: Span], records: [[UInt8]], signingKey: SiteKey? = nil) {
        self.partnership = partnership
        self.source = source
        self.created = created
        self.requires = requires
        self.brings = brings
        self.records = records
        self.signingKey = signingKey
    }

    /// Makes a bundle of everything `journal` holds beyond `base` (what the receiver is known
    /// to hold; empty for everything), to be signed with the journal's own key.
    /// - Throws: ``SegmentError`` for a failed read of the journal; ``AccordError`` `.notFound`
    ///   when the journal's private key is missing.
    public static func make(from journal: EventJournal, beyond base: VersionVector = VersionVector()) throws -> Bundle {
        // Each site's records and envelopes, sites in order of first appearance (few: a linear
        // search, not a hash of each event). No `Event` is built: each record's place is read
        // from its envelope's fixed prefix (`EventRecord.place(of:site:)`), and only a record of
        // another shape is decoded in full (which names what is wrong with it). The records
        // were checked when this journal wrote or admitted them; the receiver checks each one.
        var sites: [SiteID] = [], feeds: [(records: [[UInt8]], envelopes: [Envelope])] = []
        var current = -1
        var batches = try journal.directory.batches(from: journal.deltaStart(lacking: base))
        while let batch = try batches.next() {
            for record in batch.records {
                let place = record.withUnsafeBytes { EventRecord.place(of: $0, site: current < 0 ? nil : sites[current]) }
                let envelope = try place ?? Envelope(try EventRecord.decode(record))
                // The receiver's last known event overlaps, so that it can compare ids (a fork).
                guard envelope.seq >= max(base.seq(envelope.site), SequenceNumber(1)) else { continue }
                if current < 0 || sites[current] != envelope.site {
                    current = sites.firstIndex(of: envelope.site) ?? -1
                    if current < 0 {
                        sites.append(envelope.site)
                        feeds.append(([], []))
                        current = sites.count - 1
                    }
                }
                feeds[current].records.append(Array(record))
                feeds[current].envelopes.append(envelope)
            }
        }
        let requires = base
        var brings: [SiteID: Span] = [:]
        var records: [[UInt8]] = []
        var envelopes: [Envelope] = []
        for number in sites.indices.sorted(by: { sites[$0] < sites[$1] }) {
            let site = sites[number], feed = feeds[number].envelopes
            // Only the overlap, and it matches: nothing to bring.
            if feed.count == 1, feed[0].seq == base.seq(site), base.entries[site]?.id == feed[0].id { continue }
            brings[site] = Span(first: feed[0].seq, last: feed[feed.count - 1].seq, lastID: feed[feed.count - 1].id)
            records += feeds[number].records
            envelopes += feed
        }
        var bundle = Bundle(partnership: journal.partnership, source: journal.site.rawValue, created: Timestamp.now().text,
                            requires: requires, brings: brings, records: records, signingKey: try journal.signingKey())
        bundle.envelopes = envelopes
        return bundle
    }

    /// The header's members but `sig`, canonically encoded: what the signature signs, after
    /// ``signaturePrefix``.
    func unsignedHeader() throws -> [UInt8] {
        let brought = JSONObject(brings.keys.sorted().map { site in
            let span = brings[site]!
            return (site.rawValue, .object(JSONObject([("first", .number(String(span.first.rawValue))), ("last", .number(String(span.last.rawValue))), ("lastID", .string(span.lastID.hex))])))
        })
        return try CanonicalJSON.encode(.object(headerObject(brought: brought)))
    }

    private func headerObject(brought: JSONObject) -> JSONObject {
        JSONObject([
            ("bundle", .string(Self.formatName)), ("version", .number(String(Self.version))), ("partnership", .string(partnership)),
            ("source", .string(source)), ("created", .string(created)), ("requires", requires.json()), ("brings", .object(brought)),
            ("events", .number(String(declared?.events ?? records.count))), ("bytes", .number(String(declared?.bytes ?? records.reduce(0) { $0 + $1.count + 1 }))),
        ])
    }

    /// The header record: the header signed with ``signingKey`` (or, for a bundle read, with
    /// the signature it carried).
    func header() throws -> [UInt8] {
        let unsigned = try unsignedHeader()
        guard case .object(var object) = try JSONParser.parse(unsigned) else { throw AccordError(.badInput, "The bundle header is not an object.") }
        let signature: [UInt8]
        if let signingKey {
            signature = try signingKey.sign(Array(Self.signaturePrefix.utf8) + unsigned)
        } else if let headerSignature {
            signature = headerSignature
        } else {
            throw AccordError(.notFound, "The bundle has no key to sign its header with; make it with 'Bundle.make(from:)' from a journal that holds its site's private key.")
        }
        object.members.append((key: "sig", value: .string(Base64.encode(signature))))
        return try CanonicalJSON.encode(.object(object))
    }

    /// The bundle's bytes: the header batch, then one batch per signed stretch of a feed
    /// (Format.md §4).
    /// - Throws: ``AccordError`` for a record that is not an event; ``SegmentError``
    ///   `.invalidRecord` for a batch the format refuses.
    public func encoded() throws -> [UInt8] {
        var batches: [[[UInt8]]] = [[try header()]]
        var current: [[UInt8]] = []
        var currentSite: SiteID?
        // Only the envelopes are needed (site, signature).
        for (record, event) in zip(records, try recordEnvelopes()) {
            if currentSite != event.site, !current.isEmpty {
                batches.append(current)
                current = []
            }
            currentSite = event.site
            current.append(record)
            if event.signed || current.count >= 10_000 {
                batches.append(current)
                current = []
            }
        }
        if !current.isEmpty { batches.append(current) }
        return try MemberFile.encode(batches)
    }

    /// The bundle cut into bundles of at most about `maxBytes` of records each, every one ending
    /// with a signed event of its feed (for transports with a size limit).
    /// - Parameter maxBytes: the size a part is cut at, in bytes of records.
    /// - Throws: ``AccordError`` for a record that is not an event.
    public func split(maxBytes: Int) throws -> [Bundle] {
        var parts: [Bundle] = []
        var current: [[UInt8]] = []
        var currentEnvelopes: [Envelope] = []
        var spans: [SiteID: Span] = [:]
        var size = 0
        func flush() {
            guard !current.isEmpty else { return }
            var part = Bundle(partnership: partnership, source: source, created: created, requires: requires, brings: spans, records: current, signingKey: signingKey)
            part.envelopes = currentEnvelopes
            parts.append(part)
            current = []
            currentEnvelopes = []
            spans = [:]
            size = 0
        }
        // Only the envelopes are needed (site, seq, id, signature).
        for (record, event) in zip(records, try recordEnvelopes()) {
            current.append(record)
            currentEnvelopes.append(event)
            spans[event.site] = Span(first: spans[event.site]?.first ?? event.seq, last: event.seq, lastID: event.id)
            size += record.count + 1
            if event.signed, size >= maxBytes { flush() }
        }
        flush()
        return parts
    }

    /// Writes the bundle durably and atomically.
    /// - Throws: ``SegmentError`` for a failed write.
    public func write(to path: String) throws {
        try FileBytes.writeAtomically(path, bytes: try encoded())
    }

    /// Reads a bundle file: first its header — checked against `journal` when one is given
    /// (``checkHeader(against:)``: signature, partnership, bounds) — and only then the rest,
    /// inflating no more than the header declares; every member's checksums are checked.
    /// - Parameters:
    ///   - path: the bundle file.
    ///   - limit: the largest file accepted, in bytes.
    ///   - journal: the journal the bundle is for; nil to read without checking the header's
    ///     signature (``verify(against:)`` checks it later).
    /// - Throws: ``AccordError`` `.notFound` (exit 2) when there is no such file; `.badInput`
    ///   for a file that is not a bundle (empty, text, a byte-order mark: with the reason), of
    ///   another version, or whose header declares more than ``maxRecordBytes`` or than it holds;
    ///   the errors of ``checkHeader(against:)``; ``SegmentError`` `.corrupt` for a changed byte
    ///   of a bundle (with its offset).
    public static func read(_ path: String, limit: Int64 = 1 << 30, checkingAgainst journal: EventJournal? = nil) throws -> Bundle {
        try sniff(path, name: "'\(path)'")
        var bundle: Bundle?
        var deferred: SiteID?
        let batches: [Batch]
        do {
            batches = try MemberFile.read(path, limit: limit, inflatedLimit: Int.max) { first in
                var header = try parseHeader(first.records.map { Array($0) }, name: "'\(path)'")
                header.bundle.records = []
                if let journal, try !header.bundle.checkHeaderBeforeRecords(against: journal) { deferred = try SiteID(header.bundle.source) }
                bundle = header.bundle
                // Nothing beyond what the header declares is inflated.
                return header.bytes
            }
        } catch let error as SegmentError {
            // Damage after a header not yet verified: the header is what is refused.
            guard let site = deferred, let bundle else { throw error }
            var refusal = bundle.headerRefusal(site, carried: false)
            refusal.message += " The bundle is damaged too: \(error.message)"
            throw refusal
        }
        guard var bundle else { throw AccordError(.badInput, "'\(path)' is not an Accord bundle: it holds no batch.") }
        // Each batch's records copied out of it at once on every core (a 30,000-event push
        // copied 12.5 MB into 30,000 arrays on one thread before its events were decoded).
        let events = batches.dropFirst()
        try bundle.takeRecords(ParallelSlots.map(events.count) { events[events.startIndex + $0].records.map { Array($0) } }, name: "'\(path)'")
        // A header signed by a key the source's own key events in the bundle reveal (Trust.md
        // "Transport", bundles): checked now, before anything of the bundle is kept.
        if deferred != nil, let journal { try bundle.checkHeader(against: journal) }
        return bundle
    }

    /// Refuses a file that is not a bundle, before reading it as one: a missing file, an empty
    /// one, one that starts with a byte-order mark or with anything but a gzip member.
    private static func sniff(_ path: String, name: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AccordError(.notFound, "There is no bundle file \(name) (\(String(cString: strerror(errno)))); check the path.")
        }
        guard info.st_size > 0 else {
            throw AccordError(.badInput, "\(name) is not an Accord bundle: the file is empty.")
        }
        var start = [UInt8](repeating: 0, count: 3)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            let count = Glibc.read(fd, &start, 3)
            close(fd)
            start = Array(start.prefix(max(0, count)))
        }
        if start.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw AccordError(.badInput, "\(name) is not an Accord bundle: it starts with a UTF-8 byte-order mark (EF BB BF), so it is a text file; a bundle starts with a gzip member (1F 8B).")
        }
        guard start.starts(with: [0x1F, 0x8B]) else {
            throw AccordError(.badInput, "\(name) is not an Accord bundle: it does not start with a gzip member (bytes 1F 8B)\(start.allSatisfy { $0 >= 0x09 && $0 < 0x7F } ? "; it looks like a text file" : "").")
        }
    }

    /// Parses a bundle from its bytes (as received over HTTP), through a scratch file.
    /// - Parameters:
    ///   - limit: the largest bundle read, in bytes.
    ///   - journal: the journal the bundle is for: its header is then checked before anything
    ///     else is inflated (``read(_:limit:checkingAgainst:)``); nil to leave that to
    ///     ``verify(against:)``.
    /// - Throws: as ``read(_:limit:checkingAgainst:)``; a message names "The bundle", not the
    ///   scratch file.
    public static func parse(bytes: [UInt8], limit: Int = 1 << 30, checkingAgainst journal: EventJournal? = nil) throws -> Bundle {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bundle-\(UUID().uuidString)").path
        // Read back at once and removed: nothing to keep across a crash, so not synced.
        try FileBytes.writeNew(scratch, bytes: bytes, mode: 0o600, durable: false)
        defer { unlink(scratch) }
        do {
            return try read(scratch, limit: Int64(limit), checkingAgainst: journal)
        } catch var error as SegmentError {
            error.message = error.message.replacingOccurrences(of: "'\(scratch)'", with: "The bundle")
            throw error
        } catch var error as AccordError {
            error.message = error.message.replacingOccurrences(of: "'\(scratch)'", with: "The bundle")
            throw error
        }
    }

    /// A parsed header: the bundle without records, and the record bytes it declares.
    private struct Header {
        var bundle: Bundle
        var events: Int
        var bytes: Int
    }

    /// Parses the first batch as a version 2 header; refuses version 1 with its reason.
    private static func parseHeader(_ first: [[UInt8]], name: String) throws -> Header {
        guard first.count == 1, case .object(let header)? = try? JSONParser.parse(first[0]),
              header["bundle"]?.stringValue == formatName else {
            throw AccordError(.badInput, "\(name) is not an Accord bundle: its first batch is not a bundle header.")
        }
        guard case .number(let version)? = header["version"], version == String(Self.version) else {
            if case .number("1")? = header["version"] {
                throw AccordError(.badInput, "\(name) is a bundle of format version 1, whose header is not signed; this program reads version \(Self.version) only, whose header the source site signs (SyncProtocol.md §4.2, §8). Ask '\((header["source"]?.stringValue ?? "?").prefix(64))' to make the bundle again with this version of accord.")
            }
            throw AccordError(.badInput, "\(name) is a bundle of format version \(header["version"].map { "\($0)".prefix(20) } ?? "?"); this program reads version \(Self.version) only.")
        }
        guard let partnership = header["partnership"]?.stringValue, Slug.isValid(partnership),
              let source = header["source"]?.stringValue, Slug.isValid(source),
              let created = header["created"]?.stringValue, created.utf8.count <= 64, let requiresValue = header["requires"],
              case .object(let broughtObject)? = header["brings"], case .number(let countText)? = header["events"], let count = Int(countText), count >= 0,
              case .number(let bytesText)? = header["bytes"], let bytes = Int(bytesText), bytes >= 0,
              let signatureText = header["sig"]?.stringValue, let signature = Base64.decode(signatureText), signature.count == 64
        else { throw AccordError(.badInput, "\(name) has an incomplete bundle header.") }
        guard bytes <= maxRecordBytes, count <= bytes / 2 else {
            throw AccordError(.badInput, "\(name) declares \(count) events in \(bytes) bytes; a bundle holds at most \(maxRecordBytes) bytes of events (Bundle.maxRecordBytes, SyncProtocol.md §4.2), each at least 2. Nothing was read beyond its header.")
        }
        var brings: [SiteID: Span] = [:]
        for member in broughtObject.members {
            guard let site = try? SiteID(member.key), case .object(let span) = member.value, case .number(let first)? = span["first"], case .number(let last)? = span["last"],
                  let lastHex = span["lastID"]?.stringValue, let lastID = try? EventID(hex: lastHex), let firstSeq = UInt64(first), let lastSeq = UInt64(last)
            else { throw AccordError(.badInput, "\(name) has an invalid 'brings' entry for '\(member.key.prefix(64))'.") }
            brings[site] = Span(first: SequenceNumber(firstSeq), last: SequenceNumber(lastSeq), lastID: lastID)
        }
        var bundle = Bundle(partnership: partnership, source: source, created: created,
                            requires: try VersionVector(json: requiresValue, field: "requires"), brings: brings, records: [])
        bundle.headerSignature = signature
        bundle.declared = (count, bytes)
        return Header(bundle: bundle, events: count, bytes: bytes)
    }

    /// A bundle from its batches (the header's, then the events'), as ``read(_:limit:checkingAgainst:)``
    /// reads them, without checking the header's signature.
    static func parse(batches: [[[UInt8]]], name: String) throws -> Bundle {
        guard let first = batches.first else { throw AccordError(.badInput, "\(name) is not an Accord bundle: it holds no batch.") }
        var bundle = try parseHeader(first, name: name).bundle
        try bundle.takeRecords(Array(batches.dropFirst()), name: name)
        return bundle
    }

    /// The counts the header read declared: events and bytes of records.
    private var declared: (events: Int, bytes: Int)?

    /// Takes the records of the batches after the header, refusing a header that lies about them.
    private mutating func takeRecords(_ batches: [[[UInt8]]], name: String) throws {
        records = Array(batches.joined())
        let bytes = records.reduce(0) { $0 + $1.count + 1 }
        if let declared, records.count != declared.events || bytes != declared.bytes {
            throw AccordError(.badInput, "\(name) announces \(declared.events) events (\(declared.bytes) bytes) but holds \(records.count) (\(bytes) bytes).")
        }
    }
}

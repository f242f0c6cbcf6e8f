import AccordModel
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
    public var records: [[UInt8]]
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
        var bySite: [SiteID: [Event]] = [:]
        var events = try journal.events(from: journal.deltaStart(lacking: base))
        while let event = try events.next() {
            // The receiver's last known event overlaps, so that it can compare ids (a fork).
            guard event.seq >= max(base.seq(event.site), SequenceNumber(1)) else { continue }
            bySite[event.site, default: []].append(event)
        }
        for (site, feed) in bySite where feed.count == 1 && feed[0].seq == base.seq(site) && base.entries[site]?.id == feed[0].id {
            bySite[site] = nil  // only the overlap, and it matches: nothing to bring
        }
        let requires = base
        var brings: [SiteID: Span] = [:]
        var records: [[UInt8]] = []
        for site in bySite.keys.sorted() {
            let feed = bySite[site]!
            brings[site] = Span(first: feed.first!.seq, last: feed.last!.seq, lastID: feed.last!.id)
            records += feed.map(\.record)
        }
        return Bundle(partnership: journal.partnership, source: journal.site.rawValue, created: Timestamp.now().text,
                      requires: requires, brings: brings, records: records, signingKey: try journal.signingKey())
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
        var currentSite: String?
        // Only the envelopes are needed (site, signature): checked in full, data not built.
        for (record, decoded) in zip(records, EventRecord.decodeAllEnvelopes(records)) {
            let event = try decoded.get()
            if currentSite != event.site.rawValue, !current.isEmpty {
                batches.append(current)
                current = []
            }
            currentSite = event.site.rawValue
            current.append(record)
            if event.signature != nil || current.count >= 10_000 {
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
        var spans: [SiteID: Span] = [:]
        var size = 0
        func flush() {
            guard !current.isEmpty else { return }
            parts.append(Bundle(partnership: partnership, source: source, created: created, requires: requires, brings: spans, records: current, signingKey: signingKey))
            current = []
            spans = [:]
            size = 0
        }
        // Only the envelopes are needed (site, seq, id, signature): checked in full, data not built.
        for (record, decoded) in zip(records, EventRecord.decodeAllEnvelopes(records)) {
            let event = try decoded.get()
            current.append(record)
            spans[event.site] = Span(first: spans[event.site]?.first ?? event.seq, last: event.seq, lastID: event.id)
            size += record.count + 1
            if event.signature != nil, size >= maxBytes { flush() }
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
        try bundle.takeRecords(batches.dropFirst().map { $0.records.map { Array($0) } }, name: "'\(path)'")
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
        try FileBytes.writeNew(scratch, bytes: bytes, mode: 0o600)
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

    /// Checks the header against `journal`: the partnership, that its source is a site this
    /// journal trusts, and that the header's signature verifies under the source's key in force
    /// (SyncProtocol.md §4.2; Trust.md "Transport").
    ///
    /// The key in force is the one after the key events this journal holds of the source's feed
    /// — or, when the header does not verify under it, the one after the key events that the
    /// bundle itself carries of that feed (an inception and rotations made since the receiver
    /// last heard of the source): those are first passed through ``SyncGate`` like every event
    /// (form, id, the signature under the key in force at their place, the rules of key events)
    /// and must chain, through `prev`, to the last event this journal holds of the feed. Nothing
    /// is written.
    ///
    /// ```swift
    /// let bundle = try Bundle.read(path)          // no journal: header not checked yet
    /// try bundle.checkHeader(against: journal)    // also done by verify(against:)
    /// ```
    /// - Throws: ``AccordError`` `.badInput` (another partnership), `.untrusted` (an unknown
    ///   source, a signature that does not verify, no signature); what ``SyncGate/admit(_:histories:heads:now:source:)``
    ///   throws for the source's records when they are needed.
    public func checkHeader(against journal: EventJournal) throws {
        let (site, history) = try trustedSource(in: journal)
        let (signature, message) = try signedHeader()
        if history.current.verifies(signature, message: message) { return }
        let carried = try Self.keyHistory(of: site, after: history, carriedBy: records, in: journal)
        guard carried.lastKeyEventSeq > history.lastKeyEventSeq, carried.current.verifies(signature, message: message) else {
            throw headerRefusal(site, carried: carried.lastKeyEventSeq > history.lastKeyEventSeq)
        }
    }

    /// The part of ``checkHeader(against:)`` done before the records are inflated (Trust.md
    /// "Transport", bundles): the partnership, the source, and the signature under the key in
    /// force after the key events this journal holds.
    /// - Returns: true when the header verified; false when it may verify under a key that the
    ///   bundle's own key events reveal: the bundle brings the source's feed from no later than
    ///   the event after this journal's copy to beyond its last key event held here. Then the
    ///   caller reads the records, within the header's declared `bytes` (at most
    ///   ``maxRecordBytes``), and calls ``checkHeader(against:)``; any other header is refused
    ///   before the records are inflated.
    /// - Throws: as ``checkHeader(against:)``, when the header cannot verify.
    func checkHeaderBeforeRecords(against journal: EventJournal) throws -> Bool {
        let (site, history) = try trustedSource(in: journal)
        let (signature, message) = try signedHeader()
        if history.current.verifies(signature, message: message) { return true }
        guard let span = brings[site], span.first <= (try journal.versionVector().seq(site)).next, span.last > history.lastKeyEventSeq else {
            throw headerRefusal(site, carried: false)
        }
        return false
    }

    private func trustedSource(in journal: EventJournal) throws -> (SiteID, KeyHistory) {
        guard partnership == journal.partnership else {
            throw AccordError(.badInput, "The bundle is for partnership '\(partnership)', this journal records '\(journal.partnership)'. Nothing was applied.")
        }
        guard let site = try? SiteID(source), let history = try journal.keyHistories()[site] else {
            throw AccordError(.untrusted, "The bundle was made by site '\(source)', which this journal does not trust; add its key with 'accord peer add \(source) --key …'. Nothing was applied.")
        }
        return (site, history)
    }

    private func signedHeader() throws -> (signature: [UInt8], message: [UInt8]) {
        let message = Array(Self.signaturePrefix.utf8) + (try unsignedHeader())
        if let headerSignature { return (headerSignature, message) }
        if let signingKey { return (try signingKey.sign(message), message) }
        throw AccordError(.untrusted, "The bundle's header is not signed. Nothing was applied.")
    }

    private func headerRefusal(_ site: SiteID, carried: Bool) -> AccordError {
        AccordError(.untrusted, "The signature on the bundle's header does not verify under the key in force for its source '\(site)' (after the key events this journal holds\(carried ? " and those the bundle carries" : "")): the header was changed or made by someone else, or the source rotated its key and this journal holds neither the rotation nor the commitment to the new key. Nothing was applied; get the source's key events by another path (a bundle from it made for everything, or a third office) and try again.")
    }

    /// The key history of `site` after the key events of its feed that `records` carry and that
    /// pass the gate, up to the first gap: the events from the one after this journal's copy on,
    /// each linking by `prev` to the one before (Trust.md "Transport", bundles).
    /// - Throws: what ``SyncGate/admit(_:histories:heads:now:source:)`` throws for the site's records.
    static func keyHistory(of site: SiteID, after history: KeyHistory, carriedBy records: [[UInt8]], in journal: EventJournal) throws -> KeyHistory {
        let own = records.filter { (try? EventRecord.decode($0))?.site == site }
        guard !own.isEmpty else { return history }
        let head = try journal.versionVector().entries[site]
        let admitted = try SyncGate.admit(own, histories: [site: history], heads: [site: head?.seq ?? SequenceNumber(0)], source: "Event (of the bundle)")
        let feed = admitted.bySite[site] ?? [:]
        var result = history
        var seq = head?.seq ?? SequenceNumber(0)
        var prev = head?.id
        while let event = feed[seq.next], event.prev == prev {
            if KeyHistory.isKeyEvent(event) { try result.record(event) }
            seq = event.seq
            prev = event.id
        }
        return result
    }

    /// Checks the bundle against `journal` without writing anything: the header
    /// (``checkHeader(against:)``), then the gate every transport passes (``SyncGate``: every
    /// record's form and id, trust, signatures, coverage, clock readings), each feed's chain,
    /// that what the header says it brings is what it holds. Returns what applying would leave
    /// pending. (Forks against the journal: ``forks(against:)``.)
    /// - Throws: ``AccordError`` `.badInput` (another partnership, a header that lies, an `hlc`
    ///   too far ahead), `.untrusted` (an unsigned or forged header, an unknown site, a bad
    ///   signature), `.damaged`; ``SyncError`` `.fork` (two signed events at one place).
    public func verify(against journal: EventJournal) throws -> [String] {
        try verify(against: journal, events: try decodedEvents())
    }

    /// The bundle's records decoded, in order, as ``verify(against:events:)`` and
    /// ``SyncSession/apply(_:events:)`` take them (``SyncGate/decode(_:source:)``).
    /// - Throws: ``AccordError`` `.damaged` naming the first record that is not a valid event.
    public func decodedEvents() throws -> [Event] {
        try SyncGate.decode(records, source: "Event (of the bundle)")
    }

    /// ``verify(against:)`` with the records decoded already (``decodedEvents()``), so that
    /// the caller that then applies them decodes them once.
    /// - Parameter gate: false when the caller passes `events` to
    ///   ``SyncSession/apply(_:events:)`` next, which runs the same gate (``SyncGate``) under
    ///   the writer lock before anything is written: the checks are not repeated, so a bundle
    ///   whose chain and signatures are both wrong is refused for its chain first.
    public func verify(against journal: EventJournal, events: [Event], gate: Bool = true) throws -> [String] {
        try checkHeader(against: journal)
        if gate {
            _ = try SyncGate.admit(events: events, histories: try journal.keyHistories(), heads: try journal.versionVector().entries.mapValues(\.seq))
        }
        var last: [SiteID: Event] = [:]
        for event in events {
            if let previous = last[event.site], event.seq != previous.seq.next || event.prev != previous.id {
                throw AccordError(.badInput, "The bundle's events of site '\(event.site)' do not chain at \(event.seq). Nothing was applied.")
            }
            last[event.site] = event
        }
        for (site, span) in brings {
            guard let event = last[site], event.seq == span.last, event.id == span.lastID, event.signature != nil else {
                throw AccordError(.badInput, "The bundle's header says it brings '\(site)' up to \(span.last), but its events do not end there with a signed event. Nothing was applied.")
            }
        }
        guard Set(last.keys) == Set(brings.keys) else {
            throw AccordError(.badInput, "The bundle holds events of sites its header does not name. Nothing was applied.")
        }
        var notes: [String] = []
        let have = try journal.versionVector()
        for (site, span) in brings.sorted(by: { $0.key < $1.key }) where have.seq(site).next < span.first {
            notes.append("feed '\(site)': the bundle starts at \(span.first) but this journal holds only up to \(have.seq(site)); those events will wait as pending")
        }
        return notes
    }

    /// The forks applying the bundle would find: feeds where it holds another event than
    /// `journal` at a place both hold, or starts right after the journal's head with an event
    /// that does not link to it (SyncProtocol.md §6.1). Reads the journal only when the bundle
    /// overlaps it. Call after ``verify(against:)``.
    /// - Returns: one line per forked feed ("fork in feed 'astana' at 41: …"); empty when none.
    /// - Throws: ``AccordError`` for a record that is not an event; ``SegmentError`` for a
    ///   failed read of the journal.
    public func forks(against journal: EventJournal) throws -> [String] {
        let have = try journal.versionVector()
        var overlap: [SiteID: [SequenceNumber: EventID]] = [:]
        var forked: [SiteID: SequenceNumber] = [:]
        for record in records {
            let event = try EventRecord.decode(record)
            let head = have.seq(event.site)
            if event.seq <= head {
                overlap[event.site, default: [:]][event.seq] = event.id
            } else if event.seq == head.next, head.rawValue > 0, let headID = have.entries[event.site]?.id, event.prev != headID {
                forked[event.site] = head
            }
        }
        if !overlap.isEmpty {
            var events = try journal.events()
            while let event = try events.next() {
                guard let theirs = overlap[event.site]?[event.seq], theirs != event.id else { continue }
                forked[event.site] = min(forked[event.site] ?? event.seq, event.seq)
            }
        }
        return forked.keys.sorted().map { site in
            "fork in feed '\(site)' at \(forked[site]!): the bundle holds another signed version of that feed than this journal"
        }
    }
}

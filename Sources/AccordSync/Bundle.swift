import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// A bundle: the file offices exchange instead of connecting (SyncProtocol.md §4), like a git
/// bundle. It is a member file (Format.md §4): the first batch holds one record, the header;
/// every later batch holds event records of one site, in sequence order, ending with a signed
/// event. `zcat bundle` shows it all.
///
/// The header (canonical JSON):
/// `{"bundle":"accord","version":1,"partnership":"eu-kz-2022","source":"brussels",
///   "created":"2024-05-01T10:00:00Z","requires":{"brussels":{"id":"…","seq":4}},
///   "brings":{"brussels":{"first":5,"last":21,"lastID":"…"}},"events":17}`
/// — `requires` is what the receiver must already hold for the bundle to apply without
/// leaving anything pending; `brings` what it adds.
public struct Bundle: Sendable {
    /// The header's `bundle` field.
    public static let formatName = "accord"
    /// The bundle format version this program writes and reads (SyncProtocol.md §4).
    public static let version = 1

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

    /// Makes a bundle of everything `journal` holds beyond `base` (what the receiver is known
    /// to hold; empty for everything).
    /// - Throws: ``SegmentError`` for a failed read of the journal.
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
                      requires: requires, brings: brings, records: records)
    }

    /// The header record.
    func header() throws -> [UInt8] {
        let brought = JSONObject(brings.keys.sorted().map { site in
            let span = brings[site]!
            return (site.rawValue, .object(JSONObject([("first", .number(String(span.first.rawValue))), ("last", .number(String(span.last.rawValue))), ("lastID", .string(span.lastID.hex))])))
        })
        return try CanonicalJSON.encode(.object(JSONObject([
            ("bundle", .string(Self.formatName)), ("version", .number(String(Self.version))), ("partnership", .string(partnership)),
            ("source", .string(source)), ("created", .string(created)), ("requires", requires.json()), ("brings", .object(brought)),
            ("events", .number(String(records.count))),
        ])))
    }

    /// The bundle's bytes: the header batch, then one batch per signed stretch of a feed
    /// (Format.md §4).
    /// - Throws: ``AccordError`` for a record that is not an event; ``SegmentError``
    ///   `.invalidRecord` for a batch the format refuses.
    public func encoded() throws -> [UInt8] {
        var batches: [[[UInt8]]] = [[try header()]]
        var current: [[UInt8]] = []
        var currentSite: String?
        for record in records {
            let event = try EventRecord.decode(record)
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
        var size = 0
        func flush() throws {
            guard !current.isEmpty else { return }
            var part = Bundle(partnership: partnership, source: source, created: created, requires: requires, brings: [:], records: current)
            var bySite: [SiteID: [Event]] = [:]
            for record in current { let event = try EventRecord.decode(record); bySite[event.site, default: []].append(event) }
            for (site, feed) in bySite { part.brings[site] = Span(first: feed.first!.seq, last: feed.last!.seq, lastID: feed.last!.id) }
            parts.append(part)
            current = []
            size = 0
        }
        for record in records {
            let event = try EventRecord.decode(record)
            current.append(record)
            size += record.count + 1
            if event.signature != nil, size >= maxBytes { try flush() }
        }
        try flush()
        return parts
    }

    /// Writes the bundle durably and atomically.
    /// - Throws: ``SegmentError`` for a failed write.
    public func write(to path: String) throws {
        try FileBytes.writeAtomically(path, bytes: try encoded())
    }

    /// Reads a bundle file: every member's checksums, then the header.
    /// - Throws: ``SegmentError`` `.corrupt` for a changed byte (with its offset);
    ///   ``AccordError`` `.badInput` for a file that is not a bundle or of an unknown version.
    public static func read(_ path: String, limit: Int64 = 1 << 30) throws -> Bundle {
        let batches = try MemberFile.read(path, limit: limit)
        return try parse(batches: batches.map { $0.records.map { Array($0) } }, name: "'\(path)'")
    }

    /// Parses a bundle from its bytes (as received over HTTP), through a scratch file.
    /// - Parameter limit: the largest bundle read, in bytes once inflated.
    /// - Throws: as ``read(_:limit:)``; a message names "The bundle", not the scratch file.
    public static func parse(bytes: [UInt8], limit: Int = 1 << 30) throws -> Bundle {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bundle-\(UUID().uuidString)").path
        try FileBytes.writeNew(scratch, bytes: bytes, mode: 0o600)
        defer { unlink(scratch) }
        do {
            return try read(scratch, limit: Int64(limit))
        } catch var error as SegmentError {
            error.message = error.message.replacingOccurrences(of: "'\(scratch)'", with: "The bundle")
            throw error
        }
    }

    static func parse(batches: [[[UInt8]]], name: String) throws -> Bundle {
        guard let first = batches.first, first.count == 1, case .object(let header)? = try? JSONParser.parse(first[0]),
              header["bundle"]?.stringValue == formatName else {
            throw AccordError(.badInput, "\(name) is not an Accord bundle: its first batch is not a bundle header.")
        }
        guard case .number(let version)? = header["version"], version == String(Self.version) else {
            throw AccordError(.badInput, "\(name) is a bundle of format version \(header["version"].map { "\($0)" } ?? "?"); this program reads version \(Self.version) only.")
        }
        guard let partnership = header["partnership"]?.stringValue, Slug.isValid(partnership),
              let source = header["source"]?.stringValue, Slug.isValid(source),
              let created = header["created"]?.stringValue, let requiresValue = header["requires"],
              case .object(let broughtObject)? = header["brings"], case .number(let countText)? = header["events"], let count = Int(countText)
        else { throw AccordError(.badInput, "\(name) has an incomplete bundle header.") }
        var brings: [SiteID: Span] = [:]
        for member in broughtObject.members {
            guard let site = try? SiteID(member.key), case .object(let span) = member.value, case .number(let first)? = span["first"], case .number(let last)? = span["last"],
                  let lastHex = span["lastID"]?.stringValue, let lastID = try? EventID(hex: lastHex), let firstSeq = UInt64(first), let lastSeq = UInt64(last)
            else { throw AccordError(.badInput, "\(name) has an invalid 'brings' entry for '\(member.key.prefix(64))'.") }
            brings[site] = Span(first: SequenceNumber(firstSeq), last: SequenceNumber(lastSeq), lastID: lastID)
        }
        let records = Array(batches.dropFirst().joined())
        guard records.count == count else {
            throw AccordError(.badInput, "\(name) announces \(count) events but holds \(records.count).")
        }
        return Bundle(partnership: partnership, source: source, created: created,
                      requires: try VersionVector(json: requiresValue, field: "requires"), brings: brings, records: records)
    }

    /// Checks the bundle against `journal` without writing anything: the partnership, every
    /// record's form and id, trust and signatures, each feed's chain, that what the header says
    /// it brings is what it holds. Returns what applying would leave pending.
    /// - Throws: ``AccordError`` `.badInput` (another partnership, a header that lies),
    ///   `.untrusted`, `.damaged`.
    public func verify(against journal: EventJournal) throws -> [String] {
        guard partnership == journal.partnership else {
            throw AccordError(.badInput, "The bundle is for partnership '\(partnership)', this journal records '\(journal.partnership)'. Nothing was applied.")
        }
        let keys = try journal.trustedKeys()
        var last: [SiteID: Event] = [:]
        for (index, record) in records.enumerated() {
            let event: Event
            do {
                event = try EventRecord.decode(record)
            } catch let error as AccordError {
                throw AccordError(.damaged, "Event \(index + 1) of the bundle is not valid: \(error.message)")
            }
            guard let key = keys[event.site] else {
                throw AccordError(.untrusted, "The bundle brings events of site '\(event.site)', which this journal does not trust. Nothing was applied.")
            }
            if let signature = event.signature, !key.verifies(signature, forBatchEndingAt: event.id) {
                throw AccordError(.untrusted, "The signature on event \(event.seq) of site '\(event.site)' in the bundle does not verify under the trusted key. Nothing was applied.")
            }
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
}

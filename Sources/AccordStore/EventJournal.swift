import AccordModel
import AccordSegments
import Glibc

/// A site's journal of events: a ``SegmentDirectory`` plus the site's name and keys
/// (Format.md §1, §8).
///
/// ```swift
/// let journal = try EventJournal.create(at: "/srv/accord", site: SiteID("brussels"))
/// let writer = try journal.openWriter()
/// try writer.append([EventDraft(type: "action.proposed.v1", subject: Subject("action/roadmap"), data: data)])
/// var events = try journal.events()
/// while let event = try events.next() { print(event.type) }
/// ```
public struct EventJournal: Sendable {
    /// Name of the file holding the site's name (Format.md §1).
    public static let siteFileName = "SITE"
    /// Folder of key files (Format.md §8).
    public static let keysFolder = "keys"

    /// Name of the file holding the partnership's identifier (Format.md §1).
    public static let partnershipFileName = "PARTNERSHIP"
    /// The partnership of a journal without a `PARTNERSHIP` file.
    public static let defaultPartnership = "default"
    /// The most bytes read of `SITE` or `PARTNERSHIP` (Format.md §1, `MAX_IDENTIFIER_FILE`); a
    /// longer file does not hold a valid name.
    public static let maxIdentifierFileBytes = 256
    /// The most bytes read of a key file `keys/<site>.key` or `.pub` (Format.md §8,
    /// `MAX_KEY_FILE`); a longer file does not hold a valid key.
    public static let maxKeyFileBytes = 1024

    /// The journal's segments (`segments/`, `FORMAT`, `quarantine/`), read through `AccordSegments`.
    public let directory: SegmentDirectory
    /// The site this journal belongs to: the only feed it appends to.
    public let site: SiteID
    /// The partnership this journal records (a slug); journals of different partnerships never
    /// exchange events.
    public let partnership: String

    /// The journal directory's path as given.
    public var path: String { directory.path }

    /// Opens an existing journal.
    /// - Throws: ``SegmentError`` (`.notAJournal`, `.unsupportedVersion`) or ``AccordError``
    ///   (`.io` when `SITE` is unreadable).
    public init(opening path: String) throws {
        directory = try SegmentDirectory(opening: path)
        let sitePath = path + "/" + Self.siteFileName
        guard let bytes = try? FileBytes.read(sitePath, limit: Self.maxIdentifierFileBytes) else {
            throw AccordError(.io, "The journal at '\(path)' has no readable '\(Self.siteFileName)' file naming its site.")
        }
        site = try SiteID(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
        // Only a missing file means `default` (Format.md §1): a file that is present must hold a
        // slug, so that one over the limit, or unreadable, never joins the `default` partnership.
        let partnershipPath = path + "/" + Self.partnershipFileName
        var status = stat()
        if lstat(partnershipPath, &status) != 0, errno == ENOENT {
            partnership = Self.defaultPartnership
        } else {
            let bytes = try? FileBytes.read(partnershipPath, limit: Self.maxIdentifierFileBytes)
            partnership = bytes.map { String(decoding: $0, as: UTF8.self).trimmingWhitespace } ?? ""
            guard Slug.isValid(partnership) else {
                throw AccordError(.badInput, "'\(path)/\(Self.partnershipFileName)' does not hold a partnership identifier (a lower-case slug and a newline, at most \(Self.maxIdentifierFileBytes) bytes); correct it, or delete it to use 'default'.")
            }
        }
    }

    /// Creates a journal for `site`, with a new Ed25519 key pair (or the key from `seed`, for
    /// reproducible fixtures only). The private key file is created with mode 0600.
    /// - Throws: ``SegmentError`` `.alreadyExists`, `.io`.
    /// - Parameter partnership: the partnership's identifier, a slug (default `default`).
    public static func create(at path: String, site: SiteID, seed: [UInt8]? = nil, partnership: String = defaultPartnership) throws -> EventJournal {
        guard Slug.isValid(partnership) else {
            throw AccordError(.badInput, "The partnership identifier '\(partnership.prefix(80))' is not valid: use lower-case letters, digits and single dashes (e.g. 'eu-kz-2022').", field: "partnership")
        }
        let key = try seed.map { try SiteKey(seed: $0) } ?? SiteKey()
        // Keys and SITE are written before FORMAT (which `SegmentDirectory.create` writes last),
        // so an interrupted `init` leaves nothing that opens, and can be run again.
        try SegmentDirectory.create(at: path) { path in
            let keys = path + "/" + keysFolder
            if mkdir(keys, 0o700) != 0, errno != EEXIST {
                throw AccordError(.io, "Cannot create '\(keys)': \(Errno(errno)).")
            }
            try FileBytes.writeAtomically(keys + "/\(site).key", bytes: Array((Base64.encode(key.seed) + "\n").utf8), mode: 0o600)
            try FileBytes.writeAtomically(keys + "/\(site).pub", bytes: Array((key.publicKey.base64 + "\n").utf8), mode: 0o644)
            try FileBytes.writeAtomically(path + "/" + siteFileName, bytes: Array((site.rawValue + "\n").utf8))
            try FileBytes.writeAtomically(path + "/" + partnershipFileName, bytes: Array((partnership + "\n").utf8))
        }
        return try EventJournal(opening: path)
    }

    /// The site's own signing key.
    /// - Throws: ``AccordError`` `.notFound` when the key file is missing or unreadable.
    public func signingKey() throws -> SiteKey {
        let keyPath = path + "/" + Self.keysFolder + "/\(site).key"
        guard let bytes = try? FileBytes.read(keyPath, limit: Self.maxKeyFileBytes),
              let seed = Base64.decode(String(decoding: bytes, as: UTF8.self).trimmingWhitespace), seed.count == 32
        else {
            throw AccordError(.notFound, "The private key of site '\(site)' is missing or unreadable at '\(Self.keysFolder)/\(site).key'; this copy of the journal cannot append.")
        }
        return try SiteKey(seed: seed)
    }

    /// The public keys this journal trusts, by site: every `keys/<site>.pub` (Format.md §8).
    /// - Throws: ``SegmentError`` `.io` when a key file cannot be read; ``AccordError``
    ///   `.badInput` when one does not hold a usable public key (naming the file; a weak key is refused, ``SitePublicKey/weakness(of:)``).
    public func trustedKeys() throws -> [SiteID: SitePublicKey] {
        var keys: [SiteID: SitePublicKey] = [:]
        let folder = path + "/" + Self.keysFolder
        guard let dir = opendir(folder) else { return keys }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasSuffix(".pub"), let site = try? SiteID(String(name.dropLast(4))) else { continue }
            let bytes = try FileBytes.read(folder + "/" + name, limit: Self.maxKeyFileBytes)
            do {
                keys[site] = try SitePublicKey(base64: String(decoding: bytes, as: UTF8.self))
            } catch var error as AccordError {
                error.message = "The key file '\(Self.keysFolder)/\(name)' does not hold a usable key: \(error.message) Remove it ('accord peer remove \(site)') and add the site's real key."
                throw error
            }
        }
        return keys
    }

    /// Trusts `key` for the events of `site` (writes `keys/<site>.pub`).
    /// - Throws: ``AccordError`` `.badInput` when another key is already trusted for the site.
    public func trust(_ key: SitePublicKey, for site: SiteID) throws {
        if let existing = try trustedKeys()[site] {
            guard existing == key else {
                throw AccordError(.badInput, "Site '\(site)' already has another trusted key; remove it first if the site has really changed its key.")
            }
            return
        }
        try FileBytes.writeAtomically(path + "/" + Self.keysFolder + "/\(site).pub", bytes: Array((key.base64 + "\n").utf8))
    }

    /// Name of the file that marks a journal restored from a backup (Format.md §1).
    public static let restoredFileName = "RESTORED"

    /// Whether the journal is marked as restored from a backup: its own appends are refused
    /// until its own feed has been pulled back from a peer (SyncProtocol.md §6).
    public var isRestoreHeld: Bool { access(path + "/" + Self.restoredFileName, F_OK) == 0 }

    /// Marks (or unmarks) the journal as restored from a backup.
    /// - Throws: ``SegmentError`` `.io` when the marker cannot be written, or its removal synced.
    public func setRestoreHeld(_ held: Bool) throws {
        let marker = path + "/" + Self.restoredFileName
        if held {
            try FileBytes.writeAtomically(marker, bytes: Array("restored from a backup; pull the own feed back from a peer before appending\n".utf8))
        } else if unlink(marker) == 0 {
            try FileBytes.syncDirectory(path)
        }
    }

    /// Reads the events in journal order, decoding and checking each record.
    /// - Throws: ``SegmentError`` as ``SegmentDirectory/batches(from:tolerateTornTail:)``.
    /// - Parameter accessPoints: when set, each large batch read keeps its access points
    ///   (``EventIterator/batchAccess``), for the web view's index (Journal/UI.md §8); nil (the
    ///   default) records none.
    public func events(from position: SegmentPosition = .start, accessPoints: AccessPointOptions? = nil) throws -> EventIterator {
        EventIterator(batches: try directory.batches(from: position, accessPoints: accessPoints))
    }

    /// The events of the one batch that starts at `position`, read and checked exactly as
    /// ``events(from:)`` reads them (the member's framing and checksum, each record decoded and
    /// checked), without reading the batches before it. For an index that keeps where each
    /// event's batch starts (the web view's log, Journal/UI.md §8).
    /// - Parameter position: where the batch starts, as ``EventIterator/batchPosition`` gave it.
    /// - Returns: the batch's events in stored order; never empty.
    /// - Throws: ``SegmentError`` for a damaged batch; ``AccordError`` `.damaged` when no batch
    ///   starts at `position` (the journal was replaced: restart the reader), `.notFound` when
    ///   the journal ends before it.
    public func batch(at position: SegmentPosition) throws -> [Event] {
        var iterator = try events(from: position)
        var batch: [Event] = []
        var found: SegmentPosition?
        while let event = try iterator.next() {
            found = iterator.batchPosition
            guard found == position else { break }
            batch.append(event)
            if iterator.isLastOfBatch { return batch }
        }
        throw Self.noBatch(at: position, found: found)
    }

    /// Some events of the one batch that starts at `position`, and its last event (the one that
    /// carries the batch's signature): the member is read and checked as ``events(from:)`` reads
    /// it (framing, checksum, size), and the records at `indices` and the last are decoded and
    /// checked as it decodes them; the other records are not decoded. For the web view's event
    /// pages, whose index keeps each event's batch and index in it (Journal/UI.md §8).
    /// - Parameters:
    ///   - position: where the batch starts, as ``EventIterator/batchPosition`` gave it.
    ///   - indices: records of the batch, from 0, in the order wanted.
    /// - Returns: the events at `indices`, in that order, and the batch's last event.
    /// - Throws: ``SegmentError`` for a damaged batch; ``AccordError`` `.damaged` for a record
    ///   that is not a valid event, when no batch starts at `position` or it holds no record at
    ///   one of `indices`; `.notFound` when the journal ends before `position`.
    public func events(inBatchAt position: SegmentPosition, at indices: [Int]) throws -> (events: [Event], last: Event) {
        var batches = try directory.batches(from: position)
        guard let batch = try batches.next() else { throw Self.noBatch(at: position, found: nil) }
        guard batch.position == position else { throw Self.noBatch(at: position, found: batch.position) }
        let count = batch.records.count
        guard count > 0, indices.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw AccordError(.damaged, "The batch at \(position) holds \(count) records, not the ones asked for; if the journal was restored from a backup, restart the program that read it.")
        }
        func decode(_ index: Int) throws -> Event {
            do {
                return try EventRecord.decode(batch.records[index])
            } catch var error as AccordError {
                error.message = "In record \(index + 1) of the batch at byte \(position.offset) of '\(SegmentDirectory.relativeSegmentPath(position.segment))': " + error.message
                throw error
            }
        }
        return (try indices.map(decode), try decode(count - 1))
    }

    /// One record of a batch as an index keeps it: its index in the batch, its byte range in the
    /// inflated batch (without its `\n`) and its event's id.
    public struct IndexedRecord: Sendable {
        /// The record's index in its batch, from 0.
        public var index: Int
        /// Its bytes in the inflated batch, without the `\n` after them (a ``Batch/records``
        /// slice's indices).
        public var range: Range<Int>
        /// The id of the event it holds, as indexed.
        public var id: EventID

        /// - Parameters:
        ///   - index: see ``index``.
        ///   - range: see ``range``.
        ///   - id: see ``id``.
        public init(index: Int, range: Range<Int>, id: EventID) {
            self.index = index
            self.range = range
            self.id = id
        }
    }

    /// Some events of the one batch that starts at `position`, read from the batch's access
    /// points (``SegmentDirectory/inflate(ranges:ofBatchAt:framing:points:)``): only from the
    /// point before each record to its end is inflated, not the whole member. For the web view's
    /// event pages at large batches (Journal/UI.md §8).
    ///
    /// The member's CRC-32 cannot be checked on such a read; instead the member must still frame
    /// as `framing` says, each record must decode and check as ``events(from:)`` checks it, and
    /// its id (the hash of its content, Format.md §7.3) must be the one `records` names; a record
    /// that carries a signature (which its id does not cover) must satisfy `acceptSigned`.
    /// When any of these fails, or zlib reports an error, or `points` is empty, the whole member
    /// is read and checked instead (``events(inBatchAt:at:)``), whose outcome is returned or thrown.
    /// - Parameters:
    ///   - position: where the batch starts.
    ///   - framing: what the member said when it was indexed (``Batch/framing``).
    ///   - points: its access points (``Batch/accessPoints``).
    ///   - records: the records wanted, in the order wanted.
    ///   - acceptSigned: whether a record read partly that carries a signature may be trusted
    ///     (e.g. its signature verifies); false sends the read to the whole member.
    /// - Returns: the events of `records`, in that order.
    /// - Throws: as ``events(inBatchAt:at:)``; ``AccordError`` `.damaged` when the whole member
    ///   holds another event at one of the records' indices (the journal was replaced).
    public func events(
        inBatchAt position: SegmentPosition, framing: BatchFraming, points: [AccessPoint], records: [IndexedRecord],
        acceptSigned: (Event) -> Bool = { _ in true }
    ) throws -> [Event] {
        if !points.isEmpty, let events = try? directory.inflate(ranges: records.map(\.range), ofBatchAt: position, framing: framing, points: points)
            .enumerated().map({ n, bytes -> Event? in
                guard let event = try? EventRecord.decode(bytes), event.id == records[n].id else { return nil }
                return event.signature == nil || acceptSigned(event) ? event : nil
            }),
           events.allSatisfy({ $0 != nil }) {
            return events.map { $0! }
        }
        let whole = try events(inBatchAt: position, at: records.map(\.index)).events
        for (event, record) in zip(whole, records) where event.id != record.id {
            throw AccordError(.damaged, "Record \(record.index + 1) of the batch at \(position) no longer holds event \(record.id.short)… where it was indexed; if the journal was restored from a backup, restart the program that read it.")
        }
        return whole
    }

    private static func noBatch(at position: SegmentPosition, found: SegmentPosition?) -> AccordError {
        guard let found else {
            return AccordError(.notFound, "The journal ends before \(position); if it was restored from a backup, restart the program that read it.")
        }
        return AccordError(.damaged, "No batch starts at \(position); the next one starts at \(found). If the journal was restored from a backup, restart the program that read it.")
    }

    /// Opens the journal for appending: takes the writer lock, recovers a torn tail, and reads
    /// the journal once to find the site's last event and the clock.
    /// - Throws: see ``SegmentWriter/init(directory:options:)``; ``AccordError`` `.notFound`
    ///   when this copy has no private key.
    /// - Parameter observe: called with every event of the journal, in order, during that one
    ///   read (to build state for command checks without a second pass).
    public func openWriter(options: SegmentWriter.Options = SegmentWriter.Options(), observe: ((Event) -> Void)? = nil) throws -> EventWriter {
        try EventWriter(journal: self, options: options, observe: observe)
    }
}

/// Iterates a journal's events in stored order.
///
/// While one batch is decoded, the next is read and inflated on another thread; whatever that
/// read finds (a batch, the end, a torn tail, an error) is reported only when its turn comes,
/// exactly as if the batches were read one after the other.
public struct EventIterator {
    private var batches: BatchIterator
    /// The current batch's records, decoded ahead (on several threads for large batches);
    /// errors are thrown only when their record's turn comes, as if decoded one by one.
    private var pending: [Result<Event, Error>] = []
    private var pendingIndex = 0
    private var batch: Batch?
    /// The batch after the current one, read while the current one was decoded, with the
    /// iterator's position and torn tail as they were right after reading it.
    private var readAhead: (batch: Result<Batch?, Error>, next: SegmentPosition, tornTail: Damage?)?
    /// Where the batch after the current one starts (the iterator may have read further).
    private var afterCurrent: SegmentPosition
    private var currentTornTail: Damage?

    init(batches: BatchIterator) {
        self.batches = batches
        afterCurrent = batches.nextPosition
    }

    /// What is left in ``pending`` where an event was moved out.
    private static let taken: Result<Event, Error> = .failure(CancellationError())

    /// The torn tail that ended the last ``next()``, if any (a writer may be appending now).
    public var tornTail: Damage? { currentTornTail }

    /// Where the current event's batch starts.
    public var batchPosition: SegmentPosition? { batch?.position }

    /// The current event's batch's framing and access points (none unless the iterator was made
    /// with ``AccessPointOptions`` and the batch is large), for
    /// ``EventJournal/events(inBatchAt:framing:points:records:acceptSigned:)``.
    public var batchAccess: (framing: BatchFraming, points: [AccessPoint])? { batch.map { ($0.framing, $0.accessPoints) } }

    /// The byte range of the event last returned in its inflated batch (without its `\n`).
    public var recordRange: Range<Int>? {
        guard let batch, pendingIndex > 0, pendingIndex <= batch.records.count else { return nil }
        let record = batch.records[pendingIndex - 1]
        return record.startIndex..<record.endIndex
    }

    /// Where the batch after the current one starts.
    public var nextPosition: SegmentPosition { afterCurrent }

    /// Whether the event last returned is the last of its batch.
    public var isLastOfBatch: Bool { pendingIndex == pending.count }

    /// The next event, or nil at the end (calling again later picks up new batches).
    /// - Throws: ``SegmentError`` for damaged batches; ``AccordError`` `.damaged` for a record
    ///   that is not a valid event, naming its segment, byte offset and position in the batch.
    public mutating func next() throws -> Event? {
        while pendingIndex == pending.count {
            let read = readAhead ?? (Result { try batches.next() }, batches.nextPosition, batches.tornTail)
            readAhead = nil
            afterCurrent = read.next
            currentTornTail = read.tornTail
            guard let next = try read.batch.get() else { return nil }
            batch = next
            pendingIndex = 0
            if next.records.count >= EventRecord.parallelDecodeThreshold {
                // Read the next batch while this one is decoded. At the end of the journal the
                // read finds nothing and is not kept, so that `--follow` sees later appends.
                var batches = self.batches
                var ahead: (batch: Result<Batch?, Error>, next: SegmentPosition, tornTail: Damage?)?
                pending = EventRecord.decodeAll(next.records) {
                    ahead = (Result { try batches.next() }, batches.nextPosition, batches.tornTail)
                }
                self.batches = batches
                if case .success(nil) = ahead?.batch {} else { readAhead = ahead }
            } else {
                pending = EventRecord.decodeAll(next.records)
            }
        }
        // Moved out of the batch's array, not copied (a copy retains every reference the
        // event holds, and the array would release them all again later).
        var decoded: Result<Event, Error> = Self.taken
        swap(&decoded, &pending[pendingIndex])
        pendingIndex += 1
        do {
            return try decoded.get()
        } catch var error as AccordError {
            let where_ = batch.map { "record \(pendingIndex) of the batch at byte \($0.offset) of '\(SegmentDirectory.relativeSegmentPath($0.segment))'" } ?? "a record"
            error.message = "In \(where_): " + error.message
            throw error
        }
    }
}

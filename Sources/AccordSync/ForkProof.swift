import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// Proof that a site signed two different histories of its feed: a **fork proof**
/// (SyncProtocol.md §6.1).
///
/// It holds two **branches** of the feed of ``site``, each a run of stored records (byte for
/// byte as the site wrote them) that starts at the **fork point** ``seq`` (or right after it) and
/// ends with an event that carries the site's signature. Through the `prev` chain that signature
/// covers every record of its branch, so anyone who holds only the site's public key can check
/// that the site signed both branches, and that they disagree about the event at ``seq``. The
/// proof needs nothing else: no journal, no other key, no clock.
///
/// On disk and on the wire a proof is one file (``encoded()``, ``decode(_:keys:)``): a header
/// line of canonical JSON, then the records of the first branch, then those of the second, each
/// followed by `\n`. At most ``maxBytes`` bytes.
public struct ForkProof: Sendable, Equatable {
    /// The `proof` member of the header: what the file is.
    public static let formatName = "accord-fork"
    /// The proof format version this program writes and reads (SyncProtocol.md §8).
    public static let version = 1
    /// The longest header line accepted, in bytes (without its `\n`).
    public static let maxHeaderBytes = 4096
    /// The largest proof file accepted, in bytes: a header and two branches of at most one batch
    /// each (Format.md §4: 64 MiB), so every fork a merge can find fits in one proof.
    public static let maxBytes = 2 * SegmentFormat.maxBatchBytes + maxHeaderBytes + 2
    /// The most records one branch may hold (a batch of 64 MiB holds at most this many records of
    /// the smallest valid size, about 330 bytes).
    public static let maxBranchRecords = 250_000
    /// Where proofs are kept in a journal: `quarantine/fork-<id>.jsonl`.
    public static let folder = SegmentFormat.quarantineFolder

    /// One branch: records of the site's feed, consecutive and chained, ending with a signed event.
    public struct Branch: Sendable, Equatable {
        /// The stored records, each without its `\n`.
        public let records: [[UInt8]]
        /// The sequence number of the first record: the fork point, or the one after it.
        public let first: SequenceNumber
        /// The sequence number of the last record: the signed event that covers the branch.
        public let last: SequenceNumber
        /// The id this branch gives the event at the fork point: the first record's id, or, when
        /// the branch starts right after the fork point, the first record's `prev`.
        public let idAtFork: EventID
        /// The id of the signed event that covers the branch (its last record).
        public let signedID: EventID
    }

    /// The site that forked its feed.
    public let site: SiteID
    /// The fork point: the sequence number at which the two branches hold different events.
    public let seq: SequenceNumber
    /// The two branches, ordered by the bytes of their ``Branch/idAtFork`` (so both sides of an
    /// exchange write the same file for the same fork point).
    public let branches: [Branch]

    /// The proof's name: `<site>-<seq>-<12 hex digits>`, the digits from the SHA-256 of the two
    /// ids at the fork point (in order). The same fork point gives the same name everywhere.
    public var id: String {
        "\(site)-\(seq)-" + Digest.sha256Hex(Array((branches[0].idAtFork.hex + branches[1].idAtFork.hex).utf8)).prefix(12)
    }

    /// The file name under ``folder``: `fork-<id>.jsonl`.
    public var fileName: String { "fork-\(id).jsonl" }

    /// Builds a proof from two branches and checks it under `key` exactly as a reader does.
    /// - Parameters:
    ///   - site: the site whose feed forked.
    ///   - seq: the fork point.
    ///   - branches: two runs of stored records of `site` (without `\n`), in either order.
    ///   - key: the key trusted for `site`.
    /// - Throws: ``AccordError`` as ``decode(_:keys:)`` (the branches do not prove a fork).
    public init(site: SiteID, seq: SequenceNumber, branches: [[[UInt8]]], key: SitePublicKey) throws {
        guard branches.count == 2 else { throw AccordError(.badInput, "A fork proof holds exactly two branches, not \(branches.count).") }
        var checked = try branches.enumerated().map { try Self.check(branch: $0.element, number: $0.offset + 1, site: site, seq: seq, key: key) }
        guard checked[0].idAtFork != checked[1].idAtFork else {
            throw AccordError(.damaged, "Both branches hold the same event at \(seq) (\(checked[0].idAtFork.short)…): this is not a fork at \(seq).", field: "seq")
        }
        if !Self.precedes(checked[0].idAtFork, checked[1].idAtFork) { checked.swapAt(0, 1) }
        self.site = site
        self.seq = seq
        self.branches = checked
    }

    /// The proof file: the header line, then every record of both branches, each with `\n`.
    ///
    /// The header is canonical JSON (Format.md §7.2), e.g.
    /// `{"branches":[{"first":3,"last":3,"records":1},{"first":3,"last":5,"records":3}],"proof":"accord-fork","seq":3,"site":"astana","version":1}`.
    public func encoded() -> [UInt8] {
        let header: JSONValue = .object(JSONObject([
            ("branches", .array(branches.map { branch in
                .object(JSONObject([
                    ("first", .number(String(branch.first.rawValue))), ("last", .number(String(branch.last.rawValue))),
                    ("records", .number(String(branch.records.count))),
                ]))
            })),
            ("proof", .string(Self.formatName)), ("seq", .number(String(seq.rawValue))), ("site", .string(site.rawValue)),
            ("version", .number(String(Self.version))),
        ]))
        var out = (try? CanonicalJSON.encode(header)) ?? []
        out.append(0x0a)
        for branch in branches {
            for record in branch.records {
                out += record
                out.append(0x0a)
            }
        }
        return out
    }

    /// Reads a proof file and checks it under the key `keys` holds for its site.
    ///
    /// Checks, in order: the size (at most ``maxBytes``) and that the file is lines ending with
    /// `\n`; the header (strict JSON; `proof` is `accord-fork`; `version` is 1; `site` a site
    /// slug; `seq` an integer ≥ 1; `branches` two objects whose `first`, `last` and `records`
    /// match the records that follow); a key trusted for the site; then each branch: every record
    /// is a valid event (form and id, Format.md §7.1–§7.3) of the site, the first at `seq` or
    /// `seq + 1`, each next one at the following sequence number with `prev` the id before it,
    /// every `sig` verifies under the key (Format.md §7.4), and the last carries one; finally the
    /// two branches give different ids to the event at `seq`.
    /// - Parameter keys: the keys a journal trusts (``EventJournal/trustedKeys()``).
    /// - Throws: ``AccordError`` `.badInput` for a file that is not a proof of this version
    ///   (naming the line or field), `.untrusted` when no key is trusted for its site or a
    ///   signature does not verify, `.damaged` when a record is not a valid event, the records do
    ///   not chain, a branch is not signed, or the branches agree at the fork point.
    public static func decode(_ bytes: [UInt8], keys: [SiteID: SitePublicKey]) throws -> ForkProof {
        guard bytes.count <= maxBytes else {
            throw AccordError(.badInput, "The proof is \(bytes.count) bytes; a fork proof holds at most \(maxBytes).")
        }
        guard bytes.last == 0x0a else { throw AccordError(.badInput, "The proof does not end with a newline: it is cut short.") }
        let lines = bytes.dropLast().split(separator: 0x0a, omittingEmptySubsequences: false)
        guard let headerLine = lines.first, headerLine.count <= maxHeaderBytes else {
            throw AccordError(.badInput, "The proof's first line, its header, is missing or longer than \(maxHeaderBytes) bytes.")
        }
        let header: JSONObject
        do {
            guard case .object(let object) = try JSONParser.parse(headerLine) else { throw AccordError(.badInput, "not an object") }
            header = object
        } catch {
            throw AccordError(.badInput, "This is not an Accord fork proof: its first line is not a JSON object.", field: "header")
        }
        guard header["proof"]?.stringValue == formatName else {
            throw AccordError(.badInput, "This is not an Accord fork proof (its header has no \"proof\":\"\(formatName)\").", field: "proof")
        }
        guard let version = integer(header["version"]) else { throw AccordError(.badInput, "The proof's header has no valid 'version'.", field: "version") }
        guard version == UInt64(Self.version) else {
            throw AccordError(.badInput, "This is a fork proof of format version \(version); this program reads version \(Self.version) only.", field: "version")
        }
        guard let siteText = header["site"]?.stringValue, let site = try? SiteID(siteText) else {
            throw AccordError(.badInput, "The proof's header has no valid 'site' (a site slug).", field: "site")
        }
        guard let seqValue = integer(header["seq"]), seqValue >= 1, seqValue < UInt64.max else {
            throw AccordError(.badInput, "The proof's header has no valid 'seq' (an integer of at least 1).", field: "seq")
        }
        guard case .array(let spans)? = header["branches"], spans.count == 2 else {
            throw AccordError(.badInput, "The proof's header must list exactly two branches.", field: "branches")
        }
        var branches: [[[UInt8]]] = []
        var line = 1
        for (index, span) in spans.enumerated() {
            guard case .object(let object) = span, let first = integer(object["first"]), let last = integer(object["last"]),
                  let count = integer(object["records"]), count >= 1, count <= UInt64(maxBranchRecords), last >= first, last - first + 1 == count
            else {
                throw AccordError(.badInput, "Branch \(index + 1) of the proof's header needs 'first', 'last' and 'records' (last − first + 1 records, at least 1).", field: "branches")
            }
            guard line + Int(count) <= lines.count else {
                throw AccordError(.badInput, "The proof's header announces more records than the file holds.", field: "branches")
            }
            let records = lines[line..<(line + Int(count))].map { Array($0) }
            line += Int(count)
            for (offset, record) in records.enumerated() where record.isEmpty {
                throw AccordError(.badInput, "Line \(line - Int(count) + offset + 1) of the proof is empty.")
            }
            branches.append(records)
            if let firstSeq = try? EventRecord.decode(records[0]).seq, firstSeq.rawValue != first {
                throw AccordError(.badInput, "Branch \(index + 1) starts at \(firstSeq), but the header says \(first).", field: "branches")
            }
        }
        guard line == lines.count else {
            throw AccordError(.badInput, "The proof holds \(lines.count - line) line(s) after the records its header announces.")
        }
        guard let key = keys[site] else {
            throw AccordError(.untrusted, "The proof is about site '\(site)', which this journal does not trust; add its key with 'accord peer add \(site) --key …' to check it.")
        }
        // The first record's sequence number matches the header, and the records chain one by one,
        // so each branch also ends at the header's `last`.
        return try ForkProof(site: site, seq: SequenceNumber(seqValue), branches: branches, key: key)
    }

    /// One branch's checks (see ``decode(_:keys:)``).
    private static func check(branch records: [[UInt8]], number: Int, site: SiteID, seq: SequenceNumber, key: SitePublicKey) throws -> Branch {
        guard !records.isEmpty, records.count <= maxBranchRecords else {
            throw AccordError(.badInput, "Branch \(number) of the proof holds \(records.count) records; it must hold 1 to \(maxBranchRecords).")
        }
        var events: [Event] = []
        events.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            let event: Event
            do {
                event = try EventRecord.decode(record)
            } catch let error as AccordError {
                throw AccordError(.damaged, "Record \(index + 1) of branch \(number) is not a valid event: \(error.message)", field: error.field)
            }
            guard event.site == site else {
                throw AccordError(.damaged, "Record \(index + 1) of branch \(number) is an event of '\(event.site)', not of '\(site)'.", field: "site")
            }
            if let previous = events.last {
                guard event.seq == previous.seq.next, event.prev == previous.id else {
                    throw AccordError(.damaged, "Branch \(number) does not chain at record \(index + 1) (sequence number \(event.seq)): each record must follow the one before it.", field: "prev")
                }
            } else {
                guard event.seq == seq || event.seq == seq.next else {
                    throw AccordError(.damaged, "Branch \(number) starts at \(event.seq); it must start at the fork point \(seq) or at \(seq.next).", field: "seq")
                }
            }
            if let signature = event.signature, !key.verifies(signature, forBatchEndingAt: event.id) {
                throw AccordError(.untrusted, "The signature on event \(event.seq) of branch \(number) does not verify under the key trusted for '\(site)'.", field: "sig")
            }
            events.append(event)
        }
        let first = events[0], last = events[events.count - 1]
        guard last.signature != nil else {
            throw AccordError(.damaged, "Branch \(number) does not end with an event signed by '\(site)', so nothing shows that the site wrote it.", field: "sig")
        }
        guard let idAtFork = first.seq == seq ? first.id : first.prev else {
            throw AccordError(.damaged, "Branch \(number) names no event at the fork point \(seq).", field: "prev")
        }
        return Branch(records: records, first: first.seq, last: last.seq, idAtFork: idAtFork, signedID: last.id)
    }

    private static func integer(_ value: JSONValue?) -> UInt64? {
        guard case .number(let literal)? = value, CanonicalJSON.isCanonicalInteger(literal), !literal.hasPrefix("-") else { return nil }
        return UInt64(literal)
    }

    /// Byte order of two ids' hex digits.
    private static func precedes(_ a: EventID, _ b: EventID) -> Bool {
        Array(a.hex.utf8).lexicographicallyPrecedes(Array(b.hex.utf8))
    }
}

/// Fork proofs kept in a journal's `quarantine/` (SyncProtocol.md §6.1).
public enum ForkQuarantine {
    /// One `quarantine/fork-*.jsonl` file: its proof when it holds one valid under the keys the
    /// journal trusts, else why not (a file of version 1 of the quarantine, before proofs).
    public struct Entry: Sendable {
        /// The file name under `quarantine/`.
        public var fileName: String
        /// The proof, when the file holds a valid one.
        public var proof: ForkProof?
        /// Why the file is not a valid proof, when it is not.
        public var problem: String?
    }

    /// Keeps `proof` in `journal`'s quarantine (atomically; a proof of the same name already
    /// there is kept as it is).
    /// - Returns: the path relative to the journal, `quarantine/fork-<id>.jsonl`.
    /// - Throws: ``AccordError`` `.io`, ``SegmentError`` `.io` when it cannot be written.
    @discardableResult
    public static func keep(_ proof: ForkProof, in journal: EventJournal) throws -> String {
        let folder = journal.path + "/" + ForkProof.folder
        if mkdir(folder, 0o755) != 0, errno != EEXIST { throw AccordError(.io, "Cannot create '\(folder)': \(Errno(errno)).") }
        let relative = ForkProof.folder + "/" + proof.fileName
        if access(journal.path + "/" + relative, F_OK) != 0 {
            try FileBytes.writeAtomically(journal.path + "/" + relative, bytes: proof.encoded())
        }
        return relative
    }

    /// Keeps in `journal` the proofs a merge elsewhere found, once each has been checked under
    /// the keys `journal` trusts (a proof of a site it does not trust is not kept): how the side
    /// that detects a fork tells the other side in the same exchange.
    /// - Returns: how many were kept.
    /// - Throws: ``AccordError`` / ``SegmentError`` when the keys cannot be read or a proof not written.
    @discardableResult
    public static func share(_ proofs: [ForkProof], with journal: EventJournal) throws -> Int {
        guard !proofs.isEmpty else { return 0 }
        let keys = try journal.trustedKeys()
        var kept = 0
        for proof in proofs {
            guard let checked = try? ForkProof.decode(proof.encoded(), keys: keys) else { continue }
            try keep(checked, in: journal)
            kept += 1
        }
        return kept
    }

    /// Every `quarantine/fork-*.jsonl` of `journal`, in name order, each checked.
    /// - Throws: ``AccordError`` when the journal's trusted keys cannot be read.
    public static func entries(of journal: EventJournal) throws -> [Entry] {
        let keys = try journal.trustedKeys()
        let folder = journal.path + "/" + ForkProof.folder
        var names: [String] = []
        if let dir = opendir(folder) {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name.hasPrefix("fork-"), name.hasSuffix(".jsonl") { names.append(name) }
            }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { name in
            do {
                let bytes = try FileBytes.read(folder + "/" + name, limit: ForkProof.maxBytes)
                return Entry(fileName: name, proof: try ForkProof.decode(bytes, keys: keys), problem: nil)
            } catch let error as AccordError {
                return Entry(fileName: name, proof: nil, problem: error.message)
            } catch {
                return Entry(fileName: name, proof: nil, problem: "\(error)")
            }
        }
    }
}

extension ForkProof {
    /// The most fork proofs one HTTP exchange carries (SyncProtocol.md §6): in a `409` answer to
    /// a push, or in a `POST /v1/forks`. More are found again and sent at the next exchange.
    public static let maxPerExchange = 16

    /// `proofs` as the JSON member that carries them over HTTP: `"proofs"`, an array of the
    /// proofs' files (``encoded()``), each as canonical base64 (SyncProtocol.md §6).
    /// - Parameter proofs: at most ``maxPerExchange`` proofs (the rest are left out).
    /// - Returns: the member's value.
    public static func wireValue(_ proofs: [ForkProof]) -> JSONValue {
        .array(proofs.prefix(maxPerExchange).map { .string(Base64.encode($0.encoded())) })
    }

    /// The proofs of an HTTP body's `"proofs"` member, each checked under `keys` as
    /// ``decode(_:keys:)`` checks a file; a proof that does not check is left out, never kept.
    /// - Parameters:
    ///   - body: a JSON object, as sent (at most the transport's body limit).
    ///   - keys: the keys the receiving journal trusts.
    /// - Returns: the proofs that checked; empty when the body has none.
    /// - Throws: ``AccordError`` `.badInput` when `"proofs"` is not an array of at most
    ///   ``maxPerExchange`` base64 strings.
    public static func fromWire(_ body: [UInt8], keys: [SiteID: SitePublicKey]) throws -> [ForkProof] {
        guard case .object(let object)? = try? JSONParser.parse(body) else {
            throw AccordError(.badInput, "The body must be a JSON object with a member 'proofs'.", field: "proofs")
        }
        guard let value = object["proofs"] else { return [] }
        guard case .array(let items) = value, items.count <= maxPerExchange else {
            throw AccordError(.badInput, "'proofs' must be an array of at most \(maxPerExchange) base64 strings.", field: "proofs")
        }
        var proofs: [ForkProof] = []
        for item in items {
            guard let text = item.stringValue, let bytes = Base64.decode(text) else {
                throw AccordError(.badInput, "Every item of 'proofs' must be a base64 string.", field: "proofs")
            }
            if let proof = try? decode(bytes, keys: keys) { proofs.append(proof) }
        }
        return proofs
    }
}

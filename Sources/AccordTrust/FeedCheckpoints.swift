import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// Checkpoints of a journal's feeds: writing them, proving events and consistency, witnessing
/// other offices' feeds, and comparing a journal with a checkpoint (Trust.md §5–§7).
public enum FeedCheckpoints {
    /// A checkpoint carried by a `checkpoint.signed.v1` or `checkpoint.cosigned.v1` event.
    public struct Carried: Sendable {
        /// The checkpoint.
        public var checkpoint: Checkpoint
        /// Its signature line (by the feed's key), or the witness's cosignature line.
        public var signature: SignedNote.Signature
        /// The site whose event carried it.
        public var carrier: SiteID
        /// The carrying event's type.
        public var type: String
    }

    /// A journal's feeds and the checkpoints its events carry, read in one pass.
    public struct Reading: Sendable {
        /// The feeds' trees.
        public var logs: FeedLogs
        /// The checkpoints carried by events, in journal order.
        public var carried: [Carried]
        /// The type of each feed's last event.
        public var lastTypes: [SiteID: String]
    }

    /// Reads `journal`'s feeds and the checkpoints its events carry.
    /// - Throws: as ``FeedLogs/read(_:visit:)``.
    public static func read(_ journal: EventJournal) throws -> Reading {
        var carried: [Carried] = []
        var lastTypes: [SiteID: String] = [:]
        let logs = try FeedLogs.read(journal) { event in
            lastTypes[event.site] = event.type.rawValue
            if let one = Self.carried(by: event) { carried.append(one) }
        }
        return Reading(logs: logs, carried: carried, lastTypes: lastTypes)
    }

    /// The checkpoint and signature line that a `checkpoint.signed.v1` or
    /// `checkpoint.cosigned.v1` event carries (Trust.md §5.1); nil for any other event or a
    /// malformed one.
    static func carried(by event: Event) -> Carried? {
        guard event.type.rawValue == CheckpointStore.signedType || event.type.rawValue == CheckpointStore.cosignedType,
              let origin = event.data["origin"]?.stringValue,
              case .number(let sizeText)? = event.data["size"], let size = Int(sizeText),
              let rootText = event.data["root"]?.stringValue, let root = Base64.decode(rootText), root.count == 32
        else { return nil }
        let checkpoint = Checkpoint(origin: origin, size: size, root: root)
        if event.type.rawValue == CheckpointStore.signedType, let blob = event.data["signature"]?.stringValue.flatMap(Base64.decode) {
            return Carried(checkpoint: checkpoint, signature: .init(name: Array(origin.utf8), blob: blob), carrier: event.site, type: event.type.rawValue)
        } else if event.type.rawValue == CheckpointStore.cosignedType, let witness = event.data["witness"]?.stringValue, let blob = event.data["cosignature"]?.stringValue.flatMap(Base64.decode) {
            return Carried(checkpoint: checkpoint, signature: .init(name: Array(witness.utf8), blob: blob), carrier: event.site, type: event.type.rawValue)
        }
        return nil
    }

    /// What `accord checkpoint` did for one feed.
    public struct FeedResult: Sendable {
        /// The feed.
        public var site: SiteID
        /// The note stored for the feed (nil when none is known).
        public var note: SignedNote?
        /// What happened, one line.
        public var summary: String
    }

    /// Writes the checkpoint of the own feed, signed with the site key, and stores the verified
    /// checkpoints that other feeds' events carry (Trust.md §5).
    ///
    /// The own checkpoint covers every event of the own feed; it is stored in
    /// `checkpoints/<site>/<size>.note` and, unless `record` is false or the feed's last event
    /// already carries it, appended to the own feed as a `checkpoint.signed.v1` event so that it
    /// syncs. A carried checkpoint of another feed is kept only when its signature verifies under
    /// the site's key in force at its size + 1 (``CheckpointStore/feedVerifier(for:size:in:)``) and its root is that of this journal's copy of the feed.
    /// - Throws: ``AccordError`` (`.notFound` without a private key, `.damaged`), ``SegmentError``.
    public static func write(_ journal: EventJournal, record: Bool = true, writerOptions: SegmentWriter.Options = .init()) throws -> [FeedResult] {
        let reading = try read(journal)
        let store = CheckpointStore(journal: journal)
        var results: [FeedResult] = []
        let signer = try CheckpointStore.feedSigner(for: journal)
        let own = reading.logs.trees[journal.site] ?? MerkleTree()
        // When the feed's last event carries the checkpoint of all the events before it, that is
        // still the checkpoint to sign: running 'accord checkpoint' again adds nothing.
        let origin = Checkpoint.origin(partnership: journal.partnership, site: journal.site)
        let trailing = own.size > 0 && reading.lastTypes[journal.site] == CheckpointStore.signedType
            && reading.carried.last(where: { $0.carrier == journal.site && $0.type == CheckpointStore.signedType })?.checkpoint
                == Checkpoint(origin: origin, size: own.size - 1, root: own.root(size: own.size - 1))
        let size = trailing ? own.size - 1 : own.size
        let checkpoint = Checkpoint(origin: origin, size: size, root: own.root(size: size))
        let signature = try signer.sign(checkpoint.text)
        let note = try store.save(SignedNote(text: checkpoint.text, signatures: [signature]), site: journal.site, size: size)
        var summary = "signed checkpoint of \(size) event\(size == 1 ? "" : "s")"
        if trailing { summary += " (the feed's last event already carries it)" }
        if record, !trailing {
            let writer = try journal.openWriter(options: writerOptions)
            defer { writer.close() }
            let data = JSONObject([
                ("origin", .string(checkpoint.origin)), ("size", .number(String(checkpoint.size))),
                ("root", .string(Base64.encode(checkpoint.root))), ("signature", .string(Base64.encode(signature.blob))),
            ])
            let event = try writer.append([EventDraft(type: EventType(CheckpointStore.signedType), subject: try Subject("checkpoint/" + journal.site.rawValue), data: data)])
            summary += "; recorded as event \(event.last.map { String($0.seq.rawValue) } ?? "?") of the feed"
        }
        results.append(FeedResult(site: journal.site, note: note, summary: summary))
        // Other feeds: the latest carried checkpoint that verifies and matches this copy.
        let keys = try journal.trustedKeys()
        for (site, tree) in reading.logs.trees.sorted(by: { $0.key < $1.key }) where site != journal.site {
            var stored: SignedNote?
            var line = "no checkpoint received yet"
            if keys[site] != nil {
                for carried in reading.carried where carried.type == CheckpointStore.signedType && carried.carrier == site {
                    // Under the key in force at the checkpoint's size + 1, not the anchor (Trust.md §2.1).
                    let verifier = try CheckpointStore.feedVerifier(for: site, size: carried.checkpoint.size, in: journal)
                    guard carried.checkpoint.origin == Checkpoint.origin(partnership: journal.partnership, site: site),
                          verifier.verifies(carried.signature, of: carried.checkpoint.text),
                          carried.checkpoint.size <= tree.size, tree.root(size: carried.checkpoint.size) == carried.checkpoint.root
                    else { continue }
                    let note = SignedNote(text: carried.checkpoint.text, signatures: [carried.signature])
                    stored = try store.save(note, site: site, size: carried.checkpoint.size)
                    line = "stored its checkpoint of \(carried.checkpoint.size) events (this copy holds \(tree.size))"
                }
            } else {
                line = "no trusted key: its checkpoints cannot be checked"
            }
            results.append(FeedResult(site: site, note: stored, summary: line))
        }
        try attachCosignatures(reading, journal: journal)
        return results
    }

    /// Adds to the stored notes the cosignatures carried by `checkpoint.cosigned.v1` events that
    /// verify under a trusted witness key (Trust.md §3).
    static func attachCosignatures(_ reading: Reading, journal: EventJournal) throws {
        let store = CheckpointStore(journal: journal)
        let witnesses = try WitnessKeys(journal: journal).all()
        for carried in reading.carried where carried.type == CheckpointStore.cosignedType {
            guard let feed = Checkpoint.feed(ofOrigin: carried.checkpoint.origin), feed.partnership == journal.partnership,
                  let note = try store.note(site: feed.site, size: carried.checkpoint.size), note.text == carried.checkpoint.text,
                  let witness = witnesses[carried.carrier], witness.verifies(carried.signature, of: note.text)
            else { continue }
            try store.save(SignedNote(text: note.text, signatures: [carried.signature]), site: feed.site, size: carried.checkpoint.size)
        }
    }

    /// The tlog-proof receipt of event `id`: its index, its inclusion proof, and the latest
    /// stored checkpoint of its feed that covers it, with every signature stored for it and
    /// every cosignature of it that the journal's `checkpoint.cosigned.v1` events carry and that
    /// verifies under a trusted witness key (Trust.md §4.1) — also those that arrived by sync
    /// since `accord checkpoint` last ran.
    /// - Throws: ``AccordError`` `.notFound` when the event is not in the journal or no stored
    ///   checkpoint covers it yet (run `accord checkpoint`, or sync and wait for the feed's office).
    public static func prove(_ id: EventID, in journal: EventJournal) throws -> TlogProof {
        var found: Event?
        var cosignatures: [Carried] = []
        let logs = try FeedLogs.read(journal) { event in
            if found == nil, event.id == id { found = event }
            if event.type.rawValue == CheckpointStore.cosignedType, let carried = Self.carried(by: event) { cosignatures.append(carried) }
        }
        guard let event = found, let tree = logs.trees[event.site] else {
            throw AccordError(.notFound, "No event with id '\(id.hex.prefix(16))…' is in this journal; check the id ('accord show').")
        }
        let index = Int(event.seq.rawValue) - 1
        let store = CheckpointStore(journal: journal)
        guard let size = store.sizes(site: event.site).last(where: { $0 > index && $0 <= tree.size }),
              var note = try store.note(site: event.site, size: size)
        else {
            throw AccordError(.notFound, "No stored checkpoint of feed '\(event.site)' covers event \(event.seq) yet; run 'accord checkpoint' (at site '\(event.site)' for its feed, then sync) and try again.")
        }
        let checkpoint = try Checkpoint(text: note.text)
        guard tree.root(size: size) == checkpoint.root else {
            throw AccordError(.damaged, "The stored checkpoint '\(CheckpointStore.folder)/\(event.site)/\(size).note' does not match this journal's feed '\(event.site)'; run 'accord verify --checkpoint' on it.")
        }
        let witnesses = try WitnessKeys(journal: journal).all()
        // One cosignature per witness, within the note's limit (Trust.md §2, MAX_NOTE_SIGNATURES).
        for carried in cosignatures where carried.checkpoint.text == note.text && !note.signatures.contains(where: { $0.name == carried.signature.name }) {
            guard note.signatures.count < SignedNote.maxSignatures, let witness = witnesses[carried.carrier], witness.verifies(carried.signature, of: note.text) else { continue }
            note.signatures.append(carried.signature)
        }
        return TlogProof(extra: FeedLogs.leafBytes(of: id), index: index, hashes: try tree.inclusionProof(index: index, size: size), note: note)
    }

    /// The consistency proof from checkpoint `old` to checkpoint `new` of one feed, from this
    /// journal's copy of it; checked before it is returned.
    /// - Throws: ``AccordError`` `.badInput` for checkpoints of two feeds or in the wrong order,
    ///   `.notFound` when the journal holds fewer events than `new` covers, `.fork` when this
    ///   journal's feed does not have the roots of both checkpoints.
    public static func consistency(from old: Checkpoint, to new: Checkpoint, in journal: EventJournal) throws -> ConsistencyProof {
        guard old.origin == new.origin, let feed = Checkpoint.feed(ofOrigin: new.origin) else {
            throw AccordError(.badInput, "The two checkpoints must be of one feed ('accord/<partnership>/<site>'), not '\(old.origin.prefix(80))' and '\(new.origin.prefix(80))'.")
        }
        guard old.size <= new.size else {
            throw AccordError(.badInput, "The older checkpoint (size \(old.size)) must come first; the newer has size \(new.size).")
        }
        let logs = try FeedLogs.read(journal)
        let tree = logs.trees[feed.site] ?? MerkleTree()
        guard tree.size >= new.size else {
            throw AccordError(.notFound, "This journal holds \(tree.size) events of feed '\(feed.site)'; the checkpoint covers \(new.size). Sync first.")
        }
        for checkpoint in [old, new] where tree.root(size: checkpoint.size) != checkpoint.root {
            throw AccordError(.fork, "This journal's feed '\(feed.site)' does not have the root of the checkpoint at size \(checkpoint.size): that checkpoint is of another history of the feed (Trust.md §7).")
        }
        let proof = ConsistencyProof(oldSize: old.size, newSize: new.size, hashes: try tree.consistencyProof(oldSize: old.size, newSize: new.size))
        try CheckpointAudit.checkConsistency(old: old, new: new, proof: proof)
        return proof
    }

    /// What `accord verify --checkpoint` found (Trust.md §6).
    public struct Comparison: Sendable {
        /// The feed the checkpoint is of.
        public var site: SiteID
        /// True when the journal's first `size` events of the feed have the checkpoint's root.
        public var matches: Bool
        /// The findings, one sentence each: which event and where, when it differs.
        public var findings: [String]
    }

    /// Compares the journal's copy of a feed with a checkpoint, past damage, and names the first
    /// event that differs when they do not match.
    /// - Throws: ``AccordError`` `.badInput` when the checkpoint is not of this partnership's
    ///   feeds; ``SegmentError`` `.io`.
    public static func compare(_ checkpoint: Checkpoint, with journal: EventJournal) throws -> Comparison {
        guard let feed = Checkpoint.feed(ofOrigin: checkpoint.origin), feed.partnership == journal.partnership else {
            throw AccordError(.badInput, "The checkpoint's origin '\(checkpoint.origin.prefix(120))' is not a feed of partnership '\(journal.partnership)' ('accord/\(journal.partnership)/<site>').")
        }
        let site = feed.site
        // The events the checkpoint covers, and the one after (whose 'prev' names the last).
        let scan = try FeedScan.scan(journal, site: site, limit: checkpoint.size + 1)
        var findings: [String] = []
        let size = checkpoint.size
        // Missing or unreadable events among the first `size`.
        var seq = 1
        while seq <= size {
            guard seq > scan.ids.count || scan.ids[seq - 1] == nil else { seq += 1; continue }
            var last = seq
            while last < size && (last >= scan.ids.count || scan.ids[last] == nil) { last += 1 }
            let claimed = scan.idClaimedBySuccessor(ofSeq: last).map { " (event \(last) should have the id \($0.hex), as event \(last + 1)'s 'prev' says)" } ?? ""
            let range = seq == last ? "event \(seq)" : "events \(seq)…\(last)"
            if seq > scan.ids.count, !scan.damage.isEmpty {
                // The feed's copy ends in damage (its last events are in a damaged batch): not
                // "missing", which would send the user to sync.
                findings.append("Feed '\(site)': \(range) of the \(size) the checkpoint covers cannot be read; the journal is damaged: \(scan.damage.prefix(3).joined(separator: "; ")).")
            } else if seq > scan.ids.count {
                findings.append("Feed '\(site)': \(range) of the \(size) the checkpoint covers \(seq == last ? "is" : "are") not in this journal; sync, then check again.")
            } else {
                findings.append("Feed '\(site)': \(range) cannot be read\(claimed); the journal is damaged there: \(scan.damage.prefix(3).joined(separator: "; ")).")
            }
            seq = last + 1
        }
        // Readable events whose id is not the one their successor links to.
        for seq in stride(from: 1, to: min(size + 1, scan.ids.count), by: 1) {
            if let id = scan.ids[seq - 1], let claimed = scan.prevs[seq], claimed != id {
                findings.append("Feed '\(site)': event \(seq) (\(scan.places[seq - 1] ?? "?")) has the id \(id.hex), but event \(seq + 1) links to \(claimed.hex): event \(seq) (or the 'prev' of event \(seq + 1)) was changed after it was signed.")
            }
        }
        var matches = false
        if findings.isEmpty {
            let leaves = scan.ids.prefix(size).map { MerkleTree.leafHash(of: FeedLogs.leafBytes(of: $0!)) }
            let root = MerkleTree(leafHashes: Array(leaves)).root()
            matches = root == checkpoint.root
            if !matches {
                findings.append("Feed '\(site)': its first \(size) events have the root \(Base64.encode(root)), not the checkpoint's \(Base64.encode(checkpoint.root)): this copy holds another history of the feed, or the checkpoint is forged.")
            }
        }
        return Comparison(site: site, matches: matches, findings: findings)
    }
}

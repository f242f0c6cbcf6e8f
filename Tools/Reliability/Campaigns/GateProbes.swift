import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation

/// Attacks on the sync gate (SyncProtocol.md §3.1, §4.2, §9), each run through the `accord`
/// executable against a fresh journal, and each expected to be refused: a far-future clock
/// reading from a trusted peer (the hlc bomb), a weak key, a directory of unsigned records, and
/// bundle bombs (trusted and untrusted header).
public enum GateProbes {
    /// One attack and what `accord` did with it.
    public struct Probe: Sendable, CustomStringConvertible {
        /// What was tried.
        public var name: String
        /// Whether it was refused as it must be.
        public var refused: Bool
        /// The exit status and the first words of the message, or what went wrong.
        public var detail: String

        /// "NAME: refused — exit N: …", as the campaign prints it.
        public var description: String { "\(name): \(refused ? "refused" : "NOT REFUSED") — \(detail)" }
    }

    /// Runs every probe in `root` (created afresh).
    /// - Throws: ``CrashCampaign/SetupError`` when the journals cannot be set up.
    public static func run(accord: String, scratch root: String) throws -> [Probe] {
        _ = try ChildProcess.run("/bin/rm", ["-rf", root], scratch: "/tmp")
        mkdir(root, 0o755)
        func cli(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.run(accord, arguments + ["--journal", root + "/target"], scratch: root)
        }
        func short(_ output: ChildProcess.Output) -> String {
            "exit \(output.status): \(output.stderr.trimmingCharacters().prefix(160))"
        }
        let made = try ChildProcess.run(accord, ["init", "--site", "target", "--partnership", "abuse", "--journal", root + "/target"], scratch: root)
        guard made.status == 0 else { throw CrashCampaign.SetupError(message: "accord init failed: \(made.stderr)") }
        // A peer the target trusts, made in this process (its key signs the bombs).
        let peer = try EventJournal.create(at: root + "/peer", site: SiteID("peer"), partnership: "abuse")
        let key = try peer.signingKey()
        let trusted = try cli(["peer", "add", "peer", "--key", key.publicKey.base64])
        guard trusted.status == 0 else { throw CrashCampaign.SetupError(message: "accord peer add failed: \(trusted.stderr)") }
        var probes: [Probe] = []

        // 1. A directory of unsigned records: another version of the peer's feed, 2,001 long,
        //    and "the target's own" events 1…3. Nothing may be kept, forked or alarmed.
        let unsigned = try courier(root + "/unsigned", records: try forged(site: "peer", count: 2_001, key: nil) + forged(site: "target", count: 3, key: nil))
        let pulled = try cli(["sync", "--with", unsigned])
        let pending = (try? FileManager.default.contentsOfDirectory(atPath: root + "/target/pending")) ?? []
        let quarantined = (try? FileManager.default.contentsOfDirectory(atPath: root + "/target/quarantine")) ?? []
        let log = try cli(["log", "--json"])
        let clean = pending.isEmpty && quarantined.isEmpty && !pulled.stderr.contains("restored") && log.stdout.isEmpty
        probes.append(Probe(name: "unsigned directory (2,004 records)", refused: clean,
                            detail: "\(pulled.stdout.split(separator: "\n").first.map(String.init) ?? short(pulled)); pending \(pending.count), quarantined \(quarantined.count), events kept \(log.stdout.split(separator: "\n").count)"))

        // 2. The hlc bomb: one event signed by the trusted peer, its clock at the last reading.
        let bomb = try courier(root + "/hlc-bomb", records: try forged(site: "peer", count: 1, key: key, hlc: HybridTimestamp.latest))
        let bombed = try cli(["sync", "--with", bomb])
        let appended = try cli(["append", "stakeholder.registered.v1", "--subject", "stakeholder/after-bomb", "--data", #"{"name":"After","kind":"government","country":"KZ"}"#])
        let verified = try cli(["verify"])
        probes.append(Probe(name: "hlc bomb (999999999999999999:4294967295 from a trusted peer)",
                            refused: bombed.status == 2 && bombed.stderr.contains("clock reading") && appended.status == 0 && verified.status == 0,
                            detail: short(bombed) + "; the next append exits \(appended.status), verify \(verified.status)"))

        // 3. A weak key: the identity point, under which R = identity, S = 0 verifies for all.
        let identity = Base64.encode([1] + [UInt8](repeating: 0, count: 31))
        let weak = try cli(["peer", "add", "mallory", "--key", identity])
        probes.append(Probe(name: "weak key (the identity point)", refused: weak.status == 2 && !FileManager.default.fileExists(atPath: root + "/target/keys/mallory.pub"), detail: short(weak)))

        // 4. Bundle bombs: a real bundle of the peer, then 32 MiB of junk its header never
        //    declared; and the same junk behind the header of a site nobody trusts.
        _ = try peer.openWriter().append([Fixtures.realisticDraft(1)])
        try Bundle.make(from: peer).write(to: root + "/real.bundle")
        let batches = try MemberFile.read(root + "/real.bundle").map { $0.records.map { Array($0) } }
        let junk = [[UInt8]](repeating: [UInt8](repeating: 0x41, count: 4 << 20), count: 8)
        writeBytes(root + "/bomb.bundle", try MemberFile.encode(batches + [junk]))
        let trustedBomb = try cli(["bundle", "verify", root + "/bomb.bundle"])
        probes.append(Probe(name: "bundle bomb (32 MiB beyond what a trusted header declares)", refused: trustedBomb.status == 2 && trustedBomb.stderr.contains("declares"), detail: short(trustedBomb)))
        let stranger = try EventJournal.create(at: root + "/stranger", site: SiteID("stranger"), partnership: "abuse")
        _ = try stranger.openWriter().append([Fixtures.realisticDraft(2)])
        try Bundle.make(from: stranger).write(to: root + "/stranger.bundle")
        let strangerHeader = try MemberFile.read(root + "/stranger.bundle").map { $0.records.map { Array($0) } }[0]
        writeBytes(root + "/untrusted-bomb.bundle", try MemberFile.encode([strangerHeader, junk]))
        let untrustedBomb = try cli(["bundle", "verify", root + "/untrusted-bomb.bundle"])
        probes.append(Probe(name: "bundle bomb (behind an untrusted header)", refused: untrustedBomb.status == 3 && untrustedBomb.stderr.contains("does not trust"), detail: short(untrustedBomb)))
        return probes
    }

    /// A journal directory of site `courier-…` whose segments hold `records` as they are.
    static func courier(_ path: String, records: [[UInt8]]) throws -> String {
        let journal = try EventJournal.create(at: path, site: SiteID("courier"), partnership: "abuse")
        let writer = try SegmentWriter(directory: journal.directory)
        defer { writer.close() }
        var index = 0
        while index < records.count {
            _ = try writer.append(Array(records[index..<min(records.count, index + 500)]))
            index += 500
        }
        return path
    }

    /// `count` hand-made records of `site` from seq 1, chained; the last signed with `key` if any.
    static func forged(site: String, count: Int, key: SiteKey?, hlc: HybridTimestamp? = nil) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        var previous: EventID?
        for n in 0..<count {
            let draft = Fixtures.realisticDraft(700 + n)
            let time = Fixtures.time(Int64(n))
            let canonical = try EventRecord.canonicalBytes(
                site: SiteID(site), seq: SequenceNumber(UInt64(n + 1)), prev: previous, time: time,
                hlc: hlc ?? HybridTimestamp(milliseconds: time.milliseconds, counter: 0), seen: [:],
                type: draft.type, subject: draft.subject, actor: site, data: draft.data)
            let id = EventRecord.id(ofCanonical: canonical)
            var signature: [UInt8]?
            if n == count - 1, let key { signature = try key.signature(forBatchEndingAt: id) }
            records.append(EventRecord.record(canonical: canonical, id: id, signature: signature))
            previous = id
        }
        return records
    }
}

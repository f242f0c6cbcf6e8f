import AccordModel
import AccordSegments
import AccordTesting
import Foundation
import Testing

/// Runs `accord` against `journal`.
@discardableResult
func accord(_ arguments: [String], journal: String? = nil) throws -> AccordExecutable.Result {
    try AccordExecutable.run(arguments + (journal.map { ["--journal", $0] } ?? []))
}

/// Runs a program and returns its exit status, standard output and standard error.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let scratch = TemporaryDirectory("run-tool")
    let outPath = scratch.child("out"), errPath = scratch.child("err")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return (process.terminationStatus, String(decoding: try FileDamage.bytes(outPath), as: UTF8.self), String(decoding: try FileDamage.bytes(errPath), as: UTF8.self))
}

/// Two offices of one partnership, Brussels and Astana, trusting each other's site keys and
/// witness keys.
struct Offices {
    let temp: TemporaryDirectory
    let brussels: String
    let astana: String
    /// Brussels' verifier key for its feed's checkpoints (`accord keys show`, "note key").
    let brusselsNoteKey: String
    /// Astana's witness verifier key.
    let astanaWitnessKey: String

    init(_ label: String) throws {
        temp = TemporaryDirectory(label)
        brussels = temp.child("brussels")
        astana = temp.child("astana")
        var keys: [String: String] = [:]
        for (site, path) in [("brussels", brussels), ("astana", astana)] {
            let made = try accord(["init", "--site", site, "--partnership", "eu-kz-2022"], journal: path)
            #expect(made.status == 0, "\(made.stderr)")
            keys[site] = made.output.split(separator: "\n").last.map { String($0.split(separator: " ").last ?? "") } ?? ""
        }
        #expect(try accord(["peer", "add", "astana", "--key", keys["astana"]!], journal: brussels).status == 0)
        #expect(try accord(["peer", "add", "brussels", "--key", keys["brussels"]!], journal: astana).status == 0)
        let shown = try accord(["keys", "show"], journal: brussels).output
        brusselsNoteKey = String(shown.split(separator: "\n").first { $0.hasPrefix("note key") }?.split(separator: " ").last ?? "")
        let witnessKeys = try [brussels, astana].map { try accord(["checkpoint", "witness-key"], journal: $0).output.trimmingCharacters(in: .whitespacesAndNewlines) }
        astanaWitnessKey = witnessKeys[1]
        #expect(try accord(["checkpoint", "trust-witness", "astana", "--key", witnessKeys[1]], journal: brussels).status == 0)
        #expect(try accord(["checkpoint", "trust-witness", "brussels", "--key", witnessKeys[0]], journal: astana).status == 0)
    }

    /// Appends one event (one batch) to `journal`.
    func register(_ journal: String, _ n: Int) throws {
        let result = try accord(["append", "stakeholder.registered.v1", "--subject", "stakeholder/org-\(n)",
                                 "--data", #"{"name":"Organisation \#(n)","kind":"government","country":"KZ"}"#], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The ids of the events of `site`'s feed in `journal`, in seq order.
    func ids(_ journal: String, site: String) throws -> [String] {
        try accord(["log", "--json", "--site", site], journal: journal).output.split(separator: "\n").compactMap { line in
            guard case .object(let object)? = try? JSONParser.parse(Array(line.utf8)) else { return nil }
            return object["id"]?.stringValue
        }
    }

    func sync(_ journal: String, with other: String) throws {
        let result = try accord(["sync", "--with", other], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
    }

    func expectSuccess(_ arguments: [String], _ journal: String?) throws -> AccordExecutable.Result {
        let result = try accord(arguments, journal: journal)
        #expect(result.status == 0, "accord \(arguments.joined(separator: " ")): \(result.stderr) \(result.output)")
        return result
    }
}

@Suite("Checkpoints, proofs and witnessing between offices (Trust.md)")
struct CheckpointCLITests {
    /// Brussels signs a checkpoint of 3 events; Astana syncs and cosigns it; Brussels collects
    /// the cosignature. Returns the offices and Brussels' ids.
    static func cosignedCheckpoint(_ label: String) throws -> (Offices, [String]) {
        let offices = try Offices(label)
        for n in 1...3 { try offices.register(offices.brussels, n) }
        try offices.register(offices.astana, 10)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        try offices.sync(offices.astana, with: offices.brussels)
        let cosigned = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        #expect(cosigned.output.contains("feed 'brussels': cosigned size 3"), "\(cosigned.output)")
        try offices.sync(offices.brussels, with: offices.astana)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        return (offices, try offices.ids(offices.brussels, site: "brussels"))
    }

    @Test("a checkpoint cosigned by Brussels and Astana proves an event offline, and a changed proof hash is refused")
    func cosignedReceiptVerifiesOfflineAndDamageIsRefused() throws {
        let (offices, ids) = try Self.cosignedCheckpoint("ckpt-receipt")
        let note = try FileDamage.bytes(offices.brussels + "/checkpoints/brussels/3.note")
        let text = String(decoding: note, as: UTF8.self)
        #expect(text.hasPrefix("accord/eu-kz-2022/brussels\n3\n"))
        #expect(text.contains("\n— accord/eu-kz-2022/brussels "))
        #expect(text.contains("\n— accord/eu-kz-2022/astana/witness "), "\(text)")
        let receipt = try offices.expectSuccess(["prove", ids[1]], offices.brussels)
        #expect(receipt.output.hasPrefix("c2sp.org/tlog-proof@v1\nextra "))
        #expect(receipt.output.contains("\nindex 1\n"))
        let receiptPath = offices.temp.child("receipt.txt")
        try FileDamage.write(receiptPath, receipt.stdout)
        // The auditor: no journal, only the two verifier keys.
        let audit = try offices.expectSuccess(["checkpoint", "verify", receiptPath, "--key", offices.brusselsNoteKey,
                                               "--key", offices.astanaWitnessKey, "--min-cosignatures", "1"], nil)
        #expect(audit.output.contains("cosigned by accord/eu-kz-2022/astana/witness"), "\(audit.output)")
        #expect(audit.output.contains("event \(ids[1]) is entry 2"), "\(audit.output)")
        // Another event's id, a changed hash, or no witness key: refused.
        let other = try accord(["checkpoint", "verify", receiptPath, "--key", offices.brusselsNoteKey, "--event", ids[0]])
        #expect(other.status == 3, "\(other.stderr)")
        var lines = receipt.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let hashLine = try #require(lines.firstIndex { $0.hasPrefix("index ") }) + 1
        var hash = try #require(Base64.decode(lines[hashLine]))
        hash[0] ^= 0x01
        lines[hashLine] = Base64.encode(hash)
        try FileDamage.write(receiptPath, Array(lines.joined(separator: "\n").utf8))
        let damaged = try accord(["checkpoint", "verify", receiptPath, "--key", offices.brusselsNoteKey])
        #expect(damaged.status == 3, "\(damaged.stderr)")
        #expect(damaged.stderr.contains("inclusion proof of leaf 1"), "\(damaged.stderr)")
        let unwitnessed = try accord(["checkpoint", "verify", offices.brussels + "/checkpoints/brussels/3.note",
                                      "--key", offices.brusselsNoteKey, "--min-cosignatures", "1"])
        #expect(unwitnessed.status == 3, "\(unwitnessed.stderr)")
    }

    @Test("one byte of the journal changed: verify --checkpoint names the feed and the event")
    func oneChangedByteIsNamedByFeedAndEvent() throws {
        let (offices, ids) = try Self.cosignedCheckpoint("ckpt-byte")
        let note = offices.brussels + "/checkpoints/brussels/3.note"
        let clean = try offices.expectSuccess(["verify", "--checkpoint", note], offices.brussels)
        #expect(clean.output.contains("cosigned by accord/eu-kz-2022/astana/witness"), "\(clean.output)")
        // The same check at Astana, against its copy of Brussels' feed.
        _ = try offices.expectSuccess(["verify", "--checkpoint", note], offices.astana)
        // One byte in the middle of the batch that holds Brussels' event 2 (each append is a batch).
        let segment = offices.brussels + "/segments/" + (try FileManager.default.contentsOfDirectory(atPath: offices.brussels + "/segments").sorted().first!)
        let batches = try MemberFile.read(segment)
        #expect(batches.count >= 3)
        let second = batches[1]
        try FileDamage.flip(segment, at: Int(second.offset) + second.length / 2, mask: 0x20)
        let result = try accord(["verify", "--checkpoint", note], journal: offices.brussels)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.output.contains("Feed 'brussels': event 2 cannot be read"), "\(result.output)")
        #expect(result.output.contains(ids[1]), "the id event 3 links to: \(result.output)")
    }

    @Test("a consistency proof across an honest sync verifies; one from a rewritten history does not")
    func consistencyAcrossHonestSyncAndRewrittenHistory() throws {
        let offices = try Offices("ckpt-consistency")
        for n in 1...2 { try offices.register(offices.brussels, n) }
        let twin = offices.temp.child("brussels-twin")
        try FileDamage.copyDirectory(offices.brussels, to: twin)
        try offices.register(offices.brussels, 3)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)   // size 3; event 4 carries it
        let old = offices.temp.child("old.note")
        try FileDamage.write(old, try FileDamage.bytes(offices.brussels + "/checkpoints/brussels/3.note"))
        try offices.register(offices.brussels, 5)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)   // size 5
        let new = offices.brussels + "/checkpoints/brussels/5.note"
        try offices.sync(offices.astana, with: offices.brussels)
        let proof = try offices.expectSuccess(["prove", "--consistency", old, new], offices.astana)
        let proofPath = offices.temp.child("consistency.txt")
        try FileDamage.write(proofPath, proof.stdout)
        let ok = try offices.expectSuccess(["checkpoint", "verify", new, "--old", old, "--consistency-proof", proofPath, "--key", offices.brusselsNoteKey], nil)
        #expect(ok.output.contains("extends the checkpoint of size 3"), "\(ok.output)")
        // The twin, with Brussels' key, rewrites event 3 on and signs checkpoints of its own.
        try offices.register(twin, 30)
        _ = try offices.expectSuccess(["checkpoint"], twin)
        let twinOld = twin + "/checkpoints/brussels/3.note"
        try offices.register(twin, 31)
        _ = try offices.expectSuccess(["checkpoint"], twin)
        let twinNew = twin + "/checkpoints/brussels/5.note"
        let twinProof = try offices.expectSuccess(["prove", "--consistency", twinOld, twinNew], twin)
        try FileDamage.write(proofPath, twinProof.stdout)
        let refused = try accord(["checkpoint", "verify", twinNew, "--old", old, "--consistency-proof", proofPath, "--key", offices.brusselsNoteKey])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("does not extend the one at size 3"), "\(refused.stderr)")
        // Nor can the twin prove that its history extends the honest checkpoint.
        let cannot = try accord(["prove", "--consistency", old, twinNew], journal: twin)
        #expect(cannot.status == 3, "\(cannot.stderr)")
    }

    @Test("a second, different checkpoint for a size the witness saw is a fork: refused with exit 3 and its proof kept")
    func secondCheckpointForASeenSizeIsAFork() throws {
        let offices = try Offices("ckpt-fork")
        for n in 1...2 { try offices.register(offices.brussels, n) }
        let twin = offices.temp.child("brussels-twin")
        try FileDamage.copyDirectory(offices.brussels, to: twin)
        try offices.register(offices.brussels, 3)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        try offices.sync(offices.astana, with: offices.brussels)
        _ = try offices.expectSuccess(["checkpoint"], offices.astana)
        let cosigned = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        #expect(cosigned.output.contains("cosigned size 3"), "\(cosigned.output)")
        try offices.register(twin, 30)
        _ = try offices.expectSuccess(["checkpoint"], twin)
        let forked = try accord(["checkpoint", "cosign", twin + "/checkpoints/brussels/3.note"], journal: offices.astana)
        #expect(forked.status == 3, "\(forked.stderr)")
        #expect(forked.stderr.contains("Conflict"), "\(forked.stderr)")
        let proof = String(decoding: try FileDamage.bytes(offices.astana + "/checkpoints/forks/brussels-3.proof"), as: UTF8.self)
        let notes = proof.components(separatedBy: "--\n")
        #expect(notes.count == 2)
        #expect(notes.allSatisfy { $0.hasPrefix("accord/eu-kz-2022/brussels\n3\n") } && notes[0] != notes[1])
        // Both halves of the proof verify under Brussels' key alone: the site signed both.
        for (index, half) in notes.enumerated() {
            let path = offices.temp.child("half-\(index).note")
            try FileDamage.write(path, Array(half.utf8))
            _ = try offices.expectSuccess(["checkpoint", "verify", path, "--key", offices.brusselsNoteKey], nil)
        }
    }

    @Test("Tools/verify-checkpoint.py, which is not Accord's code, accepts Accord's cosigned receipt and refuses a damaged one")
    func independentPythonVerifierAgrees() throws {
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python, try run(python, ["-c", "import cryptography"]).status == 0 else {
            print("SKIPPED independentPythonVerifierAgrees: python3 with the 'cryptography' package is missing (pip install cryptography)")
            return
        }
        let (offices, ids) = try Self.cosignedCheckpoint("ckpt-python")
        let receipt = try offices.expectSuccess(["prove", ids[2]], offices.brussels)
        let path = offices.temp.child("receipt.txt")
        try FileDamage.write(path, receipt.stdout)
        let script = Fixtures.repositoryRoot + "/Tools/verify-checkpoint.py"
        let keys = ["--key", offices.brusselsNoteKey, "--key", offices.astanaWitnessKey, "--min-cosignatures", "1"]
        let ok = try run(python, [script, path] + keys)
        #expect(ok.status == 0, "\(ok.error)")
        #expect(ok.output.contains("inclusion: leaf 2 (\(ids[2])) of 3 verifies"), "\(ok.output)")
        #expect(ok.output.contains("cosigned by accord/eu-kz-2022/astana/witness"), "\(ok.output)")
        // One byte of the cosignature changed: refused.
        var bytes = receipt.stdout
        let witnessLine = try #require(receipt.output.range(of: "— accord/eu-kz-2022/astana/witness "))
        let offset = receipt.output.utf8.distance(from: receipt.output.startIndex, to: witnessLine.upperBound) + 20
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try FileDamage.write(path, bytes)
        let refused = try run(python, [script, path] + keys)
        #expect(refused.status == 1, "\(refused.output)")
    }

    @Test("a cosignature travels in a bundle: the office whose feed was cosigned attaches it to its stored checkpoint")
    func cosignatureTravelsInABundle() throws {
        let offices = try Offices("ckpt-bundle")
        for n in 1...2 { try offices.register(offices.brussels, n) }
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        let toAstana = offices.temp.child("to-astana.bundle"), toBrussels = offices.temp.child("to-brussels.bundle")
        _ = try offices.expectSuccess(["bundle", "create", "--out", toAstana, "--for", "astana"], offices.brussels)
        _ = try offices.expectSuccess(["bundle", "apply", toAstana], offices.astana)
        _ = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        _ = try offices.expectSuccess(["bundle", "create", "--out", toBrussels, "--for", "brussels"], offices.astana)
        let before = String(decoding: try FileDamage.bytes(offices.brussels + "/checkpoints/brussels/2.note"), as: UTF8.self)
        #expect(!before.contains("astana/witness"))
        _ = try offices.expectSuccess(["bundle", "apply", toBrussels], offices.brussels)
        let again = try offices.expectSuccess(["checkpoint"], offices.brussels)
        #expect(again.output.contains("already carries it"), "\(again.output)")
        let path = offices.brussels + "/checkpoints/brussels/2.note"
        #expect(String(decoding: try FileDamage.bytes(path), as: UTF8.self).contains("\n— accord/eu-kz-2022/astana/witness "))
        _ = try offices.expectSuccess(["checkpoint", "verify", path, "--key", offices.brusselsNoteKey, "--key", offices.astanaWitnessKey, "--min-cosignatures", "1"], nil)
    }

    @Test("one byte of an event's content changed and its id recomputed (the batch stays valid): verify --checkpoint names the event whose successor no longer links to it")
    func oneChangedByteWithARecomputedIDIsNamed() throws {
        let (offices, ids) = try Self.cosignedCheckpoint("ckpt-forged-record")
        let segment = offices.brussels + "/segments/" + (try FileManager.default.contentsOfDirectory(atPath: offices.brussels + "/segments").sorted().first!)
        var batches = try MemberFile.read(segment).map { $0.records.map { Array($0) } }
        var record = batches[1][0]
        // "Organisation 2" → "Organisation 3": one byte of data, then the id the new content has.
        let digit = try #require(String(decoding: record, as: UTF8.self).range(of: "Organisation 2"))
        let offset = String(decoding: record, as: UTF8.self).utf8.distance(from: String(decoding: record, as: UTF8.self).startIndex, to: digit.upperBound) - 1
        record[offset] = UInt8(ascii: "3")
        let sigStart = try #require(String(decoding: record, as: UTF8.self).range(of: ",\"sig\":\""))
        let sigOffset = String(decoding: record, as: UTF8.self).utf8.distance(from: String(decoding: record, as: UTF8.self).startIndex, to: sigStart.lowerBound)
        let canonical = [UInt8(ascii: "{")] + Array(record[(1 + 72)..<sigOffset]) + [UInt8(ascii: "}")]
        let signature = try #require(Base64.decode(String(decoding: record[(sigOffset + 8)..<(record.count - 2)], as: UTF8.self)))
        let newID = EventRecord.id(ofCanonical: canonical)
        batches[1][0] = EventRecord.record(canonical: canonical, id: newID, signature: signature)
        try FileDamage.write(segment, try MemberFile.encode(batches))
        let result = try accord(["verify", "--checkpoint", offices.brussels + "/checkpoints/brussels/3.note"], journal: offices.brussels)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.output.contains("Feed 'brussels': event 2 ("), "\(result.output)")
        #expect(result.output.contains("has the id \(newID.hex), but event 3 links to \(ids[1])"), "\(result.output)")
    }

    // MARK: Rotated feeds and cosignatures received by sync (issue 17's new-user report)

    @Test("after Brussels rotates, its checkpoints before and after the rotation are stored, cosigned and verified in journals under the key in force at their size")
    func checkpointsOfARotatedFeedVerifyInsideJournals() throws {
        let offices = try Offices("ckpt-rotated")
        _ = try offices.expectSuccess(["keys", "incept"], offices.brussels)
        for n in 1...2 { try offices.register(offices.brussels, n) }
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)            // size 3, under the anchor
        try offices.sync(offices.astana, with: offices.brussels)
        let early = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        #expect(early.output.contains("feed 'brussels': cosigned size 3"), "\(early.output)")
        _ = try offices.expectSuccess(["keys", "rotate"], offices.brussels)         // event 5
        try offices.register(offices.brussels, 3)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)            // size 6, under the new key
        try offices.sync(offices.astana, with: offices.brussels)
        let stored = try offices.expectSuccess(["checkpoint"], offices.astana)
        #expect(stored.output.contains("feed 'brussels': stored its checkpoint of 6 events"), "\(stored.output)")
        let cosigned = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        #expect(cosigned.output.contains("feed 'brussels': cosigned size 6 (consistent with size 3)"), "\(cosigned.output)")
        try offices.sync(offices.brussels, with: offices.astana)
        for size in [3, 6] {
            let note = offices.brussels + "/checkpoints/brussels/\(size).note"
            for journal in [offices.brussels, offices.astana] {
                let checked = try offices.expectSuccess(["verify", "--checkpoint", note], journal)
                #expect(checked.output.contains("signed by accord/eu-kz-2022/brussels"), "\(checked.output)")
            }
        }
        // Offline, the new note key (as 'accord keys show' prints it now) checks the new checkpoint only.
        let shown = try offices.expectSuccess(["keys", "show"], offices.brussels).output
        let newNoteKey = String(shown.split(separator: "\n").first { $0.hasPrefix("note key") }?.split(separator: " ").last ?? "")
        _ = try offices.expectSuccess(["checkpoint", "verify", offices.brussels + "/checkpoints/brussels/6.note", "--key", newNoteKey], nil)
        #expect(try accord(["checkpoint", "verify", offices.brussels + "/checkpoints/brussels/3.note", "--key", newNoteKey]).status == 3)
    }

    @Test("prove run right after a sync includes the peer's cosignature, without running 'accord checkpoint' again")
    func proveIncludesCosignaturesReceivedBySync() throws {
        let offices = try Offices("ckpt-prove-after-sync")
        for n in 1...3 { try offices.register(offices.brussels, n) }
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        try offices.sync(offices.astana, with: offices.brussels)
        _ = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        try offices.sync(offices.brussels, with: offices.astana)
        let ids = try offices.ids(offices.brussels, site: "brussels")
        let receipt = try offices.expectSuccess(["prove", ids[1]], offices.brussels)
        #expect(receipt.output.contains("\n— accord/eu-kz-2022/astana/witness "), "\(receipt.output)")
        let path = offices.temp.child("receipt.txt")
        try FileDamage.write(path, receipt.stdout)
        _ = try offices.expectSuccess(["checkpoint", "verify", path, "--key", offices.brusselsNoteKey, "--key", offices.astanaWitnessKey, "--min-cosignatures", "1"], nil)
        // A cosignature by a witness this journal does not trust is not added.
        #expect(!receipt.output.contains("brussels/witness"), "\(receipt.output)")
    }

    @Test("trust-witness with a key that is not a witness key names the command that prints one")
    func trustWitnessErrorNamesTheRealCommand() throws {
        let offices = try Offices("ckpt-trust-witness-message")
        let result = try accord(["checkpoint", "trust-witness", "brussels", "--key", offices.brusselsNoteKey], journal: offices.astana)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("'accord checkpoint witness-key'"), "\(result.stderr)")
        #expect(!result.stderr.contains("accord keys witness"), "\(result.stderr)")
    }

    @Test("a checkpoint of a rotated feed, signed by Brussels and cosigned by Astana; one byte of Astana's copy changed: verify --checkpoint at Astana names the feed and the events, and an honest office's copy still matches")
    func oneChangedByteInAWitnessCopyOfARotatedFeedIsNamed() throws {
        let offices = try Offices("ckpt-rotated-byte")
        _ = try offices.expectSuccess(["keys", "incept"], offices.brussels)
        try offices.register(offices.brussels, 1)
        try offices.sync(offices.astana, with: offices.brussels)
        _ = try offices.expectSuccess(["keys", "rotate"], offices.brussels)
        try offices.register(offices.brussels, 2)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)            // size 4, under the new key
        try offices.sync(offices.astana, with: offices.brussels)
        _ = try offices.expectSuccess(["checkpoint", "cosign"], offices.astana)
        try offices.sync(offices.brussels, with: offices.astana)
        _ = try offices.expectSuccess(["checkpoint"], offices.brussels)
        let note = offices.brussels + "/checkpoints/brussels/4.note"
        #expect(String(decoding: try FileDamage.bytes(note), as: UTF8.self).contains("\n— accord/eu-kz-2022/astana/witness "))
        // One byte in the middle of the last batch of Brussels' events that Astana holds.
        let segment = offices.astana + "/segments/" + (try FileManager.default.contentsOfDirectory(atPath: offices.astana + "/segments").sorted().first!)
        let batches = try MemberFile.read(segment)
        let target = try #require(batches.last { batch in batch.records.contains { String(decoding: $0, as: UTF8.self).contains("\"site\":\"brussels\",\"seq\":4,") } })
        try FileDamage.flip(segment, at: Int(target.offset) + target.length / 2, mask: 0x20)
        let result = try accord(["verify", "--checkpoint", note], journal: offices.astana)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.output.contains("Feed 'brussels': event"), "\(result.output) \(result.stderr)")
        #expect(result.output.contains("cannot be read"), "\(result.output) \(result.stderr)")
        _ = try offices.expectSuccess(["verify", "--checkpoint", note], offices.brussels)
    }
}

import AccordModel
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Hand-made key events and events of a feed, signed with whatever key the forger holds.
struct KeyForger {
    var site: String

    /// One record at `seq` after `prev`, of `type` with `data`, signed by `signer`.
    func record(seq: UInt64, prev: EventID?, type: String, subject: String? = nil, data: JSONObject, signer: SiteKey, second: Int64 = 0) throws -> (record: [UInt8], id: EventID) {
        let time = Fixtures.time(second)
        let canonical = try EventRecord.canonicalBytes(
            site: SiteID(site), seq: SequenceNumber(seq), prev: prev, time: time,
            hlc: HybridTimestamp(milliseconds: time.milliseconds, counter: 0), seen: [:],
            type: EventType(type), subject: Subject(subject ?? "key/\(site)"), actor: site, data: data)
        let id = EventRecord.id(ofCanonical: canonical)
        return (EventRecord.record(canonical: canonical, id: id, signature: try signer.signature(forBatchEndingAt: id)), id)
    }

    /// An ordinary event (a stakeholder registered) at `seq` after `prev`, signed by `signer`.
    func plain(seq: UInt64, prev: EventID?, signer: SiteKey, n: Int) throws -> (record: [UInt8], id: EventID) {
        let draft = Fixtures.realisticDraft(n)
        return try record(seq: seq, prev: prev, type: draft.type.rawValue, subject: draft.subject.description, data: draft.data, signer: signer, second: Int64(n))
    }
}

@Suite("Keys over time: rotation with pre-rotation, revocation after compromise (Trust.md)")
struct KeyRotationTests {
    static func head(_ journal: EventJournal) throws -> (seq: SequenceNumber, id: EventID) {
        let writer = try journal.openWriter()
        defer { writer.close() }
        return writer.head!
    }

    static func apply(_ records: [[UInt8]], at journal: EventJournal) throws -> SyncSummary {
        let session = try SyncSession(journal: journal)
        defer { session.close() }
        return try session.apply(records)
    }

    @Test func historyVerifiesUnderTheKeyInForceAtEachSeqAfterTwoRotations() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let brussels = partnership["brussels"]
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        _ = try KeyRotation.incept(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(2), Fixtures.realisticDraft(3)])
        let first = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(4)])
        let second = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(5)])
        #expect(first.current != second.current)
        #expect(try brussels.signingKey().publicKey == second.current)
        let summary = try Self.apply(try brussels.records(lacking: VersionVector()), at: partnership["astana"])
        #expect(summary.appended == 8)
        for journal in [brussels, partnership["astana"]] {
            let report = try journal.verify()
            #expect(report.isClean, "\(report.problems)")
            #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(8))
            #expect(report.keyHistories[try SiteID("brussels")]?.current == second.current)
        }
    }

    @Test func anEventSignedByTheOldKeyAfterItsRotationIsRefusedEverywhere() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let brussels = partnership["brussels"]
        _ = try KeyRotation.incept(brussels)
        _ = try KeyRotation.rotate(brussels)
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)
        let head = try Self.head(brussels)
        // Whoever kept the old key signs an event after the rotation.
        let oldKey = try SiteKey(seed: Fixtures.seed("brussels"))
        let forged = try KeyForger(site: "brussels").plain(seq: head.seq.rawValue + 1, prev: head.id, signer: oldKey, n: 77)
        let error = #expect(throws: AccordError.self) { try Self.apply([forged.record], at: partnership["astana"]) }
        #expect(error?.code == .untrusted)
        #expect(error?.message.contains("replaced") == true, "\(error?.message ?? "")")
        #expect(try partnership.ids("astana").count == 2)
        // Signed by the key in force, the same event is taken.
        let honest = try KeyForger(site: "brussels").plain(seq: head.seq.rawValue + 1, prev: head.id, signer: try brussels.signingKey(), n: 77)
        #expect(try Self.apply([honest.record], at: partnership["astana"]).appended == 1)
    }

    @Test func aThiefOfTheCurrentKeyCannotRotateToAKeyOfItsOwnAtAnyOffice() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek"])
        let brussels = partnership["brussels"]
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)
        _ = try DirectorySync.sync(partnership["windhoek"], with: brussels)
        let head = try Self.head(brussels)
        // The thief holds the key in force, not the committed next key.
        let stolen = try brussels.signingKey()
        let thiefKey = SiteKey(), thiefNext = SiteKey()
        let forger = KeyForger(site: "brussels")
        let rotation = try forger.record(seq: head.seq.rawValue + 1, prev: head.id, type: KeyHistory.rotationType,
                                         data: JSONObject([("key", .string(thiefKey.publicKey.base64)), ("next", .string(KeyHistory.digest(of: thiefNext.publicKey)))]), signer: stolen)
        let after = try forger.plain(seq: head.seq.rawValue + 2, prev: rotation.id, signer: thiefKey, n: 55)
        for office in ["astana", "windhoek", "brussels"] {
            let error = #expect(throws: AccordError.self) { try Self.apply([rotation.record, after.record], at: partnership[office]) }
            #expect(error?.code == .untrusted)
            #expect(error?.message.contains("not the one committed to come next") == true, "\(error?.message ?? "")")
        }
        // Through another journal directory too.
        let planted = try GateTests.plantedDirectory(partnership, [rotation.record, after.record])
        #expect(throws: AccordError.self) { try DirectorySync.sync(partnership["astana"], with: planted) }
        #expect(try partnership.ids("astana").count == 2)
        #expect(try partnership["astana"].verify().isClean)
    }

    @Test func afterRevocationTheThiefsEventsAreQuarantinedAtEveryOfficeAndTheHonestFeedContinues() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek"])
        let brussels = partnership["brussels"]
        _ = try KeyRotation.incept(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(1), Fixtures.realisticDraft(2)])
        for office in ["astana", "windhoek"] { _ = try DirectorySync.sync(partnership[office], with: brussels) }
        let stolenAt = try Self.head(brussels)  // 3
        let stolen = try brussels.signingKey()
        // Brussels learns of the theft and revokes the stolen key from 4 on.
        let revoked = try KeyRotation.revoke(brussels, fromSeq: stolenAt.seq.next, reason: "laptop stolen")
        #expect(revoked.event.seq == SequenceNumber(4))
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)
        try partnership.bundle(from: "brussels", to: "windhoek")
        // The thief signs its own version of 4 and 5 (a fork of the honest feed), and an event
        // after the revocation.
        let forger = KeyForger(site: "brussels")
        let four = try forger.plain(seq: 4, prev: stolenAt.id, signer: stolen, n: 60)
        let five = try forger.plain(seq: 5, prev: four.id, signer: stolen, n: 61)
        let afterRevocation = try forger.plain(seq: 5, prev: revoked.event.id, signer: stolen, n: 62)
        for office in ["astana", "windhoek", "brussels"] {
            let before = try partnership.ids(office)
            let summary = try Self.apply([four.record, five.record], at: partnership[office])
            let again = try Self.apply([afterRevocation.record], at: partnership[office])
            #expect(summary.appended == 0 && again.appended == 0)
            #expect(summary.forks.isEmpty && again.forks.isEmpty, "\(summary.forks)")
            #expect(summary.revoked.count == 1 && again.revoked.count == 1)
            #expect(summary.revoked.first?.contains("revoked from 4 on") == true, "\(summary.revoked)")
            #expect(try partnership.ids(office) == before)
            let report = try partnership[office].verify()
            #expect(report.isClean, "\(report.problems)")
            #expect(report.revoked.count == 2)
        }
        // The honest feed continues, under the key the revocation revealed.
        try partnership.append("brussels", [Fixtures.realisticDraft(3)])
        let summary = try DirectorySync.sync(partnership["astana"], with: brussels)
        #expect(summary.pulled.appended == 1)
        try partnership.bundle(from: "astana", to: "windhoek")
        #expect(try partnership.ids("windhoek").count == 5)
        #expect(try partnership["windhoek"].verify().isClean)
    }

    @Test func aFeedWithoutInceptionCannotRotateAndAnInceptionComesOnce() throws {
        let partnership = try Partnership(["brussels"])
        let brussels = partnership["brussels"]
        let error = #expect(throws: AccordError.self) { try KeyRotation.rotate(brussels) }
        #expect(error?.message.contains("accord keys incept") == true)
        _ = try KeyRotation.incept(brussels)
        #expect(throws: AccordError.self) { try KeyRotation.incept(brussels) }
        // A next key file that is not the committed one is refused, and nothing is written.
        let wrong = partnership.temp.child("wrong.key")
        try FileBytes.writeAtomically(wrong, bytes: Array((Base64.encode(SiteKey().seed) + "\n").utf8), mode: 0o600)
        #expect(throws: AccordError.self) { try KeyRotation.rotate(brussels, nextKeyPath: wrong) }
        #expect(try partnership.ids("brussels").count == 1)
    }

    @Test func requestsSignedWithTheRotatedKeyAreAcceptedUnderTheCommittedKeyOrOnceTheRotationArrived() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek"])
        let brussels = partnership["brussels"]
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)  // Astana holds the commitment
        _ = try KeyRotation.rotate(brussels)
        let body = Array("{}".utf8)
        func verify(at office: String, _ headers: [String: String]) throws -> RequestSigning.Admitted {
            let journal = partnership[office]
            let keys = try journal.transportKeys()
            return try RequestSigning.verifyHeaders(headers, method: "POST", path: "/v1/push", announcedLength: body.count,
                                                    trusted: keys.current, committed: keys.committed, server: journal.site, partnership: journal.partnership)
        }
        func headers(to office: String) throws -> [String: String] {
            try RequestSigning.headers(for: brussels, method: "POST", path: "/v1/push", body: body, to: office)
        }
        // Astana has not received the rotation, but the new key is the one Brussels committed to.
        #expect(try verify(at: "astana", try headers(to: "astana")).site == brussels.site)
        var bare = try headers(to: "astana")
        bare[RequestSigning.keyHeader] = nil
        #expect(throws: SyncError.self) { try verify(at: "astana", bare) }
        // A key that is neither in force nor committed is refused, whatever the header says.
        var other = try headers(to: "astana")
        other[RequestSigning.keyHeader] = SiteKey().publicKey.base64
        other[RequestSigning.signatureHeader] = Base64.encode(Array(repeating: 0, count: 64))
        #expect(throws: SyncError.self) { try verify(at: "astana", other) }
        // Windhoek holds neither the rotation nor the commitment: refused until it has them.
        #expect(throws: SyncError.self) { try verify(at: "windhoek", try headers(to: "windhoek")) }
        _ = try DirectorySync.sync(partnership["windhoek"], with: brussels)
        #expect(try verify(at: "windhoek", try headers(to: "windhoek")).site == brussels.site)
        // Where the rotation arrived, the key in force for Brussels is the new one.
        #expect(try partnership["windhoek"].currentKeys()[brussels.site] == (try brussels.signingKey().publicKey))
    }

    // MARK: Transport after a rotation (Trust.md "Transport"), issue 17's new-user report

    /// Writes a bundle of what `journal` holds beyond `base` to a file and reads it back the way
    /// `accord bundle apply` does: header checked against `receiver` while reading.
    static func bundleFile(_ partnership: Partnership, from journal: EventJournal, beyond base: VersionVector, for receiver: EventJournal) throws -> AccordSync.Bundle {
        let path = partnership.temp.child("bundle-\(UUID().uuidString.prefix(8)).bundle")
        try Bundle.make(from: journal, beyond: base).write(to: path)
        let bundle = try Bundle.read(path, checkingAgainst: receiver)
        _ = try bundle.verify(against: receiver)
        return bundle
    }

    @Test func aBundleFileFromARotatedSiteIsAppliedByPeersThatHaveNotYetReceivedTheRotation() throws {
        let partnership = try Partnership(["astana", "brussels", "windhoek"])
        let brussels = partnership["brussels"]
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)  // Astana holds the commitment, Windhoek nothing
        _ = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(2)])
        // The bundle's header is signed with the new key; the rotation travels in the bundle.
        for office in ["astana", "windhoek"] {
            let receiver = partnership[office]
            let bundle = try Self.bundleFile(partnership, from: brussels, beyond: try receiver.versionVector(), for: receiver)
            let summary = try Self.apply(bundle.records, at: receiver)
            // Windhoek held nothing of Brussels: the bundle carries the inception too.
            #expect(summary.appended == (office == "astana" ? 2 : 4), "\(office): \(summary)")
            #expect(try receiver.currentKeys()[brussels.site] == (try brussels.signingKey().publicKey))
            #expect(try receiver.verify().isClean)
        }
    }

    @Test func aBundleHeaderIsRefusedUnlessTheKeyEventsThatRevealItsKeyAreCarriedAndChainToTheReceiversCopy() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let brussels = partnership["brussels"]
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(partnership["astana"], with: brussels)
        let astanaHad = try partnership["astana"].versionVector()      // 1: the inception
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])  // 2
        _ = try KeyRotation.rotate(brussels)                              // 3
        try partnership.append("brussels", [Fixtures.realisticDraft(2)])  // 4
        let afterRotation = try brussels.versionVector()
        try partnership.append("brussels", [Fixtures.realisticDraft(3)])  // 5
        let before = try FileDamage.snapshot(of: partnership["astana"].path)
        // Made beyond a vector that claims the rotation: the header's key is revealed by nothing
        // Astana holds or receives; refused before the records are read, nothing written.
        let path = partnership.temp.child("without-rotation.bundle")
        try Bundle.make(from: brussels, beyond: afterRotation).write(to: path)
        let error = #expect(throws: AccordError.self) { try Bundle.read(path, checkingAgainst: partnership["astana"]) }
        #expect(error?.code == .untrusted)
        #expect(error?.message.contains("does not verify under the key in force for its source 'brussels'") == true, "\(error?.message ?? "")")
        // The rotation carried, but the header signed by a key that is neither: refused.
        var forged = try Bundle.make(from: brussels, beyond: astanaHad)
        forged.signingKey = SiteKey()
        let forgedPath = partnership.temp.child("forged.bundle")
        try forged.write(to: forgedPath)
        let refused = #expect(throws: AccordError.self) { try Bundle.read(forgedPath, checkingAgainst: partnership["astana"]) }
        #expect(refused?.message.contains("and those the bundle carries") == true, "\(refused?.message ?? "")")
        // The rotation carried but not chained to Astana's copy (event 2, before it, left out): refused.
        let records = try Bundle.make(from: brussels, beyond: astanaHad).records.filter { (try? EventRecord.decode($0))?.seq != SequenceNumber(2) }
        let unchained = try Bundle(partnership: "eu-kz-2022", source: "brussels", created: Timestamp.now().text, requires: astanaHad, brings: [:], records: records, signingKey: try brussels.signingKey()).split(maxBytes: Int.max)[0]
        let gap = #expect(throws: AccordError.self) { try unchained.checkHeader(against: partnership["astana"]) }
        #expect(gap?.message.contains("does not verify under the key in force for its source 'brussels'") == true, "\(gap?.message ?? "")")
        #expect(try FileDamage.snapshot(of: partnership["astana"].path) == before)
        // A rotation forged with the stolen current key cannot make the header verify either.
        let stolen = try SiteKey(seed: Fixtures.seed("brussels"))
        let thief = SiteKey()
        let astanaHead = try #require(astanaHad.entries[brussels.site])
        let fakeRotation = try KeyForger(site: "brussels").record(seq: astanaHead.seq.rawValue + 1, prev: astanaHead.id, type: KeyHistory.rotationType,
                                                                  data: JSONObject([("key", .string(thief.publicKey.base64)), ("next", .string(KeyHistory.digest(of: SiteKey().publicKey)))]), signer: stolen)
        let thiefs = try Bundle(partnership: "eu-kz-2022", source: "brussels", created: Timestamp.now().text, requires: astanaHad,
                                brings: [:], records: [fakeRotation.record], signingKey: thief).split(maxBytes: Int.max)[0]
        let thiefError = #expect(throws: AccordError.self) { try thiefs.checkHeader(against: partnership["astana"]) }
        #expect(thiefError?.message.contains("not the one committed to come next") == true, "\(thiefError?.message ?? "")")
        #expect(try FileDamage.snapshot(of: partnership["astana"].path) == before)
    }

    @Test func pushAndPullOverHTTPWorkRightAfterARotationThatThePeerHasNotReceived() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let brussels = partnership["brussels"], astana = partnership["astana"]
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(astana, with: brussels)
        _ = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        // Push: Brussels' request and bundle, both signed with the new key, to Astana's service.
        let body = try Bundle.make(from: brussels, beyond: try astana.versionVector()).encoded()
        let push = SyncService.Request(method: "POST", path: "/v1/push", headers: try RequestSigning.headers(for: brussels, method: "POST", path: "/v1/push", body: body, to: "astana"), body: body)
        let pushed = SyncService(journal: astana).handle(push)
        #expect(pushed.status == 200, "\(String(decoding: pushed.body, as: UTF8.self))")
        #expect(String(decoding: pushed.body, as: UTF8.self).contains("\"appended\":2"))
        // Pull, the other way: a third office that holds only the commitment pulls from Brussels'
        // service and reads the answer as 'accord sync URL' does.
        let windhoek = try EventJournal.create(at: partnership.temp.child("windhoek"), site: SiteID("windhoek"), seed: Fixtures.seed("windhoek"), partnership: "eu-kz-2022")
        for journal in [brussels, astana] {
            try windhoek.trust(try SiteKey(seed: Fixtures.seed(journal.site.rawValue)).publicKey, for: journal.site)  // the anchors
            try journal.trust(try windhoek.signingKey().publicKey, for: windhoek.site)
        }
        let early = try Bundle.make(from: astana, beyond: VersionVector()).records.filter { record in (try? EventRecord.decode(record)).map { $0.site == brussels.site && $0.seq.rawValue <= 1 } ?? false }
        #expect(try Self.apply(early, at: windhoek).appended == 1)  // the inception: the commitment
        let pullBody = try CanonicalJSON.encode(.object(JSONObject([("vector", try windhoek.versionVector().json())])))
        let headers = try RequestSigning.headers(for: windhoek, method: "POST", path: "/v1/pull", body: pullBody, to: "brussels")
        let answer = SyncService(journal: brussels).handle(.init(method: "POST", path: "/v1/pull", headers: headers, body: pullBody))
        #expect(answer.status == 200)
        let keys = try windhoek.transportKeys()
        let head = try RequestSigning.verifyResponseHead(headers: answer.headers, status: answer.status, length: answer.body.count, method: "POST", path: "/v1/pull",
                                                         nonce: headers[RequestSigning.nonceHeader]!, trusted: keys.current, committed: keys.committed)
        #expect(head.site == brussels.site)
        let pulled = try Bundle.parse(bytes: answer.body, checkingAgainst: windhoek)
        _ = try pulled.verify(against: windhoek)
        #expect(try Self.apply(pulled.records, at: windhoek).appended == 2)
        #expect(try windhoek.currentKeys()[brussels.site] == (try brussels.signingKey().publicKey))
    }

    @Test func accordSyncOverLoopbackHTTPPushesAndPullsRightAfterEachRotation() throws {
        let partnership = try Partnership(["astana", "brussels"])
        let brussels = partnership["brussels"], astana = partnership["astana"]
        _ = try KeyRotation.incept(brussels)
        _ = try DirectorySync.sync(astana, with: brussels)
        // Brussels rotates and pushes to Astana's server, which has not received the rotation.
        _ = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(1)])
        do {
            let (server, url) = try AccordExecutable.serve(journal: astana.path, scratch: partnership.temp.path)
            defer { if server.isRunning { server.terminate() } }
            let result = try AccordExecutable.run(["sync", "--with", url, "--journal", brussels.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.contains("Pushed: received 2, appended 2"), "\(result.output)")
        }
        // Brussels rotates again and serves; Astana pulls the answer signed with the newest key.
        _ = try KeyRotation.rotate(brussels)
        try partnership.append("brussels", [Fixtures.realisticDraft(2)])
        let (server, url) = try AccordExecutable.serve(journal: brussels.path, scratch: partnership.temp.path)
        defer { if server.isRunning { server.terminate() } }
        let result = try AccordExecutable.run(["sync", "--with", url, "--journal", astana.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("Pulled: received 2, appended 2"), "\(result.output)")
        #expect(try astana.currentKeys()[brussels.site] == (try brussels.signingKey().publicKey))
        #expect(try astana.verify().isClean)
    }
}

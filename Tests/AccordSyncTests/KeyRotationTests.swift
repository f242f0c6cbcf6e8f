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
}

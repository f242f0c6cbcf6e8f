import AccordModel
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Regression tests for issue 13: a signed request named neither its server nor carried a
/// nonce, so a captured pull, replayed unchanged within its time window to another server —
/// another site of the same partnership, or another partnership that trusts the same key —
/// returned that server's journal; and its answer was bound only to the request's time.
@Suite("Signed requests, version 2: bound to one server, used once, answered once")
struct ReplayTests {
    func pull(_ partnership: Partnership, from site: String, to destination: String) throws -> SyncService.Request {
        let body = try CanonicalJSON.encode(.object(JSONObject([("vector", VersionVector().json())])))
        return SyncService.Request(method: "POST", path: "/v1/pull", headers: try RequestSigning.headers(for: partnership[site], method: "POST", path: "/v1/pull", body: body, to: destination), body: body)
    }

    func error(_ response: SyncService.Response) -> String {
        guard case .object(let object)? = try? JSONParser.parse(response.body) else { return "" }
        return object["error"]?.stringValue ?? ""
    }

    @Test func aPullReplayedToAnotherSiteOfThePartnershipIsRefused() throws {
        let partnership = try Partnership(["brussels", "astana", "almaty"])
        try partnership.append("almaty", Fixtures.realisticDrafts(count: 3))
        let captured = try pull(partnership, from: "brussels", to: "astana")
        #expect(SyncService(journal: partnership["astana"]).handle(captured).status == 200)
        let elsewhere = SyncService(journal: partnership["almaty"]).handle(captured)
        #expect(elsewhere.status == 401)
        #expect(error(elsewhere).contains("addressed to site 'astana'"))
        #expect(!elsewhere.body.contains(0x1f))  // not a bundle (gzip members start 1f 8b)
    }

    @Test func aPullReplayedToAnotherPartnershipTrustingTheSameKeyIsRefused() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let other = try Partnership(["brussels", "astana"], partnership: "eu-uz-2025")  // the same keys
        try other.append("astana", Fixtures.realisticDrafts(count: 3))
        let captured = try pull(partnership, from: "brussels", to: "astana")
        let answer = SyncService(journal: other["astana"]).handle(captured)
        #expect(answer.status == 401)
        #expect(error(answer).contains("partnership 'eu-kz-2022'"))
    }

    @Test func aRequestReplayedToTheSameServerIsRefusedByItsNonce() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let service = SyncService(journal: partnership["astana"])
        let captured = try pull(partnership, from: "brussels", to: "astana")
        #expect(service.handle(captured).status == 200)
        let again = service.handle(captured)
        #expect(again.status == 401)
        #expect(error(again).contains("already received"))
        // A fresh request of the same site still works.
        #expect(service.handle(try pull(partnership, from: "brussels", to: "astana")).status == 200)
    }

    @Test func onlyTheVectorMayBeAskedOfAnyServer() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let service = SyncService(journal: partnership["astana"])
        let anyVector = try RequestSigning.headers(for: partnership["brussels"], method: "GET", path: "/v1/vector", body: [], to: RequestSigning.anyDestination)
        #expect(service.handle(.init(method: "GET", path: "/v1/vector", headers: anyVector, body: [])).status == 200)
        let anyPull = try pull(partnership, from: "brussels", to: RequestSigning.anyDestination)
        #expect(service.handle(anyPull).status == 401)
    }

    @Test func aVersion1RequestIsRefusedNamingTheVersionInAnAnswerAVersion1ClientCanRead() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let service = SyncService(journal: partnership["astana"])
        let time = Timestamp(seconds: Timestamp.now().seconds, nanoseconds: 0).text
        let text = Array("accord-request-v1\nGET\n/v1/vector\n\(time)\n\(Digest.sha256Hex([]))".utf8)
        let signature = try partnership["brussels"].signingKey().sign(text)
        let headers = [RequestSigning.siteHeader: "brussels", RequestSigning.timeHeader: time, RequestSigning.signatureHeader: Base64.encode(signature)]
        let answer = service.handle(.init(method: "GET", path: "/v1/vector", headers: headers, body: []))
        #expect(answer.status == 401)
        #expect(error(answer).contains("version 1"))
        // Signed the version-1 way, over status, path, the request's time and the body.
        let v1 = Array("accord-response-v1\n401\n/v1/vector\n\(time)\n\(Digest.sha256Hex(answer.body))".utf8)
        let key = try #require(try partnership["brussels"].trustedKeys()[SiteID("astana")])
        let answerSignatureText = try #require(answer.headers[RequestSigning.signatureHeader])
        let answerSignature = try #require(Base64.decode(answerSignatureText))
        #expect(key.verifies(answerSignature, message: v1))
    }

    @Test func anAnswerVerifiesOnlyForTheRequestItAnswers() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let service = SyncService(journal: partnership["astana"])
        let request = try pull(partnership, from: "brussels", to: "astana")
        let answer = service.handle(request)
        var headers = answer.headers
        headers["Content-Length"] = String(answer.body.count)
        let trusted = try partnership["brussels"].trustedKeys()
        let nonce = request.headers[RequestSigning.nonceHeader]!
        let (site, hash) = try RequestSigning.verifyResponseHead(headers: headers, status: answer.status, length: answer.body.count, method: "POST", path: "/v1/pull", nonce: nonce, trusted: trusted)
        #expect(site.rawValue == "astana")
        #expect(hash == Digest.sha256Hex(answer.body))
        // Another request's nonce, another status, another length: refused.
        #expect(throws: SyncError.self) { try RequestSigning.verifyResponseHead(headers: headers, status: 200, length: answer.body.count, method: "POST", path: "/v1/pull", nonce: RequestSigning.makeNonce(), trusted: trusted) }
        #expect(throws: SyncError.self) { try RequestSigning.verifyResponseHead(headers: headers, status: 409, length: answer.body.count, method: "POST", path: "/v1/pull", nonce: nonce, trusted: trusted) }
        #expect(throws: SyncError.self) { try RequestSigning.verifyResponseHead(headers: headers, status: 200, length: answer.body.count + 1, method: "POST", path: "/v1/pull", nonce: nonce, trusted: trusted) }
    }

    @Test func aBodyOtherThanTheSignedOneIsRefusedAndNothingIsWritten() throws {
        let partnership = try Partnership(["brussels", "astana"])
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 3))
        let service = SyncService(journal: partnership["astana"])
        let before = try FileDamage.snapshot(of: partnership["astana"].path)
        let good = try Bundle.make(from: partnership["brussels"]).encoded()
        let headers = try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: good, to: "astana")
        guard case .admitted(let admitted) = service.admit(method: "POST", path: "/v1/push", headers: headers, announcedLength: good.count) else {
            Issue.record("a genuine push was refused from its headers")
            return
        }
        var other = good
        other[other.count / 2] ^= 0x01
        #expect(service.handle(.init(method: "POST", path: "/v1/push", headers: headers, body: other), admitted: admitted).status == 401)
        #expect(try FileDamage.snapshot(of: partnership["astana"].path) == before)
    }
}

@Suite("The signed text of SyncProtocol.md §4.3.1, byte for byte")
struct SignedTextExampleTests {
    /// The worked example of SyncProtocol.md §4.3.1: seed 01 02 … 20, `POST /v1/pull` with the
    /// body `{"vector":{}}`.
    @Test func theWorkedExampleIsTheTextTheCodeSigns() throws {
        let text = RequestSigning.requestText(
            method: "POST", path: "/v1/pull", time: "2026-12-07T01:00:00Z", nonce: "00112233445566778899aabbccddeeff",
            length: 13, contentHash: Digest.sha256Hex(Array(#"{"vector":{}}"#.utf8)), site: "brussels", destination: "astana", partnership: "eu-kz-2022")
        let documented = Array("accord-request-v2\nPOST\n/v1/pull\n2026-12-07T01:00:00Z\n00112233445566778899aabbccddeeff\n13\n91006cda179db7652535b70b9d48e44cd31302ca2111a079c6ca20e861e23e56\nbrussels\nastana\neu-kz-2022".utf8)
        #expect(text == documented)
        #expect(text.count == 180)
        #expect(Digest.sha256Hex(text) == "82c2a4e597006d459aa1e633b0feb38aa2082bb4b72391669035c7e2a4dbf73f")
        let key = try SiteKey(seed: [UInt8](1...32))
        #expect(key.publicKey == (try SitePublicKey(base64: "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")))
        let signature = try #require(Base64.decode("vMO5SFM13WvYjxUFzrndowVz0jgaSp1DbVNTOpGPUppJcOsLVYmu5g3lEjjlyVee9F6kJvdU0dKLREafR511Bg=="))
        #expect(key.publicKey.verifies(signature, message: text))
        #expect(try key.sign(text) == signature)  // Ed25519 (RFC 8032) is deterministic
    }
}

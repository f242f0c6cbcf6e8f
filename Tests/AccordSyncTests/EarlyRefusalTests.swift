import AccordModel
import AccordSync
import AccordTesting
import Testing

@Suite("A server refuses from the headers alone, before reading a body")
struct EarlyRefusalTests {
    /// Regression (accord-abuse): unsigned, untrusted and oversized requests used to have their
    /// whole body buffered before the refusal; now their headers decide.
    @Test func unsignedStaleUntrustedOversizedAndUnknownRequestsAreRefusedBeforeTheirBody() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let stranger = try Partnership(["lusaka"])
        let service = SyncService(journal: partnership["astana"], maxBody: 1000)
        func status(_ method: String, _ path: String, _ headers: [String: String], announced: Int?) -> Int? {
            if case .refused(let answer) = service.admit(method: method, path: path, headers: headers, announcedLength: announced) { return answer.status }
            return nil
        }
        func signed(_ length: Int, now: Timestamp = .now()) throws -> [String: String] {
            try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: [UInt8](repeating: 0x20, count: length), to: "astana", now: now)
        }
        let stale = try signed(500, now: Timestamp(seconds: Timestamp.now().seconds - 3600, nanoseconds: 0))
        let untrusted = try RequestSigning.headers(for: stranger["lusaka"], method: "POST", path: "/v1/push", body: [UInt8](repeating: 0x20, count: 500), to: "astana")
        #expect(status("POST", "/v1/push", [:], announced: 10_000_000_000 as Int?) == 413)
        #expect(status("POST", "/v1/push", [:], announced: 500) == 401)
        #expect(status("POST", "/v1/push", stale, announced: 500) == 401)
        #expect(status("POST", "/v1/push", untrusted, announced: 500) == 403)
        #expect(status("POST", "/v1/elsewhere", try signed(500), announced: 500) == 404)
        #expect(status("GET", "/v1/push", try signed(0), announced: nil) == 405)
        #expect(status("POST", "/v1/push", try signed(1001), announced: 1001) == 413)
        // A chunked body cannot be the signed length: refused before it is read.
        if case .refused(let chunked) = service.admit(method: "POST", path: "/v1/push", headers: try signed(500), announcedLength: nil, chunked: true) {
            #expect(chunked.status == 400)
        } else {
            Issue.record("a chunked body was admitted")
        }
        // A trusted, fresh request whose headers verify is admitted; its body is checked later.
        #expect(status("POST", "/v1/push", try signed(1000), announced: 1000) == nil)
        // Early refusals are signed like every answer.
        guard case .refused(let refusal) = service.admit(method: "POST", path: "/v1/push", headers: [:], announcedLength: 5) else {
            Issue.record("an unsigned request was admitted")
            return
        }
        #expect(refusal.headers[RequestSigning.signatureHeader] != nil)
    }

    /// Regression (issue 13): with no key at all, requests that named a trusted site, carried
    /// any signature and announced a large body passed the header check, so the server reserved
    /// budget for their bodies (and read them) before the signature — which covered the body —
    /// could be checked. Now the signature covers the announced length and the body's SHA-256
    /// and is checked from the headers alone.
    @Test func aForgedSignatureNamingATrustedSiteIsRefusedFromItsHeaders() throws {
        let partnership = try Partnership(["brussels", "astana"])
        let service = SyncService(journal: partnership["astana"], maxBody: 64 << 20)
        var forged = try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: [], to: "astana")
        forged[RequestSigning.signatureHeader] = Base64.encode([UInt8](repeating: 7, count: 64))
        guard case .refused(let answer) = service.admit(method: "POST", path: "/v1/push", headers: forged, announcedLength: 64 << 20) else {
            Issue.record("a forged signature was admitted before its body")
            return
        }
        #expect(answer.status == 401)
        // The signed length is the announced one: a genuine signature over another length fails.
        let genuine = try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: [1, 2, 3], to: "astana")
        guard case .refused(let lengthened) = service.admit(method: "POST", path: "/v1/push", headers: genuine, announcedLength: 64 << 20) else {
            Issue.record("a signature over 3 bytes admitted a body of 64 MiB")
            return
        }
        #expect(lengthened.status == 401)
    }
}

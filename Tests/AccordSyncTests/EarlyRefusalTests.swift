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
            service.refusalBeforeBody(method: method, path: path, headers: headers, announcedLength: announced)?.status
        }
        let signed = try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: [])
        let stale = try RequestSigning.headers(for: partnership["brussels"], method: "POST", path: "/v1/push", body: [], now: Timestamp(seconds: Timestamp.now().seconds - 3600, nanoseconds: 0))
        let untrusted = try RequestSigning.headers(for: stranger["lusaka"], method: "POST", path: "/v1/push", body: [])
        #expect(status("POST", "/v1/push", [:], announced: 10_000_000_000 as Int?) == 413)
        #expect(status("POST", "/v1/push", [:], announced: 500) == 401)
        #expect(status("POST", "/v1/push", stale, announced: 500) == 401)
        #expect(status("POST", "/v1/push", untrusted, announced: 500) == 403)
        #expect(status("POST", "/v1/elsewhere", signed, announced: 500) == 404)
        #expect(status("GET", "/v1/push", signed, announced: nil) == 405)
        #expect(status("POST", "/v1/push", signed, announced: 1001) == 413)
        // A trusted, fresh request needs its body to be judged (its signature covers the body).
        #expect(status("POST", "/v1/push", signed, announced: 1000) == nil)
        #expect(status("POST", "/v1/push", signed, announced: nil) == nil)
        // Early refusals are signed like every answer.
        let refusal = try #require(service.refusalBeforeBody(method: "POST", path: "/v1/push", headers: [:], announcedLength: 5))
        #expect(refusal.headers[RequestSigning.signatureHeader] != nil)
    }
}

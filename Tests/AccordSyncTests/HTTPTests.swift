import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

@Suite("HTTP sync: the service's answers, and one live exchange")
struct HTTPTests {
    /// A signed request from `site`'s journal to the service.
    func request(_ partnership: Partnership, from site: String, _ method: String, _ path: String, body: [UInt8] = [], now: Timestamp = .now()) throws -> SyncService.Request {
        SyncService.Request(method: method, path: path, headers: try RequestSigning.headers(for: partnership[site], method: method, path: path, body: body, to: "astana", now: now), body: body)
    }

    func error(_ response: SyncService.Response) -> String {
        guard case .object(let object)? = try? JSONParser.parse(response.body) else { return "" }
        return object["error"]?.stringValue ?? ""
    }

    @Test func everyRefusalHasItsStatusAndChangesNothing() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 3))
        let service = SyncService(journal: partnership["astana"], maxBody: 64 * 1024)
        let before = try FileDamage.snapshot(of: partnership["astana"].path)
        let good = try Bundle.make(from: partnership["brussels"]).encoded()

        // 401: unsigned, stale, or signed with another key.
        #expect(service.handle(.init(method: "GET", path: "/v1/vector", headers: [:], body: [])).status == 401)
        #expect(service.handle(try request(partnership, from: "brussels", "GET", "/v1/vector", now: Timestamp(seconds: Timestamp.now().seconds - 3600, nanoseconds: 0))).status == 401)
        var tampered = try request(partnership, from: "brussels", "POST", "/v1/push", body: good)
        tampered.body[tampered.body.count / 2] ^= 0x01  // the signature covers the body's hash
        #expect(service.handle(tampered).status == 401)
        // 403: a site the server does not trust.
        let stranger = try Partnership(["lusaka"])
        let strangerRequest = SyncService.Request(method: "GET", path: "/v1/vector", headers: try RequestSigning.headers(for: stranger["lusaka"], method: "GET", path: "/v1/vector", body: [], to: "astana"), body: [])
        #expect(service.handle(strangerRequest).status == 403)
        // 404, 405.
        #expect(service.handle(try request(partnership, from: "brussels", "GET", "/v1/nothing")).status == 404)
        #expect(service.handle(try request(partnership, from: "brussels", "GET", "/v1/push")).status == 405)
        // 413: over the limit.
        let huge = [UInt8](repeating: 0x20, count: 64 * 1024 + 1)
        #expect(service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: huge)).status == 413)
        // 400: malformed pull, a body that is not a bundle, a bundle from another site than the signer.
        #expect(service.handle(try request(partnership, from: "brussels", "POST", "/v1/pull", body: Array("{\"vector\":7}".utf8))).status == 400)
        let garbage = service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: Array("not a bundle".utf8)))
        #expect(garbage.status == 400)
        #expect(!error(garbage).contains("not a bundle\""))  // never echoes the body
        let astanaBundle = try Bundle.make(from: partnership["astana"]).encoded()
        #expect(service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: astanaBundle)).status == 400)
        #expect(try FileDamage.snapshot(of: partnership["astana"].path) == before)

        // 200: a valid push, then the same push again adds nothing.
        let pushed = service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: good))
        #expect(pushed.status == 200)
        #expect(String(decoding: pushed.body, as: UTF8.self).contains("\"appended\":3"))
        #expect(String(decoding: service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: good)).body, as: UTF8.self).contains("\"appended\":0"))
        let vector = service.handle(try request(partnership, from: "brussels", "GET", "/v1/vector"))
        #expect(vector.status == 200)
        #expect(String(decoding: vector.body, as: UTF8.self).contains("\"partnership\":\"eu-kz-2022\""))
    }

    @Test func aForkPushedOverHTTPIsRefusedWith409() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 2))
        let service = SyncService(journal: partnership["astana"])
        #expect(service.handle(try request(partnership, from: "brussels", "POST", "/v1/push", body: try Bundle.make(from: partnership["brussels"]).encoded())).status == 200)
        let reborn = try EventJournal.create(at: partnership.temp.child("brussels-reborn"), site: SiteID("brussels"), seed: Fixtures.seed("brussels"), partnership: "eu-kz-2022")
        try reborn.openWriter().append(Fixtures.realisticDrafts(count: 2, startingAt: 70), now: Fixtures.time(9))
        let forked = try Bundle.make(from: reborn).encoded()
        let forkRequest = SyncService.Request(method: "POST", path: "/v1/push", headers: try RequestSigning.headers(for: reborn, method: "POST", path: "/v1/push", body: forked, to: "astana"), body: forked)
        let answer = service.handle(forkRequest)
        #expect(answer.status == 409)
        #expect(error(answer).contains("fork in feed 'brussels' at 1"))
    }

    @Test func twoOfficesSyncOverLoopbackHTTPAndEndWithTheSameDigest() throws {
        let partnership = try Partnership(["astana", "brussels"])
        try partnership.append("astana", Fixtures.realisticDrafts(count: 40))
        try partnership.append("brussels", Fixtures.realisticDrafts(count: 25, startingAt: 100))
        let (server, url) = try AccordExecutable.serve(journal: partnership["astana"].path, scratch: partnership.temp.path)
        defer { if server.isRunning { server.terminate() } }
        // The client runs in its own process, as an office would run it.
        let result = try AccordExecutable.run(["sync", "--with", url, "--journal", partnership["brussels"].path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("Pulled: received 40, appended 40"))
        #expect(result.output.contains("Pushed: received 25, appended 25"))
        server.terminate()  // SIGTERM: graceful shutdown
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        #expect(try partnership.digest("astana") == partnership.digest("brussels"))
        #expect(try partnership.ids("astana").count == 65)
    }
}

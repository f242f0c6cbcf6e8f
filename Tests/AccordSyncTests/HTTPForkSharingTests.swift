import AccordModel
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Over HTTP, the side that detects a fork tells the other in the same exchange (SyncProtocol.md
/// §6): a client that finds one in what it pulled posts the proof to `/v1/forks`; a server that
/// finds one in a push sends the proof back in its 409.
@Suite("Fork proofs shared over HTTP")
struct HTTPForkSharingTests {
    @Test func aForkFoundInAPullIsToldToTheServerInTheSameExchange() throws {
        let forked = try ForkedSite()
        let partnership = forked.partnership
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])  // Astana's branch
        _ = try DirectorySync.sync(partnership["windhoek"], with: forked.twin)            // the twin's, longer
        let (server, url) = try AccordExecutable.serve(journal: partnership["windhoek"].path, scratch: partnership.temp.path)
        defer { server.terminate(); server.waitUntilExit() }
        let sync = try AccordExecutable.run(["sync", "--with", url, "--journal", partnership["brussels"].path])
        #expect(sync.status == 3, "\(sync.stderr)")  // a fork: exit 3
        let pulled = try ForkQuarantine.entries(of: partnership["brussels"]).compactMap(\.proof)
        let told = try ForkQuarantine.entries(of: partnership["windhoek"]).compactMap(\.proof)
        #expect(pulled.count == 1)
        #expect(told.map(\.id) == pulled.map(\.id), "the server holds \(told.map(\.id))")
    }

    @Test func aForkFoundInAPushComesBackWithTheRefusal() throws {
        let forked = try ForkedSite()
        let partnership = forked.partnership
        _ = try DirectorySync.sync(partnership["windhoek"], with: forked.twin)            // the twin's, longer
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])  // Astana's branch
        // Windhoek pulls nothing of Astana's feed (it holds more of it) and pushes its branch.
        let (server, url) = try AccordExecutable.serve(journal: partnership["brussels"].path, scratch: partnership.temp.path)
        defer { server.terminate(); server.waitUntilExit() }
        let sync = try AccordExecutable.run(["sync", "--with", url, "--journal", partnership["windhoek"].path])
        #expect(sync.status == 3, "\(sync.stderr)")
        let atServer = try ForkQuarantine.entries(of: partnership["brussels"]).compactMap(\.proof)
        let atClient = try ForkQuarantine.entries(of: partnership["windhoek"]).compactMap(\.proof)
        #expect(atServer.count == 1)
        #expect(atClient.map(\.id) == atServer.map(\.id), "the pushing office holds \(atClient.map(\.id))")
    }

    @Test func proofsThatDoNotCheckAreNeverKept() throws {
        let forked = try ForkedSite()
        let partnership = forked.partnership
        _ = try DirectorySync.sync(partnership["brussels"], with: partnership["astana"])
        let session = try SyncSession(journal: partnership["brussels"])
        let summary = try session.apply(try forked.twin.records(lacking: VersionVector()))
        session.close()
        var bytes = try #require(summary.proofs.first).encoded()
        bytes[bytes.count / 2] ^= 0x01
        let body = try CanonicalJSON.encode(.object(JSONObject([("proofs", .array([.string(Base64.encode(bytes))]))])))
        let proofs = try ForkProof.fromWire(body, keys: partnership["windhoek"].trustedKeys())
        #expect(proofs.isEmpty)
        let tooMany = try CanonicalJSON.encode(.object(JSONObject([("proofs", .array(Array(repeating: .string("AA=="), count: ForkProof.maxPerExchange + 1)))])))
        #expect(throws: AccordError.self) { try ForkProof.fromWire(tooMany, keys: [:]) }
    }
}

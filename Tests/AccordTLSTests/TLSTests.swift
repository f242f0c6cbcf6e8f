import AccordModel
import AccordStore
import AccordSync
import AccordTLS
import AccordTesting
import AsyncHTTPClient
import Foundation
import Testing
import X509

/// Mutual TLS pinned to the site keys (SyncProtocol.md §4.4), against `accord serve --tls` on
/// 127.0.0.1 through AsyncHTTPClient.
@Suite struct TLSTests {
    /// Runs `body` with a sync client of `journal`, shut down afterwards.
    func withClient<T>(_ journal: EventJournal, expecting expected: SitePublicKey?, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = try syncClient(for: journal, expecting: expected)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func certificateIsTheSameBytesEachTimeAndCarriesTheSiteKeyAndNames() throws {
        let key = try SiteKey(seed: Fixtures.seed("brussels"))
        let site = try SiteID("brussels")
        let first = try SiteTLS.identity(key: key, site: site, partnership: "eu-kz-2022")
        let second = try SiteTLS.identity(key: key, site: site, partnership: "eu-kz-2022")
        #expect(first.certificateDER == second.certificateDER)
        let certificate = try Certificate(derEncoded: first.certificateDER)
        #expect(Array(certificate.publicKey.subjectPublicKeyInfoBytes) == (try SiteTLS.subjectPublicKeyInfo(of: key.publicKey)))
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.subject.description == "CN=brussels,O=eu-kz-2022")
        #expect(certificate.signatureAlgorithm == .ed25519)
        #expect(certificate.notValidAfter == SiteTLS.validUntil)
        #expect(SiteTLS.certificate(first.certificate, carries: key.publicKey))
        #expect(!SiteTLS.certificate(first.certificate, carries: try SiteKey(seed: Fixtures.seed("astana")).publicKey))
        // Another partnership is another certificate for the same key.
        #expect(try SiteTLS.identity(key: key, site: site, partnership: "eu-kz-2030").certificateDER != first.certificateDER)
    }

    @Test func aCertificateForTheCommittedNextKeyIsAcceptedAndNoOtherNewKey() throws {
        // Brussels rotated; the verifying office holds its commitment, not yet the rotation.
        let anchor = try SiteKey(seed: Fixtures.seed("brussels")), next = try SiteKey(seed: Fixtures.seed("brussels-next"))
        let site = try SiteID("brussels")
        let rotated = try SiteTLS.identity(key: next, site: site, partnership: "eu-kz-2022").certificate
        let stranger = try SiteTLS.identity(key: SiteKey(), site: site, partnership: "eu-kz-2022").certificate
        let committed = [site: KeyHistory.digest(of: next.publicKey)]
        #expect(SiteTLS.verifyClient([rotated], trusted: { [site: anchor.publicKey] }, committed: { committed }) == .certificateVerified)
        #expect(SiteTLS.verifyClient([rotated], trusted: { [site: anchor.publicKey] }) == .failed)
        #expect(SiteTLS.verifyClient([stranger], trusted: { [site: anchor.publicKey] }, committed: { committed }) == .failed)
        #expect(SiteTLS.certificate(rotated, carriesKeyWithDigestIn: Set(committed.values)))
        #expect(!SiteTLS.certificate(stranger, carriesKeyWithDigestIn: Set(committed.values)))
    }

    @Test func handshakeSucceedsWhenEachSideTrustsTheOthersKey() async throws {
        let sites = try TLSSites()
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        #expect(url.hasPrefix("https://127.0.0.1:"))
        let answer = try await withClient(sites["brussels"], expecting: try sites.key("astana")) { client in
            try await signedRequest(client, url, "GET", "/v1/vector", signer: sites["brussels"])
        }
        #expect(answer.status == 200)
        #expect(answer.body.contains(text: #""site":"astana""#))
    }

    @Test func serverRefusesAClientWhoseCertificateIsForAKeyItDoesNotTrust() async throws {
        let sites = try TLSSites()
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        // lusaka pins astana's real key, so the client's own check passes: only the server refuses.
        let refusal: (any Error)?
        do {
            let status = try await withClient(sites["lusaka"], expecting: try sites.key("astana")) { client in
                try await signedRequest(client, url, "GET", "/v1/vector", signer: sites["lusaka"]).status
            }
            Issue.record("the server answered a client with an untrusted certificate: \(status)")
            return
        } catch {
            refusal = error
        }
        let error = try #require(refusal)
        #expect(!(error is AccordError), "the refusal must come from the server's handshake, not the client: \(error)")
        // The server still serves trusted peers afterwards.
        let status = try await withClient(sites["brussels"], expecting: try sites.key("astana")) { client in
            try await signedRequest(client, url, "GET", "/v1/vector", signer: sites["brussels"]).status
        }
        #expect(status == 200)
    }

    @Test func clientRefusesAServerWhoseCertificateIsForAnotherKey() async throws {
        let sites = try TLSSites()
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        // brussels believes almaty is at this address: astana's certificate must be refused, by
        // the client's own check (an AccordError), before the request is handed a connection.
        await #expect(throws: AccordError.self) {
            try await withClient(sites["brussels"], expecting: try sites.key("almaty")) { client in
                try await signedRequest(client, url, "GET", "/v1/vector", signer: sites["brussels"]).status
            }
        }
    }

    @Test func requestSignedAsAnotherTrustedSiteOverAPeersTLSConnectionIsRefused() async throws {
        let sites = try TLSSites()
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        // brussels's connection, almaty's signature: both trusted by astana, but not one site.
        let answer = try await withClient(sites["brussels"], expecting: try sites.key("astana")) { client in
            try await signedRequest(client, url, "GET", "/v1/vector", signer: sites["almaty"])
        }
        #expect(answer.status == 403)
        #expect(!answer.body.contains(text: "almaty"))
    }

    @Test func relayOnThePathReadsNoAmountOrNameOverTLSButDoesOverPlainHTTP() async throws {
        let secrets = ["1234567.89", "Aigerim Nurlanovna", "brussels", "astana"]
        var seen: [Bool: [String]] = [:]
        for tls in [false, true] {
            let sites = try TLSSites()
            let writer = try sites["brussels"].openWriter()
            _ = try writer.append([
                Fixtures.draft("stakeholder.registered.v1", "stakeholder/an", #"{"name":"Aigerim Nurlanovna","kind":"financial","country":"KZ"}"#),
                Fixtures.draft("finance.committed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz","amount":"1234567.89","currency":"EUR","date":"2024-01-01"}"#),
            ], now: Fixtures.time(60))
            writer.close()
            let (server, url) = try sites.serve("astana", tls: tls)
            defer { server.terminate(); server.waitUntilExit() }
            let relay = try await RecordingRelay(to: URLComponents(string: url)!.port!)
            let bundle = try Bundle.make(from: sites["brussels"]).encoded()
            let status = try await withClient(sites["brussels"], expecting: tls ? try sites.key("astana") : nil) { client in
                try await signedRequest(client, "\(tls ? "https" : "http")://127.0.0.1:\(relay.port)", "POST", "/v1/push", body: bundle, signer: sites["brussels"], to: "astana").status
            }
            await relay.close()
            #expect(status == 200)
            let readable = RecordingRelay.readable(relay.upstream.withLockedValue { $0 }) + RecordingRelay.readable(relay.downstream.withLockedValue { $0 })
            seen[tls] = secrets.filter { readable.contains(text: $0) }
        }
        #expect(seen[false] == secrets, "plain HTTP must show the observer everything, else this test shows nothing")
        #expect(seen[true] == [])
    }

    @Test func plainSyncToAnotherMachineWarnsOnceAndPlainSyncOverLoopbackDoesNot() throws {
        let sites = try TLSSites()
        // Nothing listens on port 1: both syncs fail at once; only the warning matters here.
        let remote = try AccordExecutable.run(["sync", "--with", "http://0.0.0.0:1", "--journal", sites["brussels"].path])
        #expect(remote.status != 0)
        #expect(remote.stderr.components(separatedBy: "Warning: http://0.0.0.0:1 is plain HTTP to another machine").count == 2, "\(remote.stderr)")
        let local = try AccordExecutable.run(["sync", "--with", "http://127.0.0.1:1", "--journal", sites["brussels"].path])
        #expect(local.status != 0)
        #expect(!local.stderr.contains("Warning"), "\(local.stderr)")
    }

    @Test func accordSyncOverHTTPSMergesBothWaysAndEndsWithOneDigest() throws {
        let sites = try TLSSites()
        for (site, name) in [("brussels", "European Investment Bank"), ("astana", "Samruk-Kazyna")] {
            let writer = try sites[site].openWriter()
            _ = try writer.append([Fixtures.draft("stakeholder.registered.v1", "stakeholder/\(site)-org", #"{"name":"\#(name)","kind":"financial","country":"KZ"}"#)], now: Fixtures.time(60))
            writer.close()
        }
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        #expect(url.hasPrefix("https://"))
        let sync = try AccordExecutable.run(["sync", "--with", url, "--journal", sites["brussels"].path])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(!sync.stderr.contains("Warning"), "\(sync.stderr)")
        let digests = try ["brussels", "astana"].map { site in
            try AccordExecutable.run(["state", "--digest", "--journal", sites[site].path]).stdout
        }
        #expect(digests[0] == digests[1] && !digests[0].isEmpty)
    }

    @Test func accordSyncOverHTTPSRefusesAServerWhoseKeyIsNotThePeerRecordedAtThatURL() throws {
        let sites = try TLSSites()
        let (server, url) = try sites.serve("astana", tls: true)
        defer { server.terminate(); server.waitUntilExit() }
        // Brussels records almaty (another trusted key) at astana's URL: the pin is almaty's key.
        let almaty = try sites.key("almaty")
        let add = try AccordExecutable.run(["peer", "add", "almaty", "--key", almaty.base64, "--url", url, "--journal", sites["brussels"].path])
        #expect(add.status == 0, "\(add.stderr)")
        let before = try FileDamage.snapshot(of: sites["brussels"].path + "/segments")
        let sync = try AccordExecutable.run(["sync", "--with", url, "--journal", sites["brussels"].path])
        #expect(sync.status == 5, "\(sync.stderr)")
        #expect(sync.stderr.contains("TLS certificate is not for the key"), "\(sync.stderr)")
        #expect(try FileDamage.snapshot(of: sites["brussels"].path + "/segments") == before)
    }

    @Test func loopbackHostsAreThoseOfThisMachineOnly() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"] { #expect(SiteTLS.isLoopback(host: host), "\(host)") }
        for host in ["10.0.0.1", "128.0.0.1", "127.0.0", "127.0.0.1.example.org", "example.org", "::2", ""] { #expect(!SiteTLS.isLoopback(host: host), "\(host)") }
    }
}


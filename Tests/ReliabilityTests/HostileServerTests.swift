import AccordModel
import AccordReliability
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Regression tests for issue 13: the client (URLSession) buffered whole answers before it
/// checked the server's signature, decoded `Content-Encoding: gzip` and followed redirects, so
/// a hostile server answering `GET /v1/vector` with 1.5 GiB, or with a small gzip of 2 GiB of
/// zeros, drove `accord sync` to 3.1–4.1 GiB. Each test runs `accord sync` (a child process)
/// against a hostile server in this process and counts the body bytes the client accepted.
@Suite("accord sync against a hostile server: refused from the head, memory bounded")
struct HostileServerTests {
    /// Body bytes a client that refuses from the head may still have accepted: what the
    /// kernel's socket buffers take on loopback (a few MiB), far below any answer tested.
    static let socketSlack = 32 << 20
    static let huge = 3 << 29  // 1.5 GiB

    /// An office that trusts `hub`, whose key the hostile server holds.
    final class World: @unchecked Sendable {
        let temp = TemporaryDirectory("hostile")
        let office: String
        let hub: EventJournal

        init() throws {
            for site in ["hub", "office"] {
                let made = try AccordExecutable.run(["init", "--site", site, "--journal", temp.child(site)])
                #expect(made.status == 0, "\(made.stderr)")
            }
            try Data(contentsOf: URL(fileURLWithPath: temp.child("hub") + "/keys/hub.pub")).write(to: URL(fileURLWithPath: temp.child("office") + "/keys/hub.pub"))
            office = temp.child("office")
            hub = try EventJournal(opening: temp.child("hub"))
        }

        /// The head of a response signed by `hub` for `request`, announcing `length` bytes whose
        /// SHA-256 is `hash`, with `extra` header lines.
        func signedHead(_ request: HostileServer.Request, status: Int = 200, length: Int, hash: String, extra: [String] = []) -> String {
            let text = RequestSigning.responseText(status: status, method: request.method, path: request.path, nonce: request.headers["accord-nonce"] ?? "", site: "hub", length: length, contentHash: hash)
            let signature = (try? hub.signingKey().sign(text)).map(Base64.encode) ?? ""
            return (["HTTP/1.1 \(status) OK", "Content-Length: \(length)", "Accord-Site: hub", "Accord-Content-SHA256: \(hash)", "Accord-Signature: \(signature)"] + extra).joined(separator: "\r\n")
        }

        func sync(_ server: HostileServer) throws -> AccordExecutable.Result {
            try AccordExecutable.run(["sync", "--with", "http://127.0.0.1:\(server.port)", "--journal", office])
        }
    }

    @Test func anUnsignedAnswerOf1_5GiBIsRefusedFromItsHead() throws {
        let world = try World()
        let server = try #require(HostileServer { _ in .init(head: "HTTP/1.1 200 OK\r\nContent-Length: \(Self.huge)", bodyBytes: Self.huge) })
        let result = try world.sync(server)
        #expect(result.status == 5)
        #expect(result.stderr.contains("did not identify itself as a site this journal trusts"), "\(result.stderr)")
        #expect(server.bytesSent < Self.socketSlack, "the client accepted \(server.bytesSent) bytes")
    }

    @Test func aSignedAnswerOverTheClientsLimitIsRefusedFromItsHead() throws {
        let world = try World()
        let server = try #require(HostileServer { request in
            .init(head: world.signedHead(request, length: Self.huge, hash: String(repeating: "0", count: 64)), bodyBytes: Self.huge)
        })
        let result = try world.sync(server)
        #expect(result.status == 5)
        #expect(result.stderr.contains("more than this client's limit of \(HTTPSync.maxResponseBytes) bytes"), "\(result.stderr)")
        #expect(server.bytesSent < Self.socketSlack, "the client accepted \(server.bytesSent) bytes")
    }

    @Test func aGzipBombIsRefusedFromItsContentEncodingAndNotDecoded() throws {
        let world = try World()
        // 256 MiB of zeros, gzipped (about 256 KiB), signed by a trusted key as it is sent.
        let bomb = world.temp.child("bomb.gz")
        let made = try ChildProcess.run("/bin/sh", ["-c", "head -c 268435456 /dev/zero | gzip -1 > '\(bomb)'"], scratch: world.temp.path)
        #expect(made.status == 0)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bomb)))
        let server = try #require(HostileServer { request in
            .init(head: world.signedHead(request, length: bytes.count, hash: Digest.sha256Hex(bytes), extra: ["Content-Encoding: gzip", "Content-Type: application/json"]), body: bytes)
        })
        let result = try world.sync(server)
        #expect(result.status == 5)
        #expect(result.stderr.contains("Content-Encoding 'gzip'"), "\(result.stderr)")
        #expect(server.requests == 1)
    }

    @Test func aRedirectIsNotFollowed() throws {
        let world = try World()
        let target = try #require(HostileServer { request in .init(head: world.signedHead(request, length: 0, hash: Digest.sha256Hex([]))) })
        let server = try #require(HostileServer { _ in
            .init(head: "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:\(target.port)/v1/vector\r\nContent-Length: 0")
        })
        let result = try world.sync(server)
        #expect(result.status == 5)
        #expect(result.stderr.contains("with a redirect (307)"), "\(result.stderr)")
        #expect(target.requests == 0)
    }

    @Test func aSignedAnswerThatSendsMoreThanItAnnouncedIsCutOff() throws {
        let world = try World()
        // The head announces 10 bytes; the server streams 1.5 GiB on the same connection.
        let server = try #require(HostileServer { request in
            .init(head: world.signedHead(request, length: 10, hash: Digest.sha256Hex([UInt8](repeating: 0, count: 10))), bodyBytes: Self.huge)
        })
        let result = try world.sync(server)
        #expect(result.status != 0)
        #expect(server.bytesSent < Self.socketSlack, "the client accepted \(server.bytesSent) bytes")
    }
}

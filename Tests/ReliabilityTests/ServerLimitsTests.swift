import AccordModel
import AccordReliability
import AccordStore
import AccordSync
import AccordTesting
import Foundation
import Testing

/// Regression tests for what accord-abuse found: slow-drip connections were held forever, and
/// request bodies were buffered before an unsigned or oversized request was refused.
@Suite("accord serve: slow, idle, unsigned and oversized clients cannot hold it")
struct ServerLimitsTests {
    final class Server {
        let temp = TemporaryDirectory("limits")
        let process: ChildProcess
        let port: Int
        let office: EventJournal

        init() throws {
            for site in ["hub", "office"] {
                let made = try ChildProcess.run(AccordExecutable.path, ["init", "--site", site, "--journal", temp.child(site)], scratch: temp.path)
                #expect(made.status == 0)
            }
            for (from, to) in [("hub", "office"), ("office", "hub")] {
                try Data(contentsOf: URL(fileURLWithPath: temp.child(from) + "/keys/\(from).pub")).write(to: URL(fileURLWithPath: temp.child(to) + "/keys/\(from).pub"))
            }
            office = try EventJournal(opening: temp.child("office"))
            let out = temp.child("serve.out")
            process = try ChildProcess(AccordExecutable.path, ["serve", "--listen", "127.0.0.1:0", "--journal", temp.child("hub"), "--max-body", "1000", "--idle-timeout", "1", "--request-timeout", "2"], stdout: out)
            var found = 0
            for _ in 0..<400 where found == 0 {
                usleep(50_000)
                let text = readText(out)
                if let range = text.range(of: "http://127.0.0.1:") { found = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0 }
            }
            guard found > 0 else {
                process.kill(SIGTERM)
                process.wait()
                Issue.record("accord serve printed no port within 20 s; it printed: \(readText(out).debugDescription)")
                throw CancellationError()
            }
            port = found
        }

        deinit {
            process.kill(SIGTERM)
            process.wait()
        }
    }

    /// Seconds until the server closes `connection` (or answers), at most `limit`.
    private func secondsUntilClosed(_ connection: RawConnection, limit: Double, drip: [UInt8] = []) -> Double {
        let start = Clock.now
        var index = 0
        while Clock.now - start < limit {
            if connection.serverClosedOrAnswered() { return Clock.now - start }
            if index < drip.count {
                connection.send([drip[index]])
                index += 1
            }
            usleep(200_000)
        }
        return limit
    }

    @Test func aConnectionThatTricklesItsHeadersIsClosedAfterTheIdleTimeout() throws {
        let server = try Server()
        let connection = try #require(RawConnection(port: server.port))
        let headers = Array("POST /v1/pull HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "z", count: 500))\r\n\r\n".utf8)
        let held = secondsUntilClosed(connection, limit: 15, drip: headers)
        #expect(held < 6, "held \(held) s with a 1 s idle timeout")
    }

    @Test func aSignedBodyThatTricklesGets408AfterTheRequestTimeout() throws {
        let server = try Server()
        let body = [UInt8](repeating: 0x7b, count: 900)
        let request = httpRequest("POST", "/v1/push", headers: try RequestSigning.headers(for: server.office, method: "POST", path: "/v1/push", body: body), body: body)
        let headEnd = request.count - body.count
        let connection = try #require(RawConnection(port: server.port))
        #expect(connection.send(Array(request[0..<headEnd])))
        let held = secondsUntilClosed(connection, limit: 15, drip: body)
        #expect(held < 6, "held \(held) s with a 2 s request timeout")
        #expect(connection.readResponse()?.status == 408)
    }

    @Test func unsignedAndOversizedRequestsAreAnsweredBeforeTheirBodyIsSent() throws {
        let server = try Server()
        for (headers, length, expected) in [([String: String](), 900, 401), (try RequestSigning.headers(for: server.office, method: "POST", path: "/v1/push", body: []), 10_000_000_000, 413)] {
            let connection = try #require(RawConnection(port: server.port, timeout: 5))
            #expect(connection.send(httpRequest("POST", "/v1/push", headers: headers, contentLength: length)))
            let answer = connection.readResponse()
            #expect(answer?.status == expected)
            #expect(answer?.headers["connection"] == "close")
        }
        // The server still serves a valid request.
        let vector = httpRequest("GET", "/v1/vector", headers: try RequestSigning.headers(for: server.office, method: "GET", path: "/v1/vector", body: []))
        #expect(RawConnection.exchange(port: server.port, vector)?.status == 200)
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation
import FoundationNetworking

/// Sync over HTTP with a peer's `accord serve` (SyncProtocol.md §4.3): read its vector, pull
/// what we lack (a bundle, verified and merged like any other), push what it lacks.
public enum HTTPSync {
    /// Pushes are sent as bundles of about this many bytes (servers accept 64 MiB by default).
    public static let pushBytes = 8 << 20

    /// Syncs `journal` with the server at `url`, both ways.
    /// - Parameters:
    ///   - timeout: how long each request may take, in seconds.
    ///   - options: the local writer's options (how long to wait for another writer's lock).
    /// - Returns: what the pull and the push did.
    /// - Throws: ``SyncError`` for a refused request (the code its status stands for, with the
    ///   server's reason), ``SyncError/Code/noAnswer``, ``SyncError/Code/notAnAccordServer`` or
    ///   ``SyncError/Code/untrustedServer``;
    ///   ``AccordError`` for what the pulled bundle holds (see ``Bundle/verify(against:)``).
    public static func sync(_ journal: EventJournal, with url: PeerURL, timeout: TimeInterval = 60, options: SegmentWriter.Options = SegmentWriter.Options()) throws -> DirectorySync.Result {
        let client = Client(journal: journal, url: url, timeout: timeout)
        let info = try client.call("GET", "/v1/vector", body: [])
        guard case .object(let object)? = try? JSONParser.parse(info), let partnership = object["partnership"]?.stringValue,
              let siteText = object["site"]?.stringValue, let vectorValue = object["vector"] else {
            throw SyncError(.notAnAccordServer, "\(url.text) did not answer like an Accord server.")
        }
        guard partnership == journal.partnership else {
            throw AccordError(.badInput, "\(url.text) records partnership '\(partnership)', this journal '\(journal.partnership)'; they never exchange events.")
        }
        let remoteVector = try VersionVector(json: vectorValue)
        // Pull.
        let session = try SyncSession(journal: journal, options: options)
        let request = try CanonicalJSON.encode(.object(JSONObject([("vector", session.vector.json())])))
        session.close()
        let bundleBytes = try client.call("POST", "/v1/pull", body: request)
        let bundle = try Bundle.parse(bytes: bundleBytes)
        _ = try bundle.verify(against: journal)
        let here = try SyncSession(journal: journal, options: options)
        let pulled = try here.apply(bundle.records)
        try here.releaseRestoreHold()
        here.close()
        // Push.
        var pushed = SyncSummary()
        let outgoing = try Bundle.make(from: journal, beyond: remoteVector)
        for part in try outgoing.split(maxBytes: pushBytes) where !part.records.isEmpty {
            let answer = try client.call("POST", "/v1/push", body: try part.encoded())
            if case .object(let summary)? = try? JSONParser.parse(answer) {
                func number(_ key: String) -> Int { if case .number(let n)? = summary[key] { return Int(n) ?? 0 }; return 0 }
                pushed.received += number("received")
                pushed.appended += number("appended")
                pushed.alreadyKnown += number("alreadyKnown")
                pushed.pending = number("pending")
            }
        }
        var have = remoteVector
        for (site, span) in outgoing.brings { have.entries[site] = .init(seq: span.last, id: span.lastID) }
        try PeerStore(journal: journal).noteExchange(with: siteText, have: have)
        return DirectorySync.Result(pulled: pulled, pushed: pushed)
    }

    /// A minimal blocking client over URLSession.
    struct Client {
        let journal: EventJournal
        let url: PeerURL
        let timeout: TimeInterval

        func call(_ method: String, _ path: String, body: [UInt8]) throws -> [UInt8] {
            var request = URLRequest(url: URL(string: url.text + path)!, timeoutInterval: timeout)
            request.httpMethod = method
            let signed = try RequestSigning.headers(for: journal, method: method, path: path, body: body)
            for (name, value) in signed { request.setValue(value, forHTTPHeaderField: name) }
            if method == "POST" {
                request.httpBody = Data(body)
                request.setValue(path == "/v1/push" ? "application/vnd.accord.bundle" : "application/json", forHTTPHeaderField: "Content-Type")
            }
            let box = ResultBox()
            let semaphore = DispatchSemaphore(value: 0)
            let task = URLSession.shared.dataTask(with: request) { data, response, error in
                let http = response as? HTTPURLResponse
                var headers: [String: String] = [:]
                for (name, value) in http?.allHeaderFields ?? [:] { headers["\(name)"] = "\(value)" }
                box.set(data: data, status: http?.statusCode, headers: headers, error: error)
                semaphore.signal()
            }
            task.resume()
            semaphore.wait()
            let (data, status, headers, error) = box.get()
            guard let status else {
                throw SyncError(.noAnswer, "No answer from \(url.text)\(path): \(error.map { "\($0.localizedDescription)" } ?? "unknown error").")
            }
            let bytes = Array(data ?? Data())
            // The server must be a trusted site and sign its answer (SyncProtocol.md §4.3.1).
            do {
                _ = try RequestSigning.verifyResponse(headers: headers, status: status, path: path, requestTime: signed[RequestSigning.timeHeader] ?? "", body: bytes, trusted: try journal.trustedKeys())
            } catch let refusal as SyncError {
                throw SyncError(refusal.code, "\(url.text): \(refusal.message)", httpStatus: status)
            }
            guard status == 200 else {
                var reason = "status \(status)"
                if case .object(let object)? = try? JSONParser.parse(bytes), let text = object["error"]?.stringValue { reason = text }
                throw SyncError(SyncError.Code(httpStatus: status), "\(url.text) refused \(method) \(path) (\(status)): \(reason)", httpStatus: status)
            }
            return bytes
        }
    }

    final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        private var status: Int?
        private var headers: [String: String] = [:]
        private var error: (any Error)?
        func set(data: Data?, status: Int?, headers: [String: String], error: (any Error)?) {
            lock.lock()
            defer { lock.unlock() }
            self.data = data
            self.status = status
            self.headers = headers
            self.error = error
        }
        func get() -> (Data?, Int?, [String: String], (any Error)?) {
            lock.lock()
            defer { lock.unlock() }
            return (data, status, headers, error)
        }
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// The HTTP exchange of one request, as the sync client needs it; `AccordServer.SyncClient`
/// implements it with AsyncHTTPClient. AccordSync itself has no HTTP library (and no NIO): it
/// signs requests and checks answers, the transport only moves bytes.
public protocol HTTPSyncTransport: Sendable {
    /// Sends `request` and streams its answer into `answer`: first ``HTTPSync/Answer/head(status:headers:)``
    /// (before any byte of the body is read), then the body through
    /// ``HTTPSync/Answer/append(_:)`` as it arrives. Whatever those throw must end the exchange
    /// (close the connection, read nothing more) and be rethrown unchanged.
    /// - Throws: what `answer` throws; ``SyncError`` ``SyncError/Code/noAnswer`` when no
    ///   answer came (no connection, a timeout, a connection closed early).
    func send(_ request: HTTPSync.Outgoing, into answer: HTTPSync.Answer) async throws
}

/// Sync over HTTP with a peer's `accord serve` (SyncProtocol.md §4.3): read its vector, pull
/// what we lack (a bundle, verified and merged like any other), push what it lacks.
public enum HTTPSync {
    /// Pushes are sent as bundles of about this many bytes (servers accept 64 MiB by default).
    public static let pushBytes = 8 << 20
    /// The largest answer body the client reads, in bytes (SyncProtocol.md §4.3.1): an answer
    /// that announces more is refused from its head, and one that sends more than it announced
    /// is cut off before more is buffered. 1 GiB, the bound of a bundle file (§9).
    public static let maxResponseBytes = 1 << 30
    /// How long each request may take, in seconds.
    public static let timeout: Double = 60

    /// One request to send, signed.
    public struct Outgoing: Sendable {
        /// `GET` or `POST`.
        public var method: String
        /// `http://HOST:PORT` followed by ``path``.
        public var url: String
        /// The request's path, e.g. `/v1/pull`.
        public var path: String
        /// The signing headers and `Content-Type`, by name.
        public var headers: [String: String]
        /// The body (empty for `GET`); sent with `Content-Length`, never chunked.
        public var body: [UInt8]
        /// How long the whole exchange may take, in seconds.
        public var timeout: Double
    }

    /// An answer as it is received, checked before it is believed (SyncProtocol.md §4.3.1): its
    /// head must be a signed answer to this very request, announce its length, not be a
    /// redirect nor content-encoded; its body is counted and hashed as it arrives, never beyond
    /// the announced length nor the client's limit.
    public final class Answer: @unchecked Sendable {
        let url: String
        let method: String
        let path: String
        let nonce: String
        let trusted: [SiteID: SitePublicKey]
        /// The committed next keys' digests (Trust.md "Transport").
        let committed: [SiteID: String]
        let limit: Int
        private var expected = 0
        private var contentHash = ""
        private var hasher = Digest.SHA256Stream()
        /// The status of the answer, once its head was checked.
        public private(set) var status = 0
        /// The answering site, once its head was checked.
        public private(set) var site: SiteID?
        /// The bytes of the body received so far.
        public private(set) var bytes: [UInt8] = []

        init(url: String, method: String, path: String, nonce: String, trusted: [SiteID: SitePublicKey], committed: [SiteID: String] = [:], limit: Int) {
            self.committed = committed
            self.url = url
            self.method = method
            self.path = path
            self.nonce = nonce
            self.trusted = trusted
            self.limit = limit
        }

        /// Checks the answer's head before any of its body is read, in this order: not a
        /// redirect, no `Content-Encoding`, a `Content-Length`, the server's signature over the
        /// status, this request's method, path and nonce, and the body's length and SHA-256; and
        /// that length within the limit.
        /// - Parameter headers: the headers as received (names compared without regard to case;
        ///   a repeated header's values joined by `,`).
        /// - Throws: ``SyncError``: ``SyncError/Code/notAnAccordServer`` for a redirect, an
        ///   encoded body or no `Content-Length`; ``SyncError/Code/answerTooLarge``;
        ///   ``SyncError/Code/untrustedServer``.
        public func head(status: Int, headers: [String: String]) throws {
            if (300..<400).contains(status) {
                throw SyncError(.notAnAccordServer, "\(url) answered \(method) \(path) with a redirect (\(status)); accord does not follow redirects. Use the address of the peer's 'accord serve' itself.")
            }
            if let encoding = RequestSigning.header(headers, "Content-Encoding"), !encoding.isEmpty, encoding.lowercased() != "identity" {
                throw SyncError(.notAnAccordServer, "\(url) answered \(method) \(path) with Content-Encoding '\(encoding.prefix(32))'; accord reads only unencoded answers and decodes nothing. Nothing of the body was read.")
            }
            guard let lengthText = RequestSigning.header(headers, "Content-Length"), let length = Int(lengthText), length >= 0 else {
                throw SyncError(.notAnAccordServer, "\(url) answered \(method) \(path) without a Content-Length; an Accord server announces and signs the length of every answer.")
            }
            let site: SiteID
            do {
                (site, contentHash) = try RequestSigning.verifyResponseHead(headers: headers, status: status, length: length, method: method, path: path, nonce: nonce, trusted: trusted, committed: committed)
            } catch let refusal as SyncError {
                throw SyncError(refusal.code, "\(url): \(refusal.message)", httpStatus: status)
            }
            guard length <= limit else {
                throw SyncError(.answerTooLarge, "\(url) announced an answer of \(length) bytes to \(method) \(path), more than this client's limit of \(limit) bytes; nothing of it was read.")
            }
            self.site = site
            self.status = status
            expected = length
            bytes.reserveCapacity(min(length, 16 << 20))  // grows with what arrives, not with what is announced
        }

        /// Takes the next bytes of the body, refusing them before they are kept when they
        /// would pass the announced length.
        /// - Throws: ``SyncError`` ``SyncError/Code/answerTooLarge``, or
        ///   ``SyncError/Code/untrustedServer`` when called before ``head(status:headers:)``.
        public func append(_ chunk: UnsafeRawBufferPointer) throws {
            guard site != nil else { throw SyncError(.untrustedServer, "\(url): a body arrived before a checked head.") }
            guard chunk.count <= expected - bytes.count else {
                throw SyncError(.answerTooLarge, "\(url) sent more than the \(expected) bytes it announced for \(method) \(path); the answer was cut off there.")
            }
            hasher.update(chunk)
            bytes.append(contentsOf: chunk)
        }

        /// The whole body, once it matches the signed length and SHA-256.
        func finish() throws -> [UInt8] {
            guard site != nil, bytes.count == expected, hasher.hex() == contentHash else {
                throw SyncError(.untrustedServer, "\(url): the body of the answer to \(method) \(path) is not the one its head signed (\(bytes.count) of \(expected) bytes, or another SHA-256); it was not used.")
            }
            return bytes
        }
    }

    /// Syncs `journal` with the server at `url`, both ways.
    /// - Parameters:
    ///   - transport: what carries the requests (`AccordServer.SyncClient`).
    ///   - timeout: how long each request may take, in seconds.
    ///   - maxResponseBytes: the largest answer body read (``maxResponseBytes``).
    ///   - options: the local writer's options (how long to wait for another writer's lock).
    /// - Returns: what the pull and the push did.
    /// - Throws: ``SyncError`` for a refused request (the code its status stands for, with the
    ///   server's reason), ``SyncError/Code/noAnswer``, ``SyncError/Code/notAnAccordServer``,
    ///   ``SyncError/Code/answerTooLarge`` or ``SyncError/Code/untrustedServer``;
    ///   ``AccordError`` for what the pulled bundle holds (see ``Bundle/verify(against:)``).
    public static func sync(_ journal: EventJournal, with url: PeerURL, transport: some HTTPSyncTransport, timeout: Double = HTTPSync.timeout, maxResponseBytes: Int = HTTPSync.maxResponseBytes, options: SegmentWriter.Options = SegmentWriter.Options()) async throws -> DirectorySync.Result {
        let client = Client(journal: journal, url: url, transport: transport, timeout: timeout, limit: maxResponseBytes)
        let (info, server) = try await client.call("GET", "/v1/vector", body: [], to: RequestSigning.anyDestination)
        guard case .object(let object)? = try? JSONParser.parse(info), let partnership = object["partnership"]?.stringValue,
              let siteText = object["site"]?.stringValue, let vectorValue = object["vector"] else {
            throw SyncError(.notAnAccordServer, "\(url.text) did not answer like an Accord server.")
        }
        guard Array(partnership.utf8) == Array(journal.partnership.utf8) else {
            throw AccordError(.badInput, "\(url.text) records partnership '\(partnership)', this journal '\(journal.partnership)'; they never exchange events.")
        }
        guard Array(siteText.utf8) == Array(server.rawValue.utf8) else {
            throw SyncError(.untrustedServer, "\(url.text) says it is site '\(siteText.prefix(64))' but signs as '\(server)'; nothing more was sent to it.")
        }
        let remoteVector = try VersionVector(json: vectorValue)
        // Pull.
        let session = try SyncSession(journal: journal, options: options)
        let request = try CanonicalJSON.encode(.object(JSONObject([("vector", session.vector.json())])))
        session.close()
        let (bundleBytes, _) = try await client.call("POST", "/v1/pull", body: request, to: server.rawValue)
        let bundle = try Bundle.parse(bytes: bundleBytes, checkingAgainst: journal)
        let events = try bundle.decodedEvents()
        _ = try bundle.verify(against: journal, events: events, gate: false)  // the session runs the gate
        let here = try SyncSession(journal: journal, options: options)
        let pulled = try here.apply(bundle.records, events: events)
        try here.releaseRestoreHold()
        here.close()
        // Forks found in what was pulled: tell the server in the same exchange (SyncProtocol.md §6).
        if !pulled.proofs.isEmpty {
            let body = try CanonicalJSON.encode(.object(JSONObject([("proofs", ForkProof.wireValue(pulled.proofs))])))
            _ = try await client.call("POST", "/v1/forks", body: body, to: server.rawValue)
        }
        // Push.
        var pushed = SyncSummary()
        let outgoing = try Bundle.make(from: journal, beyond: remoteVector)
        for part in try outgoing.split(maxBytes: pushBytes) where !part.records.isEmpty {
            let (answer, _) = try await client.call("POST", "/v1/push", body: try part.encoded(), to: server.rawValue)
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
        try PeerStore(journal: journal).noteExchange(with: server.rawValue, have: have)
        return DirectorySync.Result(pulled: pulled, pushed: pushed)
    }

    /// Signs each request, hands it to the transport, and reads back a checked answer.
    struct Client<Transport: HTTPSyncTransport> {
        let journal: EventJournal
        let url: PeerURL
        let transport: Transport
        let timeout: Double
        let limit: Int

        func call(_ method: String, _ path: String, body: [UInt8], to destination: String) async throws -> ([UInt8], SiteID) {
            var headers = try RequestSigning.headers(for: journal, method: method, path: path, body: body, to: destination)
            if method == "POST" { headers["Content-Type"] = path == "/v1/push" ? "application/vnd.accord.bundle" : "application/json" }
            let keys = try journal.transportKeys()
            let answer = Answer(url: url.text, method: method, path: path, nonce: headers[RequestSigning.nonceHeader] ?? "", trusted: keys.current, committed: keys.committed, limit: limit)
            try await transport.send(Outgoing(method: method, url: url.text + path, path: path, headers: headers, body: body, timeout: timeout), into: answer)
            let bytes = try answer.finish()
            guard let site = answer.site else { throw SyncError(.untrustedServer, "\(url.text): no checked answer.") }
            let status = answer.status
            guard status == 200 else {
                var reason = "status \(status)"
                if case .object(let object)? = try? JSONParser.parse(bytes), let text = object["error"]?.stringValue { reason = text }
                if status == 409, path == "/v1/push" {
                    // The server found a fork in what was pushed: keep its proofs here too, each
                    // checked under this journal's keys (SyncProtocol.md §6).
                    let proofs = (try? ForkProof.fromWire(bytes, keys: journal.trustedKeys())) ?? []
                    _ = try ForkQuarantine.share(proofs, with: journal)
                }
                throw SyncError(SyncError.Code(httpStatus: status), "\(url.text) refused \(method) \(path) (\(status)): \(reason)", httpStatus: status)
            }
            return (bytes, site)
        }
    }
}

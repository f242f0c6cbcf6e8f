import Foundation
import Glibc

/// A TCP connection to 127.0.0.1 over plain POSIX sockets, so that a hostile client controls
/// every byte and its timing (no HTTP library in between).
public final class RawConnection {
    public let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to `127.0.0.1:port`; reads and writes time out after `timeout` seconds.
    /// - Returns: nil when the connection is refused or times out.
    public init?(port: Int, timeout: Double = 10) {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return nil }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socketFD)
            return nil
        }
        fd = socketFD
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the peer closed or the send timed out.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            if sent <= 0 { return false }
            done += sent
        }
        return true
    }

    /// True when the server has closed the connection (or sent something), without blocking.
    public func serverClosedOrAnswered() -> Bool {
        var byte: UInt8 = 0
        let got = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if got == 0 { return true }
        if got > 0 { return true }
        return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    }

    /// An HTTP response as read off the wire.
    public struct Response {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// Reads one HTTP/1.1 response (Content-Length, chunked, or until close).
    /// - Returns: nil when the connection closed or timed out before a whole status line and
    ///   headers arrived.
    public func readResponse(maxBody: Int = 256 << 20) -> Response? {
        guard let headEnd = fill(until: { $0.search([13, 10, 13, 10]) }) else { return nil }
        let head = String(decoding: buffered[..<headEnd.lowerBound], as: UTF8.self)
        buffered.removeFirst(headEnd.upperBound)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters()
        }
        if let lengthText = headers["content-length"], let length = Int(lengthText) {
            guard length <= maxBody, fill(until: { $0.count >= length ? 0..<length : nil }) != nil else { return Response(status: status, headers: headers, body: []) }
            let body = Array(buffered[..<length])
            buffered.removeFirst(length)
            return Response(status: status, headers: headers, body: body)
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while true {
                guard let lineEnd = fill(until: { $0.search([13, 10]) }) else { break }
                let size = Int(String(decoding: buffered[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                buffered.removeFirst(lineEnd.upperBound)
                guard fill(until: { $0.count >= size + 2 ? 0..<(size + 2) : nil }) != nil else { break }
                body += buffered[..<size]
                buffered.removeFirst(size + 2)
                if size == 0 || body.count > maxBody { break }
            }
            return Response(status: status, headers: headers, body: body)
        }
        while readMore() {}
        defer { buffered = [] }
        return Response(status: status, headers: headers, body: buffered)
    }

    private func fill(until found: ([UInt8]) -> Range<Int>?) -> Range<Int>? {
        while true {
            if let range = found(buffered) { return range }
            guard readMore() else { return found(buffered) }
        }
    }

    private func readMore() -> Bool { receiveChunk(fd, into: &buffered) }

    /// Sends one request and reads its answer on a new connection.
    /// - Returns: the status, or nil when no answer came.
    public static func exchange(port: Int, _ request: [UInt8], timeout: Double = 10) -> Response? {
        guard let connection = RawConnection(port: port, timeout: timeout), connection.send(request) else { return nil }
        return connection.readResponse()
    }
}

extension Array where Element == UInt8 {
    func search(_ pattern: [UInt8]) -> Range<Int>? {
        guard count >= pattern.count else { return nil }
        var index = 0
        while index + pattern.count <= count {
            if self[index] == pattern[0], Array(self[index..<(index + pattern.count)]) == pattern { return index..<(index + pattern.count) }
            index += 1
        }
        return nil
    }
}

/// Appends what one `recv` of up to 64 KiB on `fd` returns to `buffered` (retrying on EINTR).
/// - Returns: false when the peer closed, the read timed out or failed.
func receiveChunk(_ fd: Int32, into buffered: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got < 0, errno == EINTR { continue }
        if got <= 0 { return false }
        buffered += chunk[0..<got]
        return true
    }
}

/// An HTTP/1.1 request's bytes: request line, `Host`, the given headers, `Content-Length` when
/// there is a body (unless `contentLength` overrides it), then the body.
public func httpRequest(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [], contentLength: Int? = nil) -> [UInt8] {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
    if let length = contentLength ?? (body.isEmpty && method == "GET" ? nil : body.count) { text += "Content-Length: \(length)\r\n" }
    text += "\r\n"
    return Array(text.utf8) + body
}

/// A hostile HTTP server on 127.0.0.1 over plain POSIX sockets, for testing what a client
/// does with what it is sent: each request (head and announced body) is read, then `answer`
/// decides the response's head and how many body bytes (of `fill`) to stream after it. It counts
/// the requests it received and the body bytes the client accepted (sent before the client
/// closed the connection).
public final class HostileServer: @unchecked Sendable {
    /// A request as received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lower case.
        public var headers: [String: String]
    }

    /// What to send back: the head (status line and headers, without the blank line), then
    /// `bodyBytes` bytes: `body` first, then `fill` repeated.
    public struct Answer: Sendable {
        public var head: String
        public var body: [UInt8]
        public var bodyBytes: Int
        public var fill: UInt8

        public init(head: String, body: [UInt8] = [], bodyBytes: Int? = nil, fill: UInt8 = 0) {
            self.head = head
            self.body = body
            self.bodyBytes = bodyBytes ?? body.count
            self.fill = fill
        }
    }

    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var requestCount = 0
    private var bodyBytesSent = 0
    private var stopped = false

    /// Requests received so far.
    public var requests: Int { lock.withLock { requestCount } }
    /// Body bytes the client accepted so far (written to the socket before it failed).
    public var bytesSent: Int { lock.withLock { bodyBytesSent } }

    /// Listens on a free port of 127.0.0.1 and serves connections one at a time on a thread.
    /// - Returns: nil when it cannot listen.
    public init?(answer: @escaping @Sendable (Request) -> Answer) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            return nil
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve(answer) }
        thread.start()
    }

    /// Stops accepting connections.
    public func stop() {
        // Once only: a second close could close another socket that reused the descriptor.
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private func serve(_ answer: @Sendable (Request) -> Answer) {
        while !lock.withLock({ stopped }) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            var time = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var buffered: [UInt8] = []
            while let request = readRequest(client, &buffered) {
                lock.withLock { requestCount += 1 }
                let reply = answer(request)
                guard sendAll(client, Array((reply.head + "\r\n\r\n").utf8), counted: false) else { break }
                var left = reply.bodyBytes
                if !reply.body.isEmpty {
                    let first = Array(reply.body.prefix(left))
                    guard sendAll(client, first) else { break }
                    left -= first.count
                }
                let chunk = [UInt8](repeating: reply.fill, count: 1 << 16)
                var failed = false
                while left > 0 {
                    let part = Array(chunk.prefix(left))
                    if !sendAll(client, part) {
                        failed = true
                        break
                    }
                    left -= part.count
                }
                if failed { break }
            }
            close(client)
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8], counted: Bool = true) -> Bool {
        var done = 0
        while done < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            if sent <= 0 { return false }
            done += sent
            if counted { lock.withLock { bodyBytesSent += sent } }
        }
        return true
    }

    private func readRequest(_ fd: Int32, _ buffered: inout [UInt8]) -> Request? {
        func more() -> Bool { receiveChunk(fd, into: &buffered) }
        var end = buffered.search([13, 10, 13, 10])
        while end == nil {
            guard more() else { return nil }
            end = buffered.search([13, 10, 13, 10])
        }
        let head = String(decoding: buffered[..<end!.lowerBound], as: UTF8.self)
        buffered.removeFirst(end!.upperBound)
        let lines = head.split(separator: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters()
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffered.count < length {
            guard more() else { return nil }
        }
        buffered.removeFirst(length)
        return Request(method: String(parts[0]), path: String(parts[1]), headers: headers)
    }
}

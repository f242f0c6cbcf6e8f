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

    private func readMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { return false }
            buffered += chunk[0..<got]
            return true
        }
    }

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

/// An HTTP/1.1 request's bytes: request line, `Host`, the given headers, `Content-Length` when
/// there is a body (unless `contentLength` overrides it), then the body.
public func httpRequest(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [], contentLength: Int? = nil) -> [UInt8] {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
    if let length = contentLength ?? (body.isEmpty && method == "GET" ? nil : body.count) { text += "Content-Length: \(length)\r\n" }
    text += "\r\n"
    return Array(text.utf8) + body
}

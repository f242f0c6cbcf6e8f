import Glibc

/// Buffered writing to a file descriptor with `write(2)`; the CLI's only output path.
final class OutputStream: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let limit: Int

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
        buffer.reserveCapacity(limit)
    }

    func write(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { flush() }
    }

    func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let wrote = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if wrote < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { exit(0) }  // the reader has gone (e.g. `accord log | head`)
                    if fd == 1 {
                        let message = "accord: cannot write the output (\(String(cString: strerror(errno)))); it is incomplete.\n"
                        _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
                        exit(ExitStatus.io.rawValue)
                    }
                    return
                }
                done += wrote
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The width human output is fitted to: nil when standard output is not a terminal (a pipe or
/// a file gets every character, so ids can be copied); on a terminal `$COLUMNS`, else the
/// terminal's own width, else 80.
var terminalWidth: Int? {
    guard isatty(1) == 1 else { return nil }
    if let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), columns > 0 { return columns }
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
}

/// Standard output, flushed at 64 KiB and at exit.
let standardOutput = OutputStream(fd: 1, limit: 1 << 16)
/// Standard error, flushed on every write.
let standardError = OutputStream(fd: 2, limit: 1)

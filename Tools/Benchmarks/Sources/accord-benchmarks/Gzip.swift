import BenchZlib
import Glibc

// The gzip'd JSON Lines peer: each batch of lines one gzip member (zlib level 6, gzip's default),
// appended with write + fdatasync; and the replay floor: inflate + line split, nothing else.
final class GzipMemberWriter {
    private var stream = z_stream()
    let level: Int32
    init(level: Int32 = 6) throws {
        self.level = level
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BenchError.failed("deflateInit2 failed")
        }
    }
    deinit { deflateEnd(&stream) }

    /// One complete gzip member of `input`.
    func member(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        deflateReset(&stream)
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var out = [UInt8](repeating: 0, count: bound)
        let produced: Int = try out.withUnsafeMutableBytes { raw in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(bound)
            guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw BenchError.failed("deflate failed") }
            return bound - Int(stream.avail_out)
        }
        out.removeLast(bound - produced)
        return out
    }
}

/// Writes all of `bytes` at the end of `fd` (O_APPEND); then, if asked, fdatasync.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, sync: Bool) throws {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 { if errno == EINTR { continue }; throw BenchError.failed("write: \(errno)") }
        done += n
    }
    if sync, fdatasync(fd) != 0 { throw BenchError.failed("fdatasync: \(errno)") }
}

/// Inflates a file of concatenated gzip members and counts its lines (the replay floor).
/// - Returns: lines and uncompressed bytes.
func inflateAndSplit(_ path: String) throws -> (lines: Int, bytes: Int) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw BenchError.failed("open \(path)") }
    defer { close(fd) }
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw BenchError.failed("inflateInit2") }
    defer { inflateEnd(&stream) }
    let inSize = 1 << 20, outSize = 1 << 20
    let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inSize)
    let output = UnsafeMutablePointer<UInt8>.allocate(capacity: outSize)
    defer { input.deallocate(); output.deallocate() }
    var lines = 0, bytes = 0
    var lineStart = 0  // bytes of the current line carried over (its start is in an earlier chunk)
    var records = 0
    while true {
        let got = read(fd, input, inSize)
        if got < 0 { if errno == EINTR { continue }; throw BenchError.failed("read") }
        if got == 0 { break }
        stream.next_in = input
        stream.avail_in = uInt(got)
        while stream.avail_in > 0 {
            stream.next_out = output
            stream.avail_out = uInt(outSize)
            let status = inflate(&stream, Z_NO_FLUSH)
            guard status == Z_OK || status == Z_STREAM_END else { throw BenchError.failed("inflate \(status)") }
            let produced = outSize - Int(stream.avail_out)
            bytes += produced
            // Split into lines: find each newline (memchr), as a reader handing out records would.
            var position = 0
            while position < produced, let found = memchr(output + position, 0x0a, produced - position) {
                let index = UnsafeMutableRawPointer(output).distance(to: found)
                records &+= index - position + lineStart
                lineStart = 0
                lines += 1
                position = index + 1
            }
            lineStart += produced - position
            if status == Z_STREAM_END { inflateReset(&stream) }
        }
    }
    _ = records
    return (lines, bytes)
}

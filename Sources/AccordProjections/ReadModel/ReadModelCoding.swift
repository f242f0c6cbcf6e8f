import AccordModel
import AccordSegments
import Glibc

/// Why a read-model file was not used (Format.md §9.4): what was wrong and at which byte.
/// Never an error of a command: the state is rebuilt by replay, and a command says so once on
/// standard error.
public struct ReadModelRejection: Error, Sendable, CustomStringConvertible {
    /// What was wrong, one sentence, naming the byte offset where known.
    public var reason: String

    /// A rejection for `reason`.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}

/// Writes the primitive values of a read-model file (Format.md §9.4.2) through a buffer to a file
/// descriptor, hashing every byte written (SHA-256, for the trailer).
///
/// Bytes go out with the ``SegmentIO`` given (the process's crash-point I/O in debug builds, so
/// that tests can kill a writer at a chosen byte); nothing is held beyond the buffer.
public struct ReadModelEncoder {
    private var buffer: [UInt8] = []
    private var hasher = Digest.SHA256Stream()
    private let fd: Int32
    private let path: String
    private let io: any SegmentIO
    /// Where in the file the first byte goes.
    private let base: Int64
    /// Bytes written to the file so far (not counting the buffer).
    public private(set) var written: Int64 = 0
    /// The history file that maps of per-event history append their extents to (layouts 2 and 3,
    /// Format.md §9.4.2); nil for a projection that keeps none.
    public internal(set) var history: HistoryWriter?

    /// Whether the encoder keeps every byte in memory rather than writing a file
    /// (``init(collecting:)``).
    private var collecting = false

    /// Where the state's second part starts (layout 4, Format.md §9.4.2), once the model has
    /// said so with ``beginSecondPart()``; nil for a model whose state is one part.
    public private(set) var secondPart: Int64?

    /// Buffer size: bytes are handed to the file system in writes of at most this size, and the
    /// buffer never holds more (a value longer than what is left is handed on in pieces), so
    /// that a write of a read model holds at most this much per file it writes.
    public static let bufferBytes = 1 << 18

    /// An encoder writing to `fd` (the file at `path`, named in errors) through `io`, from byte
    /// `base` of the file on; nothing is written until the buffer fills or ``finish()``.
    /// - Parameters:
    ///   - fd: a file descriptor open for writing (the caller closes it).
    ///   - path: the file's path, for errors.
    ///   - io: how bytes are written (``SegmentIOs/processDefault`` outside tests).
    ///   - base: where in the file the first byte goes.
    ///   - reserve: the buffer's initial capacity.
    public init(fd: Int32, path: String, io: any SegmentIO, at base: Int64 = 0, reserve: Int = bufferBytes) {
        self.fd = fd
        self.path = path
        self.io = io
        self.base = base
        buffer.reserveCapacity(min(reserve, Self.bufferBytes))
    }

    /// An encoder that writes no file: it keeps every byte, after `bytes`, for
    /// ``takeCollected()`` (history entries a long fold keeps packed, ``HistoryMap/pack()``).
    init(collecting bytes: [UInt8]) {
        (fd, path, io, base) = (-1, "", SystemSegmentIO(), 0)
        buffer = bytes
        collecting = true
    }

    /// The bytes an encoder made with ``init(collecting:)`` holds; it holds none after.
    mutating func takeCollected() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &buffer)
        return taken
    }

    /// Makes room for `count` more bytes: hands the buffer on first when they would take it
    /// past ``bufferBytes``.
    private mutating func room(_ count: Int) throws {
        if !collecting, buffer.count + count > Self.bufferBytes { try flush() }
    }

    /// The offset in the file of the next byte written.
    public var position: Int64 { base + written + Int64(buffer.count) }

    /// Marks the next byte as the first of the state's second part (layout 4, Format.md
    /// §9.4.2): the part a reader may decode at the same time as the first.
    public mutating func beginSecondPart() { secondPart = position }

    /// One byte.
    public mutating func u8(_ value: UInt8) throws {
        try room(1)
        buffer.append(value)
    }

    /// A 32-bit unsigned integer, little-endian.
    public mutating func u32(_ value: UInt32) throws {
        try room(4)
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// A 64-bit unsigned integer, little-endian.
    public mutating func u64(_ value: UInt64) throws {
        try room(8)
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// A 64-bit signed integer, two's complement, little-endian.
    public mutating func i64(_ value: Int64) throws { try u64(UInt64(bitPattern: value)) }

    /// A 128-bit signed integer, two's complement, little-endian (low 8 bytes first).
    public mutating func i128(_ value: Int128) throws {
        try u64(UInt64(truncatingIfNeeded: value))
        try u64(UInt64(truncatingIfNeeded: value >> 64))
    }

    /// A count: a 32-bit unsigned integer.
    /// - Throws: ``ReadModelRejection`` when `count` does not fit.
    public mutating func count(_ count: Int) throws {
        guard count >= 0, count <= Int(UInt32.max) else { throw ReadModelRejection("A count of \(count) does not fit the read model's 32 bits.") }
        try u32(UInt32(count))
    }

    /// Text: its UTF-8 byte count (u32), then the bytes as they are (no normalisation).
    /// - Throws: ``ReadModelRejection`` when the text is longer than ``ReadModelFile/maxTextBytes``.
    public mutating func text(_ value: String) throws {
        var value = value
        let count = value.utf8.count
        guard count <= ReadModelFile.maxTextBytes else {
            throw ReadModelRejection("A text of \(count) bytes exceeds the read model's limit of \(ReadModelFile.maxTextBytes).")
        }
        try u32(UInt32(count))
        try value.withUTF8 { try raw(UnsafeRawBufferPointer($0)) }
    }

    /// Raw bytes, as they are.
    public mutating func raw(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try raw($0) }
    }

    /// Raw bytes of an array, as they are (a `counts` value's entries written back).
    mutating func raw(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { try raw($0) }
    }

    /// Raw bytes, as they are, handed on in pieces of at most the buffer's size (so that a
    /// column of many megabytes is never copied whole into the buffer).
    public mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        try raw(UnsafeRawBufferPointer(bytes))
    }

    /// Raw bytes, as they are, in pieces of at most the buffer's size.
    public mutating func raw(_ bytes: UnsafeRawBufferPointer) throws {
        if collecting {
            buffer.append(contentsOf: bytes)
            return
        }
        var at = 0
        while at < bytes.count {
            if buffer.count == Self.bufferBytes { try flush() }
            let end = min(bytes.count, at + Self.bufferBytes - buffer.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[at..<end]))
            at = end
        }
    }

    /// Hands the buffer to the file system.
    mutating func flush(hashing: Bool = true) throws {
        guard !buffer.isEmpty else { return }
        if hashing {
            var hasher = self.hasher
            buffer.withUnsafeBytes { hasher.update($0) }
            self.hasher = hasher
        }
        let (fd, io, path, at) = (self.fd, self.io, self.path, base + written)
        try buffer.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let wrote = io.write(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[done...]), at: at + Int64(done))
                if wrote < 0 {
                    if -wrote == Int(EINTR) { continue }
                    let error = Errno(Int32(-wrote))
                    throw SegmentError(error.rawValue == ENOSPC ? .diskFull : .io, "Cannot write '\(path)': \(error).", path: path, underlying: error)
                }
                if wrote == 0 { throw SegmentError(.io, "Cannot write '\(path)': no progress.", path: path) }
                done += wrote
            }
        }
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Hands the buffer to the file system and returns the bytes written and their SHA-256
    /// (an extent of a history file: no trailer, no sync).
    mutating func finishExtent() throws -> (length: Int64, sha256: [UInt8]) {
        try flush()
        return (written, hexBytes(hasher.hex()))
    }

    /// Writes the trailer — the SHA-256 of every byte before it — and syncs the file.
    mutating func finish() throws {
        try flush()
        buffer.append(contentsOf: hexBytes(hasher.hex()))
        try flush(hashing: false)
        guard io.sync(fd: fd) == 0 else { throw SegmentError(.io, "Cannot sync '\(path)'.", path: path) }
    }
}

/// The 32 bytes of a digest given as 64 hex digits.
func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(32)
    var high: UInt8?
    for digit in hex.utf8 {
        let value = digit <= 0x39 ? digit - 0x30 : digit - 0x61 + 10
        if let h = high {
            bytes.append(h << 4 | value)
            high = nil
        } else {
            high = value
        }
    }
    return bytes
}

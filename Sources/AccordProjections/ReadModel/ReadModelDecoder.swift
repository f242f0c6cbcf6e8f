import AccordModel
import AccordSegments
import Glibc

/// Reads the primitive values of a read-model file (Format.md §9.4.2) from a file descriptor
/// through a bounded buffer, hashing every byte of the body as it is read.
///
/// Every count and length is checked against the bytes left in the body before anything is
/// allocated for it, so a damaged file costs no more memory than its size.
public struct ReadModelDecoder {
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var hasher = Digest.SHA256Stream()
    private let fd: Int32
    /// The offset in the file of the first byte not yet read into the buffer.
    private var fileOffset: Int64 = 0
    /// Where the body ends in the file: the file less its trailer, or the end of an extent.
    private let bodyLength: Int64
    /// The history file whose extents the read model names (layouts 2 and later); nil when it names none.
    var history: HistoryFile?
    /// Whether the bytes read are hashed (for ``finish()`` and ``finishExtent(sha256:)``); false
    /// for the parts of a layout 4 file, whose checksum is computed apart
    /// (``ReadModelParts``).
    var hashing = true
    /// What the file is called in errors: "The read model", or "The index file" for the web
    /// view's (Journal/UI.md §8.1).
    public var fileName = "The read model"

    /// The most the buffer grows to: one text of `MAX_READMODEL_TEXT` and its neighbours.
    static let bufferBytes = ReadModelFile.maxTextBytes + (1 << 20)
    /// The buffer's first size; it grows (up to ``bufferBytes``) only for a value longer than that.
    static let initialBufferBytes = 1 << 18

    /// A decoder of the first `bodyLength` bytes of the file open at `fd` (the file less its
    /// trailer); ``finish()`` checks the trailer after them.
    public init(fd: Int32, bodyLength: Int64) {
        self.init(fd: fd, from: 0, to: bodyLength)
    }

    /// A decoder of the bytes from `from` to `to` of the file (a history extent, or a whole
    /// read model's body); its buffer is never larger than those bytes.
    init(fd: Int32, from: Int64, to: Int64) {
        self.fd = fd
        self.bodyLength = to
        fileOffset = from
        buffer = [UInt8](repeating: 0, count: Int(max(1, min(Int64(Self.initialBufferBytes), to - from))))
    }

    /// A decoder of `bytes` in memory (history entries a long fold keeps packed,
    /// ``HistoryMap/pack()``), hashing none; offsets count from the first of them.
    init(bytes: [UInt8]) {
        fd = -1
        bodyLength = Int64(bytes.count)
        fileOffset = Int64(bytes.count)
        buffer = bytes
        end = bytes.count
        hashing = false
    }

    /// The offset in the file of the next byte to decode.
    public var offset: Int64 { fileOffset - Int64(end - start) }

    /// Bytes of the body not yet decoded.
    public var remaining: Int64 { bodyLength - offset }

    /// Makes at least `count` bytes available in the buffer.
    private mutating func ensure(_ count: Int) throws {
        if end - start >= count { return }
        guard Int64(count) <= remaining else {
            throw ReadModelRejection("\(fileName) ends at byte \(bodyLength) (before its checksum), inside a value that starts at byte \(offset).")
        }
        if start > 0 {
            let (from, length) = (start, end - start)
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + from, length)
            }
            end -= start
            start = 0
        }
        if count > buffer.count {
            // Bounded: `count` is at most the bytes left in the body (checked above), and no value
            // read at once is longer than one text of MAX_READMODEL_TEXT with its neighbours.
            let grown = Int(min(Int64(max(count, min(buffer.count * 2, Self.bufferBytes))), remaining))
            buffer.append(contentsOf: repeatElement(0, count: grown - buffer.count))
        }
        while end - start < count {
            let want = min(buffer.count - end, Int(bodyLength - fileOffset))
            let (fd, at, filled) = (self.fd, off_t(fileOffset), end)
            let got = buffer.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + filled, want, at) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                throw ReadModelRejection("\(fileName) could not be read at byte \(fileOffset): \(got < 0 ? Errno(errno).description : "it is shorter than it was").")
            }
            if hashing {
                var hasher = self.hasher
                buffer.withUnsafeBytes { raw in hasher.update(UnsafeRawBufferPointer(rebasing: raw[filled..<(filled + got)])) }
                self.hasher = hasher
            }
            end += got
            fileOffset += Int64(got)
        }
    }

    /// One byte.
    public mutating func u8() throws -> UInt8 {
        try ensure(1)
        defer { start += 1 }
        return buffer[start]
    }

    /// A 32-bit unsigned integer, little-endian.
    public mutating func u32() throws -> UInt32 {
        try ensure(4)
        defer { start += 4 }
        return buffer.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self)) }
    }

    /// A 64-bit unsigned integer, little-endian.
    public mutating func u64() throws -> UInt64 {
        try ensure(8)
        defer { start += 8 }
        return buffer.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
    }

    /// A 64-bit signed integer.
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    /// A 128-bit signed integer (low 8 bytes first).
    public mutating func i128() throws -> Int128 {
        let low = try u64(), high = try u64()
        return Int128(Int64(bitPattern: high)) << 64 | Int128(low)
    }

    /// A count of things each at least `atLeast` bytes long: refused when more could not fit in
    /// what is left of the body.
    public mutating func count(each atLeast: Int = 1) throws -> Int {
        let at = offset
        let count = Int(try u32())
        guard Int64(count) * Int64(max(atLeast, 1)) <= remaining else {
            throw ReadModelRejection("The count \(count) at byte \(at) claims more than the \(remaining) bytes left in the read model.")
        }
        return count
    }

    /// Text: a byte count, then that many bytes of UTF-8, taken as they are.
    public mutating func text() throws -> String {
        let at = offset
        let count = Int(try u32())
        guard count <= ReadModelFile.maxTextBytes else {
            throw ReadModelRejection("The text at byte \(at) claims \(count) bytes, beyond the limit of \(ReadModelFile.maxTextBytes).")
        }
        try ensure(count)
        let from = start
        start += count
        let value = buffer.withUnsafeBytes { raw -> String? in
            let bytes = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + from, count: count)
            // `String(decoding:as:)` is specialised for UTF-8 (`String(validating:as:)` looks up
            // generic metadata on every call); it repairs what is not UTF-8, so a text that is not
            // all ASCII is valid exactly when the string holds the same bytes.
            let text = String(decoding: bytes, as: UTF8.self)
            var ascii = true
            for byte in bytes where byte >= 0x80 {
                ascii = false
                break
            }
            return ascii || text.utf8.elementsEqual(bytes) ? text : nil
        }
        guard let value else { throw ReadModelRejection("The text at byte \(at) is not UTF-8.") }
        return value
    }

    /// A `counts` value (layout 3, Format.md §9.4.2): `u32` n, then n pairs of a key `text` and
    /// an `i64`, the keys in strictly increasing order of their bytes. Every key is checked
    /// (within `MAX_READMODEL_TEXT`, UTF-8, greater than the one before) but not made a `String`:
    /// the entries are returned as the bytes read, for ``ActivityCounts`` to decode when a count
    /// is read.
    /// - Returns: the entries' bytes (without the leading n) and n.
    mutating func counts() throws -> (bytes: [UInt8], count: Int) {
        let count = try self.count(each: 4 + 8)
        var blob: [UInt8] = []
        blob.reserveCapacity(Int(min(remaining, Int64(count) * 32)))
        // The previous key: its offset in `blob` (-1: none yet) and length.
        var previous = -1, previousLength = 0
        var left = count
        while left > 0 {
            let runAt = offset
            try ensure(4)
            let length = buffer.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self))) }
            guard length <= ReadModelFile.maxTextBytes else {
                throw ReadModelRejection("The text at byte \(runAt) claims \(length) bytes, beyond the limit of \(ReadModelFile.maxTextBytes).")
            }
            try ensure(4 + length + 8)
            // The run of whole entries the buffer holds (at least the one just ensured), copied
            // at once, then checked where they were copied to.
            let (run, runEnd) = buffer.withUnsafeBytes { raw -> (Int, Int) in
                var at = start, run = 0
                while run < left, at + 4 <= end {
                    let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    guard length <= ReadModelFile.maxTextBytes, at + 4 + length + 8 <= end else { break }
                    at += 4 + length + 8
                    run += 1
                }
                return (run, at)
            }
            let base = blob.count
            buffer.withUnsafeBufferPointer { blob.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<runEnd])) }
            start = runEnd
            try blob.withUnsafeBufferPointer { all in
                var at = base
                for _ in 0..<run {
                    let entryAt = runAt + Int64(at - base)
                    let length = Int(UInt32(littleEndian: UnsafeRawPointer(all.baseAddress! + at).loadUnaligned(as: UInt32.self)))
                    let key = UnsafeBufferPointer(rebasing: all[(at + 4)..<(at + 4 + length)])
                    var ascii = true
                    for byte in key where byte >= 0x80 { ascii = false; break }
                    guard ascii || String(decoding: key, as: UTF8.self).utf8.elementsEqual(key) else {
                        throw ReadModelRejection("The text at byte \(entryAt) is not UTF-8.")
                    }
                    if previous >= 0 {
                        let common = min(length, previousLength)
                        let order = common == 0 ? 0 : memcmp(all.baseAddress! + previous, key.baseAddress!, common)
                        guard order < 0 || (order == 0 && previousLength < length) else {
                            throw ReadModelRejection("The key at byte \(entryAt) does not sort after the key before it (a counts value's keys are in strictly increasing order of their bytes).")
                        }
                    }
                    previous = at + 4
                    previousLength = length
                    at += 4 + length + 8
                }
            }
            left -= run
        }
        return (blob, count)
    }

    /// A value of any read-model type.
    public mutating func read<T: ReadModelCodable>() throws -> T { try T(from: &self) }

    /// `count` raw bytes.
    public mutating func raw(_ count: Int) throws -> [UInt8] {
        try ensure(count)
        defer { start += count }
        return Array(buffer[start..<(start + count)])
    }

    /// Fills `target` with the next `target.count` bytes, as they are, in pieces of at most
    /// 1 MiB (a column of fixed-width values read straight into its array).
    /// - Throws: ``ReadModelRejection`` when the body ends first.
    public mutating func raw(into target: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < target.count {
            let piece = min(target.count - done, 1 << 20)
            try ensure(piece)
            let from = start
            buffer.withUnsafeBytes { source in
                (target.baseAddress! + done).copyMemory(from: source.baseAddress! + from, byteCount: piece)
            }
            start += piece
            done += piece
        }
    }

    /// Passes over the next `count` bytes (hashing them), in pieces of at most 1 MiB.
    /// - Throws: ``ReadModelRejection`` when the body ends first.
    public mutating func skip(_ count: Int64) throws {
        guard count <= remaining else {
            throw ReadModelRejection("A value of \(count) bytes at byte \(offset) runs past the \(remaining) bytes left.")
        }
        var left = count
        while left > 0 {
            let piece = Int(min(left, 1 << 20))
            try ensure(piece)
            start += piece
            left -= Int64(piece)
        }
    }

    /// Checks that the whole extent was decoded and that `sha256` is the SHA-256 of its bytes.
    mutating func finishExtent(sha256: [UInt8]) throws {
        guard remaining == 0 else {
            throw ReadModelRejection("The history extent has \(remaining) bytes after its last entry, at byte \(offset).")
        }
        guard hexBytes(hasher.hex()) == sha256 else {
            throw ReadModelRejection("The history extent ending at byte \(bodyLength) does not match its SHA-256.")
        }
    }

    /// Checks that the whole body was decoded and that the trailer is the SHA-256 of the body
    /// (a file whose checksum the decoder computes as it reads: the web view's index file).
    /// - Throws: ``ReadModelRejection`` naming the byte offset where either fails.
    public mutating func finish() throws {
        guard remaining == 0 else {
            throw ReadModelRejection("\(fileName) has \(remaining) bytes after its last value, at byte \(offset).")
        }
        var trailer = [UInt8](repeating: 0, count: ReadModelFile.trailerBytes)
        let got = trailer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(bodyLength)) }
        guard hashing, got == ReadModelFile.trailerBytes, trailer == hexBytes(hasher.hex()) else {
            throw ReadModelRejection("\(fileName)'s checksum at byte \(bodyLength) does not match its \(bodyLength) bytes.")
        }
    }

    /// Checks that the whole part was decoded: its last value ends exactly where the part does
    /// (layout 4, Format.md §9.4.4 check 6).
    mutating func finishPart(_ name: String) throws {
        guard remaining == 0 else {
            throw ReadModelRejection("The read model's \(name) part has \(remaining) bytes after its last value, at byte \(offset).")
        }
    }
}

import CLibDeflate

/// Raw DEFLATE (RFC 1951) of a whole buffer in one call, through libdeflate (Debian's
/// `libdeflate-dev`, version 1.14 here).
///
/// At the same level it is about twice as fast as zlib and its output a few percent smaller:
/// on a 12.5 MB batch of 30,000 events, level 6 took 60 ms for 1.62 MB where zlib's level 6
/// took 138 ms for 1.79 MB (Tools/Benchmarks/results.md, session 30). It cannot end a stream
/// without a final block, so a member is compressed whole on one thread: member files
/// (``MemberFile``, the bundles of SyncProtocol.md §4.2) use it, several members at once; the
/// segment writer, which cuts one batch in two halves (Format.md §4, "Compression"), keeps
/// ``Deflater``. The stream ends on a byte boundary with its unused bits zero, as Format.md §4
/// rule 7 requires (the reader checks every member it reads).
///
/// Not thread-safe: one per thread.
final class WholeBufferDeflater {
    private let compressor: OpaquePointer

    /// - Parameter level: libdeflate's compression level, 1 to 12 (6 is its default).
    /// - Throws: ``SegmentError`` `.io` when libdeflate cannot make a compressor (a level out
    ///   of range, or no memory).
    init(level: Int32) throws {
        guard let compressor = libdeflate_alloc_compressor(level) else {
            throw SegmentError(.io, "libdeflate could not start a compressor at level \(level).")
        }
        self.compressor = compressor
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// The most bytes ``compress(_:into:)`` may write for `count` bytes of input.
    func bound(_ count: Int) -> Int { libdeflate_deflate_compress_bound(compressor, count) }

    /// Compresses `input` as one complete raw DEFLATE stream into `output`.
    /// - Parameter output: at least ``bound(_:)`` of `input.count` bytes.
    /// - Returns: the bytes written at the start of `output`.
    /// - Throws: ``SegmentError`` `.io` when the stream did not fit (it always fits the bound).
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let written = libdeflate_deflate_compress(compressor, input.baseAddress, input.count, output.baseAddress, output.count)
        guard written > 0 else {
            throw SegmentError(.io, "libdeflate could not compress \(input.count) bytes into \(output.count).")
        }
        return written
    }
}

extension BatchMember {
    /// Builds the member for `payload` (the records, each followed by `\n`) in one buffer,
    /// compressed whole by `compressor`.
    /// - Throws: ``SegmentError`` `.io` from the compressor.
    static func encode(payload: UnsafeRawBufferPointer, recordCount: Int, compressor: WholeBufferDeflater) throws -> [UInt8] {
        let bound = compressor.bound(payload.count)
        return try [UInt8](unsafeUninitializedCapacity: headerLength + bound + trailerLength) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            func store(_ value: UInt32, at offset: Int) {
                for byte in 0..<4 { raw[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(byte))) }
            }
            let header = fixedHeader(version: SegmentFormat.version)
            for (offset, byte) in header.enumerated() { raw[offset] = byte }
            let compressed = try compressor.compress(payload, into: UnsafeMutableRawBufferPointer(rebasing: raw[headerLength..<(headerLength + bound)]))
            let length = headerLength + compressed + trailerLength
            store(UInt32(length), at: 20)
            store(UInt32(recordCount), at: 24)
            let hcrc = crc32(of: UnsafeRawBufferPointer(rebasing: raw[0..<28]))
            raw[28] = UInt8(truncatingIfNeeded: hcrc)
            raw[29] = UInt8(truncatingIfNeeded: hcrc >> 8)
            store(crc32(of: payload), at: headerLength + compressed)
            store(UInt32(truncatingIfNeeded: payload.count), at: headerLength + compressed + 4)
            initialized = length
        }
    }
}

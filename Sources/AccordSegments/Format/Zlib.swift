import CLibDeflate
import CZlib

/// Raw DEFLATE (RFC 1951) compression of whole buffers through libz, reusing one `z_stream`.
///
/// Not thread-safe: use one per writer. Wraps `deflateInit2_`, `deflate`, `deflateReset`.
final class Deflater {
    private var stream = z_stream()
    private var initialized = false
    let level: Int32

    /// - Parameter level: zlib compression level, 0 (none) to 9 (smallest).
    init(level: Int32) {
        self.level = level
    }

    deinit {
        if initialized { deflateEnd(&stream) }
    }

    /// Compresses `input` as one complete raw DEFLATE stream and appends it to `output`.
    func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws {
        try compress(input, appendingTo: &output, dictionary: nil, final: true)
    }

    /// Compresses `input` as part of a raw DEFLATE stream and appends it to `output`.
    /// - Parameters:
    ///   - dictionary: the bytes that precede `input` in the stream (at most the last 32 KiB are
    ///     used), so back-references may reach into them (`deflateSetDictionary`); nil for none.
    ///   - final: true to end the stream (`Z_FINISH`); false to end with a sync flush: byte-aligned,
    ///     no final block, so that another part may follow and the whole is still one stream.
    func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8], dictionary: UnsafeRawBufferPointer?, final: Bool) throws {
        if !initialized {
            let status = deflateInit2_(
                &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                throw SegmentError(.io, "zlib could not start a compressor (status \(status)).")
            }
            initialized = true
        } else {
            deflateReset(&stream)
        }
        if let dictionary, let base = dictionary.baseAddress, dictionary.count > 0 {
            let window = min(dictionary.count, 32 << 10)
            let status = deflateSetDictionary(&stream, base.advanced(by: dictionary.count - window).assumingMemoryBound(to: Bytef.self), uInt(window))
            guard status == Z_OK else { throw SegmentError(.io, "zlib could not set a dictionary (status \(status)).") }
        }
        // deflateBound covers a finished stream; a sync flush adds at most an empty stored block.
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 16
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let produced: Int = try output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress!.advanced(by: start).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(bound)
            let status = deflate(&stream, final ? Z_FINISH : Z_SYNC_FLUSH)
            guard final ? status == Z_STREAM_END : (status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0) else {
                throw SegmentError(.io, "zlib could not compress a batch (status \(status)).")
            }
            return bound - Int(stream.avail_out)
        }
        output.removeLast(bound - produced)
    }
}

/// Raw DEFLATE decompression through libz, reusing one `z_stream`.
final class Inflater {
    private var stream = z_stream()
    private var initialized = false

    deinit {
        if initialized { inflateEnd(&stream) }
    }

    enum Outcome {
        /// The stream ended; `consumed` input bytes were used, and the last of them had
        /// `unusedBits` padding bits (its high bits) after the end of the stream.
        case complete(consumed: Int, unusedBits: Int)
        /// The data is not valid DEFLATE, or does not end within the input.
        case invalid(String)
        /// The output would exceed the limit.
        case tooLarge
    }

    /// Inflates one raw DEFLATE stream from `input` into `output` (replacing its contents).
    /// - Parameters:
    ///   - limit: the largest output accepted, in bytes.
    ///   - expectedSize: what the output's size should be (a gzip member's ISIZE): the output is
    ///     then made that size at once, without zeroing it first or growing it. If the stream
    ///     turns out any other size, or fails, it is inflated again the general way, so the
    ///     outcome is the same as without the hint.
    ///   - points: when not nil, access points are recorded in it (replacing its contents) every
    ///     ``AccessPointOptions/span`` bytes of output or more, at deflate block boundaries
    ///     (zlib's `examples/zran.c`); the caller keeps them only when the stream is valid.
    func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int, expectedSize: Int? = nil,
        points: UnsafeMutablePointer<AccessPointRecorder>? = nil
    ) -> Outcome {
        if let expectedSize, expectedSize > 0, expectedSize <= limit,
           let outcome = decompressExactly(input, into: &output, size: expectedSize, points: points) {
            return outcome
        }
        return decompressGrowing(input, into: &output, limit: limit, points: points)
    }

    /// Records an access point when the stream is at a block boundary other than the end and
    /// enough output was made since the last one; `output` is everything inflated so far.
    private func notePoint(_ points: UnsafeMutablePointer<AccessPointRecorder>?, input: UnsafeRawBufferPointer, output: UnsafeRawBufferPointer) {
        guard let points, stream.data_type & 128 != 0, stream.data_type & 64 == 0 else { return }
        points.pointee.note(
            compressedOffset: input.count - Int(stream.avail_in), bits: Int(stream.data_type & 7), output: output)
    }

    /// One pass into an output of exactly `size` bytes; nil when the stream is not exactly that
    /// long or is not valid (the caller then goes the general way, which reports why).
    private func decompressExactly(
        _ input: UnsafeRawBufferPointer, into output: inout [UInt8], size: Int, points: UnsafeMutablePointer<AccessPointRecorder>?
    ) -> Outcome? {
        guard start() else { return nil }
        points?.pointee.reset()
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var unusedBits = 0
        var ended = false
        // One byte more than expected, so that a longer stream shows as not ending.
        let inflated = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in
            stream.next_out = buffer.baseAddress!
            stream.avail_out = uInt(size + 1)
            while true {
                // Z_BLOCK, as below: so that the padding bits of the last byte can be read.
                let status = inflate(&stream, Z_BLOCK)
                if stream.data_type & 192 == 192 { unusedBits = Int(stream.data_type & 7) }
                if points != nil, status == Z_OK {
                    notePoint(points, input: input, output: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: size + 1 - Int(stream.avail_out)))
                }
                if status == Z_STREAM_END { ended = true; break }
                if status != Z_OK || stream.avail_out == 0 { break }
            }
            count = size + 1 - Int(stream.avail_out)
        }
        guard ended, inflated.count == size else { return nil }
        output = inflated
        return .complete(consumed: input.count - Int(stream.avail_in), unusedBits: unusedBits)
    }

    /// Initialises the stream on first use, resets it afterwards; false if zlib cannot start.
    private func start() -> Bool {
        if !initialized {
            guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
            initialized = true
        } else {
            inflateReset(&stream)
        }
        return true
    }

    private func decompressGrowing(
        _ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int, points: UnsafeMutablePointer<AccessPointRecorder>?
    ) -> Outcome {
        guard start() else { return .invalid("zlib could not start a decompressor") }
        points?.pointee.reset()
        output.removeAll(keepingCapacity: true)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var chunk = max(4096, min(limit, input.count * 4))
        var unusedBits = 0
        while true {
            let start = output.count
            if start >= limit + 1 { return .tooLarge }
            let room = min(chunk, limit + 1 - start)
            // A zeroed array appends as one copy even unoptimised; a lazy repeatElement was
            // appended byte by byte, a third of a debug build's time reading a segment.
            output.append(contentsOf: [UInt8](repeating: 0, count: room))
            let status: Int32 = output.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress!.advanced(by: start).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(room)
                // Z_BLOCK stops after each block, so the padding bits of the last byte can be read
                // (zlib.h: data_type = unused bits + 64 if last block + 128 at a block boundary)
                // before zlib discards them.
                return inflate(&stream, Z_BLOCK)
            }
            if stream.data_type & 192 == 192 { unusedBits = Int(stream.data_type & 7) }
            let produced = room - Int(stream.avail_out)
            output.removeLast(room - produced)
            if points != nil, status == Z_OK {
                output.withUnsafeBytes { notePoint(points, input: input, output: $0) }
            }
            switch status {
            case Z_STREAM_END:
                if output.count > limit { return .tooLarge }
                return .complete(consumed: input.count - Int(stream.avail_in), unusedBits: unusedBits)
            case Z_OK:
                // Progress was made (a block ended, or the output chunk filled up); go on.
                if stream.avail_out == 0 { chunk = min(chunk * 2, 16 << 20) }
            case Z_BUF_ERROR:
                if stream.avail_in == 0 { return .invalid("the compressed data ends early") }
                chunk = min(chunk * 2, 16 << 20)
            default:
                let text = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                return .invalid("invalid compressed data (\(text))")
            }
        }
    }
}

/// CRC-32 (ISO 3309, as in RFC 1952 §8) of `bytes`, continuing from `crc`: libdeflate's, which
/// folds with carry-less multiplication and ran three times as fast as zlib 1.2.13's `crc32`
/// here (3.6 against 1.2 GB/s on a loaded machine); every batch written and read takes one.
func crc32(of bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
    return libdeflate_crc32(crc, base, bytes.count)
}

/// The CRC-32 of two byte strings one after the other, from the CRC-32 of each and the length of
/// the second (zlib's `crc32_combine`).
func crc32(combining first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
    UInt32(CZlib.crc32_combine(uLong(first), uLong(second), Int(secondLength)))
}

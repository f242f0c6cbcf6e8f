/// A whole raw DEFLATE stream (RFC 1951) of one final block with fixed Huffman codes that holds
/// only literals: every input byte as its fixed code, then end-of-block.
///
/// How the writer stores a batch smaller than ``SegmentFormat/literalsBelow`` (Format.md §4,
/// "Compression"; Decision 0025). It costs about a microsecond for a record of 500 bytes where
/// zlib's level 1 costs 6 µs in a hot loop and 20–38 µs in a single append (its state is cold
/// after each `fdatasync`), and it is as large as the input plus 2 bytes for JSON's ASCII. Unlike a
/// stored block (zlib's level 0), it has no bits that an inflater skips: a stored block's header
/// is followed by up to 5 bits up to the byte boundary that no version-1 check covers, so a
/// flip there would go unnoticed; here every bit but the final padding (rule 7) is a code.
/// No library writes this block (zlib's and libdeflate's lowest levels write stored blocks;
/// their level 1 searches for matches first).
enum LiteralBlock {
    /// Each byte value's fixed literal code (RFC 1951 §3.2.6: 0–143 as 8 bits from `00110000`,
    /// 144–255 as 9 bits from `110010000`), bit-reversed for LSB-first packing (§3.1.1), with its
    /// length in bits in the top byte.
    private static let codes: [UInt32] = (0..<256).map { value in
        let (code, length): (UInt32, UInt32) = value < 144 ? (0x30 + UInt32(value), 8) : (0x190 + UInt32(value - 144), 9)
        return reversed(code, bits: length) | length << 24
    }

    private static func reversed(_ code: UInt32, bits: UInt32) -> UInt32 {
        var result: UInt32 = 0
        for bit in 0..<bits where code & (1 << bit) != 0 { result |= 1 << (bits - 1 - bit) }
        return result
    }

    /// The most bytes ``append(_:to:)`` adds for `count` input bytes: 9 bits each, the 3-bit
    /// header and the 7-bit end-of-block code, rounded up.
    static func bound(_ count: Int) -> Int { (count * 9 + 10 + 7) / 8 }

    /// Appends the stream for `input` to `output`: BFINAL = 1, BTYPE = 01, the literals, the
    /// end-of-block code (7 zero bits), and zero bits up to the byte boundary.
    static func append(_ input: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let start = output.count
        let room = bound(input.count)
        output.append(contentsOf: repeatElement(0, count: room))
        let written = output.withUnsafeMutableBufferPointer { out -> Int in
            codes.withUnsafeBufferPointer { codes -> Int in
                var at = start
                // BFINAL = 1 (bit 0), BTYPE = 01 (bits 1–2, LSB first).
                var bits: UInt64 = 0b011
                var count: UInt64 = 3
                for byte in input {
                    let code = codes[Int(byte)]
                    bits |= UInt64(code & 0x1ff) << count
                    count += UInt64(code >> 24)
                    if count >= 32 {
                        out[at] = UInt8(truncatingIfNeeded: bits)
                        out[at + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                        out[at + 2] = UInt8(truncatingIfNeeded: bits >> 16)
                        out[at + 3] = UInt8(truncatingIfNeeded: bits >> 24)
                        at += 4
                        bits >>= 32
                        count -= 32
                    }
                }
                // End of block, 256: seven zero bits; then the padding, zero too.
                count += 7
                while count > 0 {
                    out[at] = UInt8(truncatingIfNeeded: bits)
                    at += 1
                    bits >>= 8
                    count = count > 8 ? count - 8 : 0
                }
                return at - start
            }
        }
        output.removeLast(room - written)
    }
}

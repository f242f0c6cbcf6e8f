import AccordSegments
import AccordTesting
import Foundation
import Testing

/// Batches smaller than `SegmentFormat.literalsBelow` are written as literals in one fixed-Huffman
/// block (Format.md §4, "Compression"; Decision 0025); larger ones are compressed as before.
@Suite("Small batches written as one block of literals, read through every check")
struct LiteralBatchTests {
    /// The member bytes of each batch of a one-segment journal.
    private func members(_ directory: SegmentDirectory) throws -> [[UInt8]] {
        let segment = try FileDamage.bytes(directory.path + "/segments/00000001.gz")
        var result: [[UInt8]] = []
        var at = 0
        while at < segment.count {
            let length = Int(segment[at + 20]) | Int(segment[at + 21]) << 8 | Int(segment[at + 22]) << 16 | Int(segment[at + 23]) << 24
            result.append(Array(segment[at..<(at + length)]))
            at += length
        }
        return result
    }

    /// The length of the member of a literal block holding `payload`: the 3-bit header, 8 bits
    /// for bytes 0–143 and 9 for 144–255, the 7-bit end-of-block code, whole bytes; header and
    /// trailer.
    private func literalMemberLength(_ payload: [UInt8]) -> Int {
        let bits = 3 + payload.reduce(0) { $0 + ($1 < 144 ? 8 : 9) } + 7
        return 30 + (bits + 7) / 8 + 8
    }

    /// Records of `total` bytes with their newlines, each at most 100 bytes, ASCII.
    private func asciiBatch(total: Int) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var left = total
        var n = 0
        while left > 0 {
            let size = min(100, left)
            let text = "{\"n\":\(n),\"p\":\"" + String(repeating: "x", count: max(0, size - 1 - 13 - String(n).count)) + "\"}"
            result.append(Array(text.utf8))
            left -= text.utf8.count + 1
            n += 1
        }
        precondition(left == 0 && result.reduce(0) { $0 + $1.count + 1 } == total)
        return result
    }

    private func payload(_ batch: [[UInt8]]) -> [UInt8] { batch.flatMap { $0 + [0x0a] } }

    /// Whether `member` holds `batch` as one fixed-Huffman block of literals: BFINAL = 1 and
    /// BTYPE = 01, and exactly the literals' length. (zlib's level 1 also picks fixed codes for
    /// tiny batches, so the block type alone does not tell; its matches make it shorter.)
    private func isLiterals(_ member: [UInt8], of batch: [[UInt8]]) -> Bool {
        member[30] & 0b111 == 0b011 && member.count == literalMemberLength(payload(batch))
    }

    /// Runs `command` in `sh -c`, returning its exit status and standard output.
    private func shell(_ command: String) throws -> (Int32, [UInt8]) {
        let process = Process()
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = out
        try process.run()
        let bytes = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return (process.terminationStatus, bytes)
    }

    @Test func aBatchOneByteBelowTheLimitIsLiteralsAndOneAtTheLimitIsCompressed() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        let small = asciiBatch(total: SegmentFormat.literalsBelow - 1)
        let limit = asciiBatch(total: SegmentFormat.literalsBelow)
        try writer.append(small)
        try writer.append(limit)
        let written = try members(directory)
        #expect(written.count == 2)
        // Below: BFINAL = 1 and BTYPE = 01 (fixed Huffman), every byte as its 8-bit literal code.
        #expect(isLiterals(written[0], of: small))
        // At the limit: compressed by zlib at level 1, well under half the literals' size.
        #expect(written[1].count < literalMemberLength(payload(limit)) / 2)
        #expect(try readAll(directory) == (small + limit).map { String(decoding: $0, as: UTF8.self) })
        #expect(try directory.scan { _ in }.isClean)
    }

    @Test func everyByteValueButNewlineReadsBackFromALiteralBlockAndStockZcatAgrees() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        // Every byte value but \n, so every 8-bit (0–143) and 9-bit (144–255) code; then text
        // of the Kazakh alphabet as UTF-8, mostly 9-bit codes.
        let all = (0...255).map(UInt8.init).filter { $0 != 0x0a }
        let kazakh = Array("Қазақстан Республикасы — Еуропалық Одақ: әріптестік, өңір, үкімет, ұйым, һ, і".utf8)
        let batch = [all, kazakh, Array("{}".utf8)]
        try writer.append(batch)
        let member = try #require(try members(directory).first)
        #expect(isLiterals(member, of: batch))
        // Read through every check of §4 (the padding bits of the last byte included).
        var batches = try directory.batches()
        let read = try #require(try batches.next())
        #expect(read.records.map { Array($0) } == batch)
        #expect(try directory.scan { _ in }.isClean)
        // An inflater that is not ours: GNU gzip.
        let (status, text) = try shell("zcat '\(directory.path)/segments/00000001.gz'")
        #expect(status == 0)
        #expect(text == payload(batch))
    }

    @Test func everyBitFlipInALiteralBatchWithNineBitCodesIsDetected() throws {
        let temp = TemporaryDirectory()
        let directory = try SegmentDirectory.create(at: temp.child("j"))
        let writer = try SegmentWriter(directory: directory)
        // Repeated words, which zlib's level 1 would have replaced by matches.
        let batches = [
            [Array("{\"name\":\"Астана\",\"kz\":\"Астана\"}".utf8)],
            [Array("{\"name\":\"Brüssel\",\"de\":\"Brüssel\"}".utf8), Array("{\"n\":2}".utf8)],
        ]
        for batch in batches { try writer.append(batch) }
        writer.close()
        let written = try members(directory)
        #expect(written.count == 2 && zip(written, batches).allSatisfy { isLiterals($0, of: $1) })
        let segment = directory.path + "/segments/00000001.gz"
        let original = try FileDamage.bytes(segment)
        var missed: [String] = []
        for offset in 0..<original.count {
            for bit in 0..<8 {
                try FileDamage.flip(segment, at: offset, mask: UInt8(1 << bit))
                let report = try directory.scan { _ in }
                if report.isClean { missed.append("bit \(bit) of byte \(offset)") }
                if let damage = report.damages.first, damage.offset > Int64(offset) { missed.append("bit \(bit) of byte \(offset) reported at \(damage.offset)") }
                try FileDamage.write(segment, original)
            }
        }
        #expect(missed.isEmpty, "flips that went unnoticed: \(missed.prefix(10))")
    }

    @Test func everyCutOfAJournalOfLiteralBatchesKeepsEveryCompleteBatch() throws {
        let temp = TemporaryDirectory()
        let batches: [[[UInt8]]] = [
            [Array("{\"city\":\"Алматы\"}".utf8), Array("{\"n\":1}".utf8)],
            [Array("{\"city\":\"Bruxelles\"}".utf8)],
            [Array("{\"n\":3}".utf8), Array("{\"n\":4}".utf8), Array("{\"city\":\"Астана\"}".utf8)],
        ]
        let made = try SegmentDirectory.create(at: temp.child("made"))
        let maker = try SegmentWriter(directory: made)
        var ends: [Int] = []
        for batch in batches {
            try maker.append(batch)
            ends.append(Int(maker.end.offset))
        }
        maker.close()
        #expect(zip(try members(made), batches).allSatisfy { isLiterals($0, of: $1) })
        let original = try FileDamage.bytes(made.path + "/segments/00000001.gz")
        for cut in 0...original.count {
            let directory = try SegmentDirectory.create(at: temp.child("cut-\(cut)"))
            try FileDamage.write(directory.path + "/segments/00000001.gz", Array(original[..<cut]))
            let kept = ends.filter { $0 <= cut }.count
            let writer = try SegmentWriter(directory: directory)
            let keptLength = kept == 0 ? 0 : ends[kept - 1]
            #expect((writer.recovery?.validLength ?? Int64(cut)) == Int64(keptLength), "cut at \(cut)")
            #expect(try readAll(directory) == batches.prefix(kept).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }, "cut at \(cut)")
            try writer.append(records(["{\"after\":true}"]))
            writer.close()
            #expect(try readAll(directory).last == "{\"after\":true}")
            #expect(try directory.scan { _ in }.isClean, "cut at \(cut)")
        }
    }

    @Test func theThreeBatchJournalOfTheRecoveryAndFlipTestsIsMadeOfLiteralBlocks() throws {
        // RecoveryTests and FaultInjectionTests cut, flip and fail every byte of this journal's
        // members: they now do it to literal blocks, the writer's output for small batches.
        let temp = TemporaryDirectory()
        let (directory, _) = try makeThreeBatchJournal(at: temp.child("j"))
        let written = try members(directory)
        let batches = [["{\"n\":1}", "{\"n\":2}"], ["{\"n\":3}", "{\"n\":4}", "{\"n\":5}"], ["{\"n\":6}"]].map(records)
        #expect(written.count == 3)
        #expect(zip(written, batches).allSatisfy { isLiterals($0, of: $1) })
    }
}

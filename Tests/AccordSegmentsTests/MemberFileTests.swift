import AccordSegments
import Foundation
import Testing

/// Member files (bundles): each member compressed whole by libdeflate, several at once (issue 16).
@Suite("Member files: members compressed whole, several at once, each the bytes of its batch alone")
struct MemberFileTests {
    /// `count` batches of `records` records of about `size` bytes each, from a fixed
    /// pseudo-random sequence of 16 letters (so that they compress, but not to nothing).
    static func batches(count: Int, records: Int, size: Int) -> [[[UInt8]]] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        return (0..<count).map { batch in
            (0..<records).map { record in
                (0..<(size + (batch * 7 + record) % 97)).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return 0x61 + UInt8((state >> 59) & 15)
                }
            }
        }
    }

    @Test func aFileOfManyLargeMembersHoldsExactlyTheMembersEachBatchMakesAloneAndReadsBack() throws {
        // 150 batches of 1,000-byte records, 24 KiB each, then batches of 200 records, about
        // 200 KiB each.
        let batches = Self.batches(count: 150, records: 24, size: 1_000) + Self.batches(count: 4, records: 200, size: 1_000)
        let whole = try MemberFile.encode(batches)
        let oneByOne = try batches.flatMap { try MemberFile.encode([$0]) }
        #expect(whole == oneByOne)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("member-file-\(UUID().uuidString)").path
        defer { unlink(path) }
        try MemberFile.write(batches, to: path)
        let read = try MemberFile.read(path)
        #expect(read.count == batches.count)
        for (batch, expected) in zip(read, batches) {
            #expect(batch.records.map { Array($0) } == expected)
        }
    }

    @Test func levelsOtherThanTheDefaultGiveEachMemberTheBytesOfItsBatchAloneToo() throws {
        let batches = Self.batches(count: 5, records: 40, size: 2_000)
        for level: Int32 in [1, 9] {
            #expect(try MemberFile.encode(batches, compressionLevel: level) == batches.flatMap { try MemberFile.encode([$0], compressionLevel: level) })
        }
    }

    @Test func theFirstBadBatchInOrderIsTheOneNamed() throws {
        var batches = Self.batches(count: 70, records: 4, size: 2_000)
        batches[66][2] = Array("a\nb".utf8)
        batches[68] = []
        #expect { try MemberFile.encode(batches) } throws: { error in
            "\(error)".contains("batch 67")
        }
        batches[3][0] = []
        #expect { try MemberFile.encode(batches) } throws: { error in
            "\(error)".contains("batch 4")
        }
    }

    @Test(arguments: [1, 30_000, 200_000, 1 << 20])
    func theWindowOfMembersCompressedAtOnceChangesNoByte(windowBytes: Int) throws {
        let batches = Self.batches(count: 9, records: 50, size: 1_500) + Self.batches(count: 3, records: 300, size: 700)
        let reference = try MemberFile.encode(batches)
        #expect(try MemberFile.encode(batches, compressionLevel: 6, windowBytes: windowBytes) == reference)
    }

    @Test func incompressibleTinyAndLargeBatchesReadBackExactlyThroughEveryMemberCheck() throws {
        // Random bytes (no newline) make libdeflate emit stored blocks; one-byte records the
        // smallest streams; MemberFile.read checks every member as Format.md §4 says, the
        // unused bits of each stream's last byte included (rule 7).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let byte = UInt8(truncatingIfNeeded: state >> 56)
                return byte == 0x0a ? 0x0b : byte
            }
        }
        let batches: [[[UInt8]]] = [[[0x61]], [random(1)], (0..<20).map { _ in random(5_000) }, [random(300_000)], (0..<3_000).map { _ in [0x7a] }]
        for level: Int32 in [1, 6, 12] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("member-file-\(UUID().uuidString)").path
            defer { unlink(path) }
            let bytes = try MemberFile.encode(batches, compressionLevel: level)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let read = try MemberFile.read(path)
            #expect(read.map { $0.records.map { Array($0) } } == batches)
        }
    }

    @Test func aLevelLibdeflateDoesNotHaveIsRefusedWithAnErrorNotACrash() throws {
        let batches = Self.batches(count: 2, records: 3, size: 100)
        for level: Int32 in [-1, 13] {
            #expect { try MemberFile.encode(batches, compressionLevel: level) } throws: { error in
                "\(error)".contains("level \(level)")
            }
        }
    }
}

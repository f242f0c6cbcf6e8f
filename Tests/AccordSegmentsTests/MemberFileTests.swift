import AccordSegments
import Foundation
import Testing

/// Member files (bundles) whose large members are compressed in two halves on two threads (issue 16).
@Suite("Member files: large members compressed in halves at once, each the bytes of its batch alone")
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
        // 150 batches of 1,000-byte records, 24 KiB each (under the two-halves threshold), then
        // batches of 200 records, about 200 KiB each (over it).
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
}

import AccordSegments
import AccordTesting

/// Records as byte arrays from strings.
func records(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }

/// Every record of a journal, as strings, in order.
func readAll(_ directory: SegmentDirectory) throws -> [String] {
    var batches = try directory.batches()
    var result: [String] = []
    while let batch = try batches.next() {
        result += batch.records.map { String(decoding: $0, as: UTF8.self) }
    }
    return result
}

/// A journal with three batches of two, three and one records; returns the batch boundaries.
func makeThreeBatchJournal(at path: String) throws -> (SegmentDirectory, [SegmentPosition]) {
    let directory = try SegmentDirectory.create(at: path)
    let writer = try SegmentWriter(directory: directory)
    var ends: [SegmentPosition] = []
    try writer.append(records(["{\"n\":1}", "{\"n\":2}"]))
    ends.append(writer.end)
    try writer.append(records(["{\"n\":3}", "{\"n\":4}", "{\"n\":5}"]))
    ends.append(writer.end)
    try writer.append(records(["{\"n\":6}"]))
    ends.append(writer.end)
    return (directory, ends)
}

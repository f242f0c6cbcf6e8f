/// One batch as read from disk: the records of one gzip member, in order.
public struct Batch: Sendable {
    /// The segment number the batch is in.
    public let segment: Int
    /// Byte offset of the batch's member in its segment.
    public let offset: Int64
    /// Length of the member on disk, in bytes (compressed, with header and trailer).
    public let length: Int
    /// The uncompressed batch: every record followed by `\n`.
    public let payload: [UInt8]
    /// The records, without their newlines, as slices of ``payload``.
    public let records: [ArraySlice<UInt8>]

    /// A batch whose `payload` has its newlines at `newlines` (one per record, in order, as
    /// ``BatchMember/decodeBody(_:header:inflater:into:newlines:)`` found them).
    init(segment: Int, offset: Int64, length: Int, payload: [UInt8], newlines: [Int]) {
        self.segment = segment
        self.offset = offset
        self.length = length
        self.payload = payload
        var records: [ArraySlice<UInt8>] = []
        records.reserveCapacity(newlines.count)
        var start = 0
        for newline in newlines {
            records.append(payload[start..<newline])
            start = newline + 1
        }
        self.records = records
    }

    /// Where this batch starts.
    public var position: SegmentPosition { SegmentPosition(segment: segment, offset: offset) }
    /// Where the batch after this one starts (or would start).
    public var end: SegmentPosition { SegmentPosition(segment: segment, offset: offset + Int64(length)) }
}

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
    /// The records, without their newlines, as slices of ``payload`` (each slice's indices are
    /// its byte range in the inflated batch).
    public let records: [ArraySlice<UInt8>]
    /// The trailer's CRC-32 of ``payload`` (Format.md §4).
    public let checksum: UInt32
    /// Where inflating the member may start other than at its beginning: recorded only when the
    /// reader was asked to (``AccessPointOptions``) and the batch is large enough; else empty.
    public let accessPoints: [AccessPoint]

    /// A batch whose `payload` has its newlines at `newlines` (one per record, in order, as
    /// ``BatchMember/decodeBody(_:header:inflater:into:newlines:)`` found them).
    init(segment: Int, offset: Int64, length: Int, payload: [UInt8], newlines: [Int], checksum: UInt32 = 0, accessPoints: [AccessPoint] = []) {
        self.checksum = checksum
        self.accessPoints = accessPoints
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

    /// What the member says of itself: its length, record count, CRC-32 and inflated size.
    public var framing: BatchFraming {
        BatchFraming(memberLength: length, recordCount: records.count, inflatedSize: payload.count, checksum: checksum)
    }

    /// Where this batch starts.
    public var position: SegmentPosition { SegmentPosition(segment: segment, offset: offset) }
    /// Where the batch after this one starts (or would start).
    public var end: SegmentPosition { SegmentPosition(segment: segment, offset: offset + Int64(length)) }
}

/// Where a batch starts: a segment number and a byte offset in it.
public struct SegmentPosition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The segment number, from 1 (`segments/00000001.gz`, Format.md §3).
    public var segment: Int
    /// The byte offset in the segment file, from 0.
    public var offset: Int64
    /// The position at byte `offset` of segment number `segment`.
    public init(segment: Int, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }
    /// The first byte of the first segment.
    public static let start = SegmentPosition(segment: 1, offset: 0)
    /// Journal order: by segment, then by offset.
    public static func < (a: Self, b: Self) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    /// The segment's relative path and the offset, `segments/00000001.gz@304`.
    public var description: String { "\(SegmentDirectory.relativeSegmentPath(segment))@\(offset)" }
}

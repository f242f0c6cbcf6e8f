/// Where a batch starts: a segment number and a byte offset in it.
public struct SegmentPosition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var segment: Int
    public var offset: Int64
    public init(segment: Int, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }
    /// The first byte of the first segment.
    public static let start = SegmentPosition(segment: 1, offset: 0)
    public static func < (a: Self, b: Self) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    public var description: String { "\(SegmentDirectory.relativeSegmentPath(segment))@\(offset)" }
}

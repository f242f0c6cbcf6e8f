/// What ``SegmentDirectory/scan(_:)`` found.
public struct IntegrityReport: Sendable {
    /// Segment files checked.
    public var segments = 0
    /// Valid batches found.
    public var batches = 0
    /// Records in the valid batches.
    public var records = 0
    /// Bytes on disk in all segments.
    public var bytes: Int64 = 0
    /// Damaged ranges, in journal order.
    public var damages: [Damage] = []
    /// Problems that are not a byte range (a missing segment).
    public var problems: [String] = []

    /// An empty report: nothing checked, nothing wrong.
    public init() {}

    /// True when nothing at all is wrong.
    public var isClean: Bool { damages.isEmpty && problems.isEmpty }
}

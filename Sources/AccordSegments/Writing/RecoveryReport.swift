/// What opening a writer did to the journal's tail (Format.md §6).
public struct RecoveryReport: Sendable, Equatable {
    /// The segment whose tail was cut, relative to the journal directory.
    public var segment: String
    /// The segment's length after the cut: the end of its last complete batch.
    public var validLength: Int64
    /// How many bytes were cut off.
    public var quarantinedBytes: Int64
    /// Where the cut bytes were kept, relative to the journal directory.
    public var quarantineFile: String
    /// Why the first cut batch was invalid.
    public var reason: String

    /// One sentence for standard error: what was cut, where, and where it was kept.
    public var description: String {
        "Cut off an incomplete last batch: \(quarantinedBytes) bytes at byte \(validLength) of '\(segment)' (\(reason)), kept in '\(quarantineFile)'."
    }
}

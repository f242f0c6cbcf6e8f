/// A damaged byte range found in a segment (Format.md §6).
public struct Damage: Sendable, Equatable, CustomStringConvertible {
    /// How the damage relates to the rest of the journal.
    public enum Kind: Sendable, Equatable {
        /// Invalid bytes at the end of the last segment, with no valid batch after them: what a
        /// write cut short by a crash leaves. A writer cuts them off into quarantine on open.
        case tornTail
        /// Invalid bytes with valid batches after them (in this segment or a later one). Never
        /// repaired automatically.
        case corrupt
    }

    /// Torn tail or corruption.
    public var kind: Kind
    /// Segment file, relative to the journal directory (`segments/00000001.gz`).
    public var segment: String
    /// Byte offset in the segment where the invalid bytes begin.
    public var offset: Int64
    /// How many bytes are invalid.
    public var length: Int64
    /// Why the first invalid batch was rejected.
    public var reason: String

    /// One sentence: what is damaged, where, and what happens to it.
    public var description: String {
        switch kind {
        case .tornTail:
            return "Incomplete or damaged last batch at byte \(offset) of '\(segment)' (\(length) bytes: \(reason)); the next append cuts it off into quarantine."
        case .corrupt:
            return "Damaged data at byte \(offset) of '\(segment)' (\(length) bytes: \(reason)); valid batches follow it, so it is not repaired automatically."
        }
    }
}

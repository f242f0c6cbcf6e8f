/// Damage at one offset of a segment, as ``SegmentScanner/classify(_:inLastSegment:findingResume:)``
/// found it: its kind, where it is, how long it is and where reading may resume. The error
/// texts for each kind are here, once.
struct SegmentDamage {
    enum Kind: Equatable {
        /// A member with a sound header of another format version (Format.md §2): neither a
        /// torn tail nor corruption; never cut off.
        case otherVersion(UInt16)
        /// Invalid bytes with a valid member after them, or in a segment that is not the last.
        case corrupt
        /// Invalid bytes at the end of the last segment with no valid member after them.
        case tornTail
    }

    var kind: Kind
    /// The segment, relative to the journal directory.
    var segment: String
    /// Where the invalid bytes begin.
    var offset: Int64
    /// How many bytes are invalid: to ``resume``, or to the end of the segment.
    var length: Int64
    /// The next valid member in the segment, where reading may resume; nil when none was
    /// found or none was looked for.
    var resume: Int64?
    /// Why the first invalid member was rejected.
    var reason: String

    /// The public value for a torn tail or corruption; nil for a member of another version.
    var damage: Damage? {
        switch kind {
        case .otherVersion: return nil
        case .corrupt: return Damage(kind: .corrupt, segment: segment, offset: offset, length: length, reason: reason)
        case .tornTail: return Damage(kind: .tornTail, segment: segment, offset: offset, length: length, reason: reason)
        }
    }

    /// The error for this damage, one text per kind, followed by what the caller does about it.
    /// - Parameters:
    ///   - intactRecords: how many records before it were read intact.
    ///   - consequence: the caller's policy in one sentence (a writer's "Nothing was changed.");
    ///     nil gives the reader's advice to run `accord verify`.
    func error(intactRecords: Int, consequence: String? = nil) -> SegmentError {
        switch kind {
        case .otherVersion(let version):
            let text = Self.otherVersionMessage(offset: offset, segment: segment, version: version)
            return SegmentError(.unsupportedVersion, consequence.map { text + " " + $0 } ?? text, path: segment, offset: offset)
        case .corrupt:
            let after = resume.map { " with a valid batch after it at byte \($0)" } ?? ""
            return SegmentError(
                .corrupt,
                "Damaged batch at byte \(offset) of '\(segment)' (\(reason))\(after); \(intactRecords) earlier records are intact. "
                    + (consequence ?? "Run 'accord verify' to see every damaged range."),
                path: segment, offset: offset)
        case .tornTail:
            return SegmentError(.tornTail, damage!.description, path: segment, offset: offset)
        }
    }

    /// The text for a member of another format version (Format.md §2).
    static func otherVersionMessage(offset: Int64, segment: String, version: UInt16) -> String {
        "The batch at byte \(offset) of '\(segment)' has format version \(version); this program reads version \(SegmentFormat.version) only. Use a newer 'accord'."
    }
}

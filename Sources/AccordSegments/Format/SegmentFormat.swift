/// Constants of the on-disk format. Each cites its section of `Journal/Format.md`.
public enum SegmentFormat {
    /// The format version this code writes and reads (Format.md §2).
    public static let version: UInt16 = 1
    /// The exact content of the `FORMAT` file for ``version`` (Format.md §2).
    public static let formatFileContent = "accord-journal 1\n"
    /// The most bytes of `FORMAT` a reader reads (Format.md §2, `MAX_FORMAT_FILE`); a longer
    /// file is not a journal's.
    public static let maxFormatFileBytes = 256
    /// Name of the version file at the root of a journal directory (Format.md §1).
    public static let formatFileName = "FORMAT"
    /// Name of the writer lock file (Format.md §1, §5).
    public static let lockFileName = "LOCK"
    /// Folder of segment files (Format.md §1, §3).
    public static let segmentsFolder = "segments"
    /// Folder where cut-off bytes are kept (Format.md §6).
    public static let quarantineFolder = "quarantine"
    /// Default size at which a segment is sealed and a new one begun, in bytes (Format.md §3).
    public static let defaultSegmentLimit: Int64 = 64 << 20
    /// Largest uncompressed batch, in bytes (Format.md §4).
    public static let maxBatchBytes = 64 << 20
    /// Largest single record, in bytes, without its newline (Format.md §4).
    public static let maxRecordBytes = 1 << 20
    /// Largest member a reader accepts, in bytes (Format.md §4 rule 5, `MAX_MEMBER`):
    /// 68,158,464 = 64 MiB + 1 MiB + 1 KiB, a bound on what a batch of ``maxBatchBytes`` can
    /// deflate to (stored blocks add 5 bytes per 65,535). A reader checks a header's
    /// `memberLength` against it before it allocates or reads the member; a member that declares
    /// more is not valid (damage, Format.md §6). Writers never produce one.
    public static let maxMemberBytes = maxBatchBytes + (maxBatchBytes >> 6) + 1024
    /// A batch smaller than this, in bytes uncompressed with every newline, is written by
    /// ``SegmentWriter`` as literals in one fixed-Huffman DEFLATE block, not compressed
    /// (Format.md §4, "Compression", `LITERALS_BELOW`; Decision 0025): deflating it would cost a
    /// single durable append more time than it saves bytes. Not checked by readers, to whom it is
    /// one valid DEFLATE stream like any other.
    public static let literalsBelow = 1024

    /// Segment file name for a segment number: eight decimal digits and `.gz` (Format.md §3).
    public static func segmentName(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".gz"
    }

    /// The segment number of a file name, or nil when the name is not a segment name.
    public static func segmentNumber(ofName name: String) -> Int? {
        let utf8 = Array(name.utf8)
        guard utf8.count == 11, name.hasSuffix(".gz") else { return nil }
        var value = 0
        for byte in utf8.prefix(8) {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value > 0 ? value : nil
    }
}

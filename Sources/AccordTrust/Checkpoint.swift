import AccordModel

/// A C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint; Trust.md §2.1): a log's origin, its size
/// and the RFC 6962 root of its first `size` leaves, as the text of a signed note.
///
/// The text is exactly three lines, each ending in `\n`: the origin, the size in decimal (no
/// sign, no leading zero), the root in base64 (44 characters). Accord writes no extension line
/// and its reader refuses one.
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin (Trust.md §2.1): for a feed, `accord/<partnership>/<site>`.
    public var origin: String
    /// The number of leaves (events of the feed, seq 1…size).
    public var size: Int
    /// The RFC 6962 root of the first `size` leaves (32 bytes).
    public var root: MerkleHash

    /// A checkpoint of `origin` at `size` with `root`.
    public init(origin: String, size: Int, root: MerkleHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The most digits of a checkpoint's size line (Trust.md §2.1, `MAX_SIZE_DIGITS`).
    public static let maxSizeDigits = 18

    /// The prefix of every feed's origin (Trust.md §2.1, `ORIGIN_PREFIX`).
    public static let originPrefix = "accord/"

    /// The origin of the feed of `site` in `partnership`: `accord/<partnership>/<site>`.
    public static func origin(partnership: String, site: SiteID) -> String {
        originPrefix + partnership + "/" + site.rawValue
    }

    /// The partnership and site of a feed's origin, or nil when `origin` is not
    /// `accord/<slug>/<slug>`.
    public static func feed(ofOrigin origin: String) -> (partnership: String, site: SiteID)? {
        let bytes = Array(origin.utf8)
        guard bytes.starts(with: Array(originPrefix.utf8)) else { return nil }
        let parts = bytes.dropFirst(originPrefix.utf8.count).split(separator: 0x2F, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let partnership = String(decoding: parts[0], as: UTF8.self)
        guard Slug.isValid(partnership), let site = try? SiteID(String(decoding: parts[1], as: UTF8.self)) else { return nil }
        return (partnership, site)
    }

    /// The checkpoint's text: `origin\nsize\nbase64(root)\n`.
    public var text: [UInt8] {
        Array((origin + "\n" + String(size) + "\n" + Base64.encode(root) + "\n").utf8)
    }

    /// Parses a checkpoint's text (a note's text, signatures already split off).
    /// - Throws: ``AccordError`` `.badInput` naming the line that is wrong.
    public init(text: [UInt8]) throws {
        guard text.last == 0x0A else {
            throw AccordError(.badInput, "The checkpoint's text does not end with a line feed (Trust.md §2.1).")
        }
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 3 else {
            throw AccordError(.badInput, "The checkpoint has \(lines.count) lines; it needs the origin, the size and the root (Trust.md §2.1).")
        }
        guard lines.count == 3 else {
            throw AccordError(.badInput, "The checkpoint has \(lines.count - 3) extension line\(lines.count == 4 ? "" : "s") after its root; Accord's checkpoints have none (Trust.md §2.1).")
        }
        guard !lines[0].isEmpty else {
            throw AccordError(.badInput, "Line 1 of the checkpoint (the origin) is empty (Trust.md §2.1).")
        }
        let digits = lines[1]
        guard !digits.isEmpty, digits.count <= Self.maxSizeDigits, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              digits.count == 1 || digits.first != 0x30, let size = Int(String(decoding: digits, as: UTF8.self))
        else {
            throw AccordError(.badInput, "Line 2 of the checkpoint is not a size in decimal without leading zeros (Trust.md §2.1).")
        }
        guard let root = Base64.decode(String(decoding: lines[2], as: UTF8.self)), root.count == 32,
              Base64.encode(root).utf8.elementsEqual(lines[2])
        else {
            throw AccordError(.badInput, "Line 3 of the checkpoint is not the base64 of a 32-byte root hash (Trust.md §2.1).")
        }
        origin = String(decoding: lines[0], as: UTF8.self)
        self.size = size
        self.root = root
    }
}

import AccordModel
import AccordSegments
import AccordStore
import Crypto

/// One problem found in an input file: where it is and what is wrong with it.
public struct ImportProblem: Sendable, CustomStringConvertible {
    /// The input file's path as given.
    public var file: String
    /// The 1-based line of the file (XML), or nil when the input has no useful line.
    public var line: Int?
    /// The item concerned, e.g. `transaction 3 of activity XI-IATI-EC_INTPA-2018/40697/0`.
    public var item: String
    /// What is wrong, one sentence.
    public var message: String

    public init(file: String, line: Int?, item: String, message: String) {
        self.file = file
        self.line = line
        self.item = item
        self.message = message
    }

    /// `FILE:LINE: ITEM: MESSAGE`, the form compilers use, so editors can jump to it.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(item.isEmpty ? "" : item + ": ")\(message)"
    }
}

/// What an import found and did, per file: printed as its summary.
public struct ImportReport: Sendable {
    public var file: String
    /// Items read, by kind (`activities`, `transactions`, `transactions of type 2`, `rows` …).
    public var counts: [(String, Int)] = []
    /// Events written now.
    public var new = 0
    /// Events whose source identity the journal already held (not written again).
    public var alreadyKnown = 0
    /// Items not imported, with the reason, by reason.
    public var skipped: [String: Int] = [:]
    /// Problems that refused the file (nothing of it was written).
    public var problems: [ImportProblem] = []
    /// Batches written.
    public var batches = 0

    public init(file: String) { self.file = file }

    public mutating func count(_ kind: String, _ n: Int = 1) {
        if let index = counts.firstIndex(where: { $0.0 == kind }) {
            counts[index].1 += n
        } else {
            counts.append((kind, n))
        }
    }

    public func count(of kind: String) -> Int { counts.first { $0.0 == kind }?.1 ?? 0 }

    /// A few lines for a terminal: counts, new, already known, skipped with reasons.
    public var summary: String {
        var lines = ["\(file): " + (counts.isEmpty ? "nothing read" : counts.map { "\($0.1) \($0.0)" }.joined(separator: ", "))]
        if problems.isEmpty {
            lines.append("  \(new) new events in \(batches) batch\(batches == 1 ? "" : "es"), \(alreadyKnown) already known")
        }
        for reason in skipped.keys.sorted() {
            lines.append("  skipped \(skipped[reason]!): \(reason)")
        }
        return lines.joined(separator: "\n")
    }
}

/// One event an import wants to write, with the identity of what it came from.
public struct ImportedEvent: Sendable {
    public var draft: EventDraft
    /// The source identity, also stored in the event's `data.source`.
    public var identity: String

    public init(draft: EventDraft, identity: String) {
        self.draft = draft
        self.identity = identity
    }
}

/// The source identities (`data.source`) of the events a journal holds (Journal/Import.md).
public enum SourceIndex {
    /// Reads every event once and collects each `data.source` text.
    /// - Throws: journal read errors (``SegmentError``, ``AccordError`` `.damaged`).
    public static func load(_ journal: EventJournal) throws -> Set<String> {
        var sources = Set<String>()
        var events = try journal.events()
        while let event = try events.next() {
            if case .string(let source)? = event.data[Catalogue.sourceField] { sources.insert(source) }
        }
        return sources
    }
}

/// Writes imported events: those whose identity is not yet known, in batches of whole groups
/// (an IATI activity, a CSV row), as they are handed over, so memory holds one batch at most.
public final class ImportWriter {
    /// At most this many events go into one batch (Journal/Import.md, "Batches").
    public static let maxEventsPerBatch = 10_000

    private let writer: EventWriter
    /// Identities the journal holds, and those written since.
    public private(set) var known: Set<String>
    public private(set) var new = 0
    public private(set) var alreadyKnown = 0
    public private(set) var batches = 0
    private var batch: [ImportedEvent] = []
    private var inBatch = Set<String>()

    public init(writer: EventWriter, known: Set<String>) {
        self.writer = writer
        self.known = known
    }

    /// Takes one group; writes the batch first if the group would not fit in it.
    /// - Throws: what ``EventWriter/append(_:expecting:now:)`` throws; batches written before
    ///   stay (each is whole), and importing the file again adds only the rest.
    public func add(_ group: [ImportedEvent]) throws {
        let fresh = group.filter { !known.contains($0.identity) && inBatch.insert($0.identity).inserted }
        alreadyKnown += group.count - fresh.count
        if batch.count + fresh.count > Self.maxEventsPerBatch { try flush() }
        batch += fresh
    }

    /// Writes what is left.
    public func flush() throws {
        guard !batch.isEmpty else { return }
        _ = try writer.append(batch.map(\.draft))
        for event in batch { known.insert(event.identity) }
        new += batch.count
        batches += 1
        batch = []
        inBatch = []
    }

    /// Writes `groups` and returns the counts: (new events, already known, batches).
    public static func write(_ groups: [[ImportedEvent]], to writer: EventWriter, known: inout Set<String>) throws -> (new: Int, known: Int, batches: Int) {
        let importer = ImportWriter(writer: writer, known: known)
        for group in groups { try importer.add(group) }
        try importer.flush()
        known = importer.known
        return (importer.new, importer.alreadyKnown, importer.batches)
    }
}

/// Identifiers for imported things: lower-case slugs (Format.md §7.1) derived from source text.
public enum ImportSlug {
    /// `text` as a slug: ASCII letters lower-cased, digits kept, every other run of characters a
    /// single dash; nil when nothing is left. Longer than 64 bytes: cut to 55 and ended with
    /// `-` and 8 hex digits of the SHA-256 of `text`, so that distinct long texts stay distinct.
    public static func make(_ text: String) -> String? {
        var out: [UInt8] = []
        var dash = false
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A:
                if dash, !out.isEmpty { out.append(0x2D) }
                dash = false
                out.append(byte + 0x20)
            case 0x61...0x7A, 0x30...0x39:
                if dash, !out.isEmpty { out.append(0x2D) }
                dash = false
                out.append(byte)
            default:
                dash = true
            }
        }
        guard !out.isEmpty else { return nil }
        if out.count > Slug.maxLength {
            var cut = Array(out.prefix(55))
            while cut.last == 0x2D { cut.removeLast() }
            return String(decoding: cut, as: UTF8.self) + "-" + hash8(text)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A readable slug of `text` made unique by 8 hex digits of the SHA-256 of `identity`.
    public static func unique(_ text: String, identity: String, fallback: String = "item") -> String {
        var base = Array((make(text) ?? fallback).utf8.prefix(55))
        while base.last == 0x2D { base.removeLast() }
        return String(decoding: base, as: UTF8.self) + "-" + hash8(identity)
    }

    static func hash8(_ text: String) -> String {
        String(Digest.sha256Hex(Array(text.utf8)).prefix(8))
    }
}

/// Text cleaned for a catalogue `text` field: runs of white space (including line breaks and
/// tabs) become one space, other control characters are dropped, and the ends are trimmed;
/// longer than 4,096 bytes, it is cut at a character boundary and ended with "…".
public func importText(_ raw: String) -> String? {
    // Most text is printable ASCII with single inner spaces: kept as it is, without the
    // Unicode property lookups below.
    var previousSpace = true
    var plain = raw.utf8.count <= 4096
    for byte in raw.utf8 where plain {
        if byte == 0x20 {
            if previousSpace { plain = false }
            previousSpace = true
        } else {
            plain = byte > 0x20 && byte < 0x7F
            previousSpace = false
        }
    }
    if plain, !raw.isEmpty, !previousSpace { return raw }
    var out = ""
    var space = false
    for scalar in raw.unicodeScalars {
        if scalar.properties.isWhitespace {
            space = true
            continue
        }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) { continue }
        if space, !out.isEmpty { out.unicodeScalars.append(" ") }
        space = false
        out.unicodeScalars.append(scalar)
    }
    guard !out.isEmpty else { return nil }
    if out.utf8.count > 4096 {
        var cut = ""
        for character in out {
            if cut.utf8.count + character.utf8.count > 4093 { break }
            cut.append(character)
        }
        out = cut + "…"
    }
    return out
}

/// An `xsd:decimal` lexical form (`[+-]?(digits[.digits]|.digits)`, as IATI `value` holds) in
/// the catalogue's decimal form: no `+`, no leading zeros, `.5` → `0.5`, `5.` → `5`; the
/// fraction's digits kept as written. Nil when it is not a decimal or exceeds 18 integer or
/// 9 fraction digits (``DecimalText``).
public func normalizedDecimal(_ raw: String) -> String? {
    var text = Substring(raw)
    var negative = false
    if text.first == "+" || text.first == "-" {
        negative = text.first == "-"
        text = text.dropFirst()
    }
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let integer = parts[0]
    let fraction = parts.count > 1 ? parts[1] : ""
    guard !(integer.isEmpty && fraction.isEmpty),
          integer.utf8.allSatisfy({ (0x30...0x39).contains($0) }), fraction.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    var digits = integer.drop { $0 == "0" }
    if digits.isEmpty { digits = "0" }
    var result = String(digits) + (fraction.isEmpty ? "" : "." + fraction)
    let isZero = result.utf8.allSatisfy { $0 == 0x30 || $0 == 0x2E }
    if negative, !isZero { result = "-" + result }
    return DecimalText.isValid(result, allowNegative: true) ? result : nil
}

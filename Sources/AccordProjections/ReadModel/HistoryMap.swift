import AccordModel
import AccordSegments
import AccordStore
import Foundation
import Glibc

/// A map from event id to one record of a state's per-event history — a funding's ledger, the
/// research outputs, the programme deliveries — that a read model (since layout 2) keeps in its
/// history file (Format.md §9.4.2) and reads only when something asks for it.
///
/// The map is a value: the entries of its **base** (extents of `cache/<name>.history` that a
/// loaded read model names, read once, on first use, and checked against their SHA-256) and of
/// its **overlay** (entries folded since, in memory; an overlay entry replaces a base entry with
/// the same key). Setting an entry never reads the base, so folding new events after a loaded
/// read model costs nothing of the history it covers; reading, counting or iterating reads it.
///
/// A base extent that fails its check is not trusted: the map takes its entries from a replay of
/// the journal up to what the read model covers instead, and the read model is removed so that
/// the next read rebuilds it (§9.4.4).
public struct HistoryMap<Value: ReadModelCodable & Codable & Equatable & Sendable>: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// Entries folded since the read model was loaded (or all of them, without one).
    var overlay: [String: Value]
    /// The entries kept in a history file, read lazily; nil when there are none.
    var base: HistoryBase<Value>?
    /// Entries folded before the last ``pack()``, in the order they were packed, encoded as an
    /// extent of the history file holds them (a key `text`, then the value; Format.md §9.4.2),
    /// so that a long fold keeps them in about half the memory until it writes them. An entry
    /// replaces an earlier packed one with the same key, and an ``overlay`` entry a packed one.
    var packed: [UInt8] = []
    /// How many entries ``packed`` holds.
    var packedCount = 0

    /// An empty map.
    public init() { overlay = [:] }

    /// A map holding `entries`, in memory.
    public init(_ entries: [String: Value]) { overlay = entries }

    /// A map of the literal's entries.
    public init(dictionaryLiteral elements: (String, Value)...) {
        overlay = Dictionary(elements, uniquingKeysWith: { $1 })
    }

    /// Every entry, the base read (and checked) first if it was not yet.
    /// - Complexity: O(entries) the first time the base is read, then O(overlay).
    public var entries: [String: Value] {
        guard base != nil || packedCount > 0 else { return overlay }
        var all = base?.entries() ?? [:]
        if packedCount > 0 { all.merge(unpacked()) { $1 } }
        if overlay.isEmpty { return all }
        return all.merging(overlay) { $1 }
    }

    /// The entry with `key`, or nil; setting one never reads the base.
    public subscript(key: String) -> Value? {
        get {
            if let value = overlay[key] { return value }
            if packedCount > 0, let value = unpacked()[key] { return value }
            return base?.entries()[key]
        }
        set {
            if let newValue {
                overlay[key] = newValue
            } else {
                // Removing an entry is not something the fold does; it takes the base in.
                var all = entries
                all[key] = nil
                self = HistoryMap(all)
            }
        }
    }

    /// The number of entries (reads the base).
    public var count: Int { entries.count }
    /// Whether there is no entry (reads the base unless the overlay has one).
    public var isEmpty: Bool { overlay.isEmpty && packedCount == 0 && (base?.entries().isEmpty ?? true) }
    /// The keys (event ids), in no order.
    public var keys: Dictionary<String, Value>.Keys { entries.keys }
    /// The values, in no order.
    public var values: Dictionary<String, Value>.Values { entries.values }

    /// Iterates every entry, in no order.
    public func makeIterator() -> Dictionary<String, Value>.Iterator { entries.makeIterator() }

    /// Entries held in memory as values (not packed), for tests of ``pack()``.
    package var unpackedCount: Int { overlay.count }

    /// Moves the overlay's entries into ``packed``, encoded, and empties the overlay: the same
    /// entries, in about half the memory. An entry that cannot be encoded (a text beyond
    /// `MAX_READMODEL_TEXT`) leaves the overlay as it was.
    ///
    /// The overlay is encoded apart, then appended to ``packed`` grown to exactly what it then
    /// holds: an array grown by appending keeps up to as much again free (and, while it grows,
    /// both its old and new storage).
    mutating func pack() {
        guard !overlay.isEmpty else { return }
        var out = ReadModelEncoder(collecting: [])
        do {
            for (key, value) in overlay {
                try out.text(key)
                try value.encode(to: &out)
            }
        } catch {
            return
        }
        let bytes = out.takeCollected()
        packed.reserveCapacity(packed.count + bytes.count)
        packed.append(contentsOf: bytes)
        packedCount += overlay.count
        overlay = [:]
    }

    /// The packed entries, decoded (a later one replacing an earlier one with the same key).
    private func unpacked() -> [String: Value] {
        var all: [String: Value] = [:]
        guard packedCount > 0 else { return all }
        all.reserveCapacity(packedCount)
        var input = ReadModelDecoder(bytes: packed)
        do {
            for _ in 0..<packedCount {
                let key = try input.text()
                all[key] = try Value(from: &input)
            }
        } catch {
            preconditionFailure("History entries packed in memory do not decode (\(error)).")
        }
        return all
    }

    /// The entries for which `isIncluded` holds, in memory.
    public func filter(_ isIncluded: ((key: String, value: Value)) throws -> Bool) rethrows -> HistoryMap<Value> {
        HistoryMap(try entries.filter(isIncluded))
    }
}

extension HistoryMap: Equatable {
    /// Equal when the entries are (the bases are read).
    public static func == (lhs: HistoryMap, rhs: HistoryMap) -> Bool { lhs.entries == rhs.entries }
}

extension HistoryMap: Codable {
    /// Encoded as the map of its entries, exactly as a `[String: Value]` (so the state's digest,
    /// §9.2, does not depend on where the entries are kept).
    public func encode(to encoder: any Encoder) throws { try entries.encode(to: encoder) }
    /// Decoded from a map of entries.
    public init(from decoder: any Decoder) throws { overlay = try [String: Value](from: decoder) }
}

extension HistoryMap {
    /// Writes the map to a read model of layout 2 (Format.md §9.4.2): the overlay's entries (all
    /// of them when the base is in another history file) appended to the history file as one new
    /// extent, then the `list<extent>` of the map in the read model.
    public func encode(to out: inout ReadModelEncoder) throws {
        guard let history = out.history else { throw ReadModelRejection("A history map can only be written with a history file.") }
        var extents: [HistoryExtent] = []
        if base == nil || (base?.file === history.continues && base?.file.isDamaged == false) {
            // The packed entries as they are, then the overlay's: an overlay entry comes after
            // a packed one with the same key, and so replaces it when read (§9.4.2).
            extents = base?.extents ?? []
            if packedCount > 0 || !overlay.isEmpty { extents.append(try history.append(packed: packed, count: packedCount, overlay)) }
        } else {
            let fresh = entries
            if !fresh.isEmpty { extents.append(try history.append(packed: [], count: 0, fresh)) }
        }
        try out.count(extents.count)
        for extent in extents { try extent.encode(to: &out) }
    }

    /// Reads the `list<extent>` of a map from a read model (layout 2 and later); the entries stay in the
    /// history file until asked for.
    /// - Parameters:
    ///   - fallback: where the entries are in a state folded from the journal, when an extent
    ///     turns out to be damaged.
    public init(from input: inout ReadModelDecoder, fallback: @escaping @Sendable (PartnershipState) -> HistoryMap<Value>) throws {
        overlay = [:]
        let count = try input.count(each: HistoryExtent.bytes)
        guard count > 0 else { return }
        guard let file = input.history else { throw ReadModelRejection("The read model names history extents but no history file.") }
        var extents: [HistoryExtent] = []
        extents.reserveCapacity(count)
        for _ in 0..<count {
            let at = input.offset
            let extent = try HistoryExtent(from: &input)
            guard extent.offset >= HistoryFileLayout.headerBytes, extent.length >= 0,
                  extent.offset <= file.size - extent.length, Int64(extent.count) * 4 <= extent.length
            else {
                throw ReadModelRejection("The history extent at byte \(at) lies outside the \(file.size) bytes of '\(file.relativePath)'.")
            }
            extents.append(extent)
        }
        base = HistoryBase(file: file, extents: extents, fallback: fallback)
    }
}

/// Where one write put a run of history entries: offset and length in the history file, how
/// many entries, and the SHA-256 of those bytes (Format.md §9.4.2 `extent`).
public struct HistoryExtent: Sendable, Equatable {
    /// Bytes of an extent in the read model: `u64` offset, `u64` length, `u32` count, 32 bytes.
    static let bytes = 8 + 8 + 4 + 32
    /// Where its first entry starts in the history file.
    public var offset: Int64
    /// Its length in bytes.
    public var length: Int64
    /// The entries in it.
    public var count: Int
    /// The SHA-256 of its bytes, kept inline (four words, the bytes in order): a rebuild's
    /// model holds one extent per map per chunk, tens of thousands at a million events, and an
    /// array each would be one more allocation each.
    private var digest: (UInt64, UInt64, UInt64, UInt64)

    /// The SHA-256 of its bytes (32 bytes).
    public var sha256: [UInt8] {
        get { withUnsafeBytes(of: digest) { Array($0) } }
        set {
            precondition(newValue.count == 32, "A SHA-256 is 32 bytes.")
            withUnsafeMutableBytes(of: &digest) { $0.copyBytes(from: newValue) }
        }
    }

    func encode(to out: inout ReadModelEncoder) throws {
        try out.u64(UInt64(offset))
        try out.u64(UInt64(length))
        try out.u32(UInt32(count))
        try withUnsafeBytes(of: digest) { try out.raw($0) }
    }

    init(offset: Int64, length: Int64, count: Int, sha256: [UInt8]) {
        (self.offset, self.length, self.count, self.digest) = (offset, length, count, (0, 0, 0, 0))
        self.sha256 = sha256
    }

    /// Equal when every field is.
    public static func == (a: HistoryExtent, b: HistoryExtent) -> Bool {
        a.offset == b.offset && a.length == b.length && a.count == b.count && a.digest == b.digest
    }

    init(from input: inout ReadModelDecoder) throws {
        let offset = try input.u64(), length = try input.u64(), count = try input.u32()
        guard offset <= UInt64(Int64.max), length <= UInt64(Int64.max) else {
            throw ReadModelRejection("A history extent ending at byte \(input.offset) has an offset or length beyond 2^63.")
        }
        self.init(offset: Int64(offset), length: Int64(length), count: Int(count), sha256: try input.raw(32))
    }
}

/// The constants of history files (Format.md §9.4.2).
public enum HistoryFileLayout {
    /// The first 8 bytes of a history file: `ACCORDRH`.
    public static let magic: [UInt8] = Array("ACCORDRH".utf8)
    /// Bytes of its identity, after the magic and the layout version.
    public static let identityBytes = 16
    /// Bytes before the first extent: magic, `u32` layout, identity.
    public static let headerBytes: Int64 = 8 + 4 + 16

    /// The history file of `Model`'s read model: `<name>.history`.
    public static func fileName<Model: PersistedProjection>(of model: Model.Type) -> String { model.readModelName + ".history" }
}

/// The entries a map keeps in a history file: its extents, read together on first use.
final class HistoryBase<Value: ReadModelCodable & Codable & Equatable & Sendable>: @unchecked Sendable {
    let file: HistoryFile
    let extents: [HistoryExtent]
    private let fallback: @Sendable (PartnershipState) -> HistoryMap<Value>
    private let lock = NSLock()
    private var cached: [String: Value]?

    init(file: HistoryFile, extents: [HistoryExtent], fallback: @escaping @Sendable (PartnershipState) -> HistoryMap<Value>) {
        self.file = file
        self.extents = extents
        self.fallback = fallback
    }

    /// The entries of every extent, later extents replacing earlier ones' entries with the same
    /// key; from a replay of the journal when an extent is damaged.
    func entries() -> [String: Value] {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        var all: [String: Value] = [:]
        do {
            for extent in extents {
                var input = ReadModelDecoder(fd: file.fd, from: extent.offset, to: extent.offset + extent.length)
                for _ in 0..<extent.count {
                    let key = try input.text()
                    all[key] = try Value(from: &input)
                }
                try input.finishExtent(sha256: extent.sha256)
            }
        } catch {
            all = fallback(file.replayed(because: "\(error)")).entries
        }
        cached = all
        return all
    }
}

/// An open history file, as a loaded read model names it: kept open so that the extents stay
/// readable even when a writer replaces the file; and, when an extent is damaged, the state
/// replayed from the journal up to what the read model covers.
final class HistoryFile: @unchecked Sendable {
    let fd: Int32
    let identity: [UInt8]
    let size: Int64
    let relativePath: String
    private let journal: EventJournal
    private let coverage: ReadModelCoverage
    private let summaryPath: String
    private let lock = NSLock()
    private var replay: PartnershipState?
    private(set) var isDamaged = false

    init(fd: Int32, identity: [UInt8], size: Int64, relativePath: String, journal: EventJournal, coverage: ReadModelCoverage, summaryPath: String) {
        (self.fd, self.identity, self.size, self.relativePath) = (fd, identity, size, relativePath)
        (self.journal, self.coverage, self.summaryPath) = (journal, coverage, summaryPath)
    }

    deinit { close(fd) }

    /// The state of every event up to the end of the covered batch, folded from the journal; the
    /// read model is removed, so that the next read rebuilds it.
    func replayed(because reason: String) -> PartnershipState {
        lock.lock()
        defer { lock.unlock() }
        if let replay { return replay }
        isDamaged = true
        unlink(summaryPath)
        FileHandle.standardError.write(Data("accord: note: the history file '\(relativePath)' is damaged (\(reason)); what was needed was folded from the journal, and the read model will be rebuilt.\n".utf8))
        var state = PartnershipState()
        do {
            var events = try journal.events()
            while let event = try events.next() {
                state.fold(event)
                if events.isLastOfBatch, events.nextPosition == coverage.end { break }
            }
        } catch {
            preconditionFailure("The journal at '\(journal.path)' cannot be read up to what its read model covered (\(error)); run 'accord verify'.")
        }
        replay = state
        return state
    }
}

/// Appends extents to a history file during one read-model write, holding the writers' lock.
public final class HistoryWriter {
    let fd: Int32
    let path: String
    let io: any SegmentIO
    /// The loaded file whose extents a map may keep naming (same identity), if any.
    let continues: HistoryFile?
    /// Where the next extent goes.
    private(set) var end: Int64

    init(fd: Int32, path: String, io: any SegmentIO, continues: HistoryFile?, end: Int64) {
        (self.fd, self.path, self.io, self.continues, self.end) = (fd, path, io, continues, end)
    }

    /// Appends `packed` (`count` entries already encoded, ``HistoryMap/pack()``) and then
    /// `entries` (key `text`, then the value) as one extent.
    func append<Value: ReadModelCodable>(packed: [UInt8], count: Int, _ entries: [String: Value]) throws -> HistoryExtent {
        var out = ReadModelEncoder(fd: fd, path: path, io: io, at: end, reserve: 1 << 16)
        try out.raw(packed)
        for (key, value) in entries {
            try out.text(key)
            try value.encode(to: &out)
        }
        let (length, sha256) = try out.finishExtent()
        let extent = HistoryExtent(offset: end, length: length, count: count + entries.count, sha256: sha256)
        end += length
        return extent
    }

    func sync() throws {
        guard io.sync(fd: fd) == 0 else { throw SegmentError(.io, "Cannot sync '\(path)'.", path: path) }
    }
}

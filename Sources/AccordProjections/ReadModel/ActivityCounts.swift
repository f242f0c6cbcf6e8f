import AccordModel
import Foundation
import Glibc

/// How many events each stakeholder appears in (``PartnershipState/activity``): a map from
/// stakeholder id to a count that a read model of layout 3 keeps as a `counts` value (Format.md
/// §9.4.2) — its entries sorted by the bytes of their keys — and decodes into a dictionary only
/// when something reads a count.
///
/// The map is a value: a **base** (the entries of a loaded read model, kept as the bytes read and
/// checked, decoded once on first read) and **added** counts (what the fold counted since; without
/// a base, every count). Counting never decodes the base, so folding new events after a loaded
/// read model costs nothing of the hundreds of thousands of counts it covers; reading, counting
/// or iterating decodes it.
///
/// ```swift
/// var counts: ActivityCounts = ["eib": 2]
/// counts.add("eib")
/// print(counts["eib"] ?? 0)  // 3
/// ```
public struct ActivityCounts: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// Without a base, every count; with one, what was counted since it was loaded.
    var added: [String: Int]
    /// The counts of a loaded read model, decoded lazily; nil when there are none.
    var base: ActivityBase?

    /// No counts.
    public init() { added = [:] }

    /// The counts `counts`, in memory.
    public init(_ counts: [String: Int]) { added = counts }

    /// The counts of the literal.
    public init(dictionaryLiteral elements: (String, Int)...) {
        added = Dictionary(elements, uniquingKeysWith: { $1 })
    }

    /// Every count, the base decoded first if it was not yet.
    /// - Complexity: O(entries) the first time the base is decoded, then O(added).
    public var entries: [String: Int] {
        guard let base else { return added }
        var all = base.entries()
        if added.isEmpty { return all }
        for (key, count) in added { all[key, default: 0] += count }
        return all
    }

    /// The count of `key`, or nil when it was never counted. Setting one decodes the base.
    public subscript(key: String) -> Int? {
        get {
            guard let base else { return added[key] }
            let counted = base.entries()[key]
            guard let extra = added[key] else { return counted }
            return (counted ?? 0) + extra
        }
        set {
            var all = entries
            all[key] = newValue
            self = ActivityCounts(all)
        }
    }

    /// Adds `count` to the count of `key` without decoding the base (what the fold does).
    /// - Parameters:
    ///   - key: the stakeholder id.
    ///   - count: what to add, 1 unless given.
    public mutating func add(_ key: String, _ count: Int = 1) { added[key, default: 0] += count }

    /// The number of stakeholders counted (decodes the base).
    public var count: Int { entries.count }
    /// Whether nothing is counted (the base is not decoded).
    public var isEmpty: Bool { added.isEmpty && (base?.count ?? 0) == 0 }

    /// Iterates every count, in no order.
    public func makeIterator() -> Dictionary<String, Int>.Iterator { entries.makeIterator() }
}

extension ActivityCounts: Equatable {
    /// Equal when the counts are (the bases are decoded).
    public static func == (lhs: ActivityCounts, rhs: ActivityCounts) -> Bool { lhs.entries == rhs.entries }
}

extension ActivityCounts: Codable {
    /// Encoded as the map of its counts, exactly as a `[String: Int]` (so the state's digest,
    /// §9.2, does not depend on where the counts are kept).
    public func encode(to encoder: any Encoder) throws { try entries.encode(to: encoder) }
    /// Decoded from a map of counts.
    public init(from decoder: any Decoder) throws { added = try [String: Int](from: decoder) }
}

extension ActivityCounts: ReadModelCodable {
    /// Writes the counts as a `counts` value (Format.md §9.4.2): `u32` n, then n pairs of a key
    /// `text` and an `i64`, keys in strictly increasing order of their bytes. A base with nothing
    /// added is written back as the bytes read; otherwise the base and the added counts are
    /// merged in one streamed pass, without decoding the base into a dictionary.
    /// - Throws: ``ReadModelRejection`` for a key beyond `MAX_READMODEL_TEXT`; write errors.
    public func encode(to out: inout ReadModelEncoder) throws {
        if let base, added.isEmpty {
            try out.count(base.count)
            try out.raw(base.bytes[...])
            return
        }
        let extra = SortedKeys(added)
        try extra.keys.withUnsafeBufferPointer { keys in
            guard let base else {
                try out.count(extra.entries.count)
                for entry in extra.entries { try Self.write(entry.key(in: keys), entry.count, to: &out) }
                return
            }
            // Two passes of one merge: the number of keys not in the base, then the entries.
            var fresh = 0
            base.merge(extra, keys) { _, _, inBase in if !inBase { fresh += 1 } }
            try out.count(base.count + fresh)
            var failure: (any Error)?
            base.merge(extra, keys) { key, count, _ in
                guard failure == nil else { return }
                do { try Self.write(key, count, to: &out) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    private static func write(_ key: UnsafeBufferPointer<UInt8>, _ count: Int, to out: inout ReadModelEncoder) throws {
        guard key.count <= ReadModelFile.maxTextBytes else {
            throw ReadModelRejection("A text of \(key.count) bytes exceeds the read model's limit of \(ReadModelFile.maxTextBytes).")
        }
        try out.u32(UInt32(key.count))
        try out.raw(key)
        try out.i64(Int64(count))
    }

    /// Reads a `counts` value, checking every key (UTF-8, within `MAX_READMODEL_TEXT`, strictly
    /// increasing by bytes) but keeping the entries as bytes until a count is read.
    /// - Throws: ``ReadModelRejection`` naming the byte offset of what is wrong.
    public init(from input: inout ReadModelDecoder) throws {
        let (bytes, count) = try input.counts()
        added = [:]
        if count > 0 { base = ActivityBase(bytes: bytes, count: count) }
    }
}

/// The order of two byte strings: unsigned bytes, a prefix first (negative, 0, positive).
func byteOrder(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
    let common = min(a.count, b.count)
    let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
    return order != 0 ? order : (a.count < b.count ? -1 : (a.count > b.count ? 1 : 0))
}

/// Counts sorted by the bytes of their keys, the keys in one buffer (no array per key: a full
/// write sorts hundreds of thousands of them).
struct SortedKeys {
    /// Where one key is in ``keys``, its count, and its first 16 bytes as two big-endian
    /// integers (zero-padded), so that most comparisons of a sort touch no key bytes.
    struct Entry {
        var high: UInt64
        var low: UInt64
        var offset: Int
        var length: Int
        var count: Int
        func key(in keys: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: keys[offset..<(offset + length)])
        }
    }

    /// Every key's bytes, back to back.
    var keys: [UInt8] = []
    /// The entries, in key order.
    var entries: [Entry] = []

    init(_ counts: [String: Int]) {
        keys.reserveCapacity(counts.count * 16)
        entries.reserveCapacity(counts.count)
        for (key, count) in counts {
            let offset = keys.count
            keys.append(contentsOf: key.utf8)
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 0..<16 {
                let byte = offset + index < keys.count ? UInt64(keys[offset + index]) : 0
                if index < 8 { high |= byte << (56 - 8 * UInt64(index)) } else { low |= byte << (56 - 8 * UInt64(index - 8)) }
            }
            entries.append(Entry(high: high, low: low, offset: offset, length: keys.count - offset, count: count))
        }
        keys.withUnsafeBufferPointer { all in
            entries.sort { a, b in
                if a.high != b.high { return a.high < b.high }
                if a.low != b.low { return a.low < b.low }
                return byteOrder(a.key(in: all), b.key(in: all)) < 0
            }
        }
    }
}

/// The counts of a loaded read model: the entries of its `counts` value as read (`u32` length,
/// key bytes, `i64` count, sorted by key), decoded into a dictionary on first read.
final class ActivityBase: @unchecked Sendable {
    /// The entries, as in the file (without the leading `u32` n).
    let bytes: [UInt8]
    /// How many.
    let count: Int
    private let lock = NSLock()
    private var cached: [String: Int]?

    init(bytes: [UInt8], count: Int) {
        self.bytes = bytes
        self.count = count
    }

    /// Calls `body` for each entry of `bytes` in order: where its key starts, its length, its count.
    private func forEach(_ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            var at = 0
            for _ in 0..<count {
                let length = Int(UInt32(littleEndian: UnsafeRawBufferPointer(all).loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                let key = UnsafeBufferPointer(rebasing: all[(at + 4)..<(at + 4 + length)])
                let value = Int64(littleEndian: UnsafeRawBufferPointer(all).loadUnaligned(fromByteOffset: at + 4 + length, as: Int64.self))
                body(key, Int(value))
                at += 4 + length + 8
            }
        }
    }

    /// The counts, decoded once (the keys were checked as UTF-8 when read).
    func entries() -> [String: Int] {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        var all: [String: Int] = [:]
        all.reserveCapacity(count)
        forEach { key, value in all[String(decoding: key, as: UTF8.self)] = value }
        cached = all
        return all
    }

    /// Merges the base with `extra` (no key twice) in key order: calls `body` with each key, its
    /// merged count, and whether the base has it.
    func merge(_ extra: SortedKeys, _ keys: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int, Bool) -> Void) {
        var next = 0
        let entries = extra.entries
        forEach { key, value in
            var value = value
            while next < entries.count {
                let order = byteOrder(entries[next].key(in: keys), key)
                if order > 0 { break }
                if order == 0 {
                    value += entries[next].count
                    next += 1
                    break
                }
                body(entries[next].key(in: keys), entries[next].count, false)
                next += 1
            }
            body(key, value, true)
        }
        while next < entries.count {
            body(entries[next].key(in: keys), entries[next].count, false)
            next += 1
        }
    }
}

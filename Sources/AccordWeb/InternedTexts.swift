import AccordModel
import AccordProjections

/// Texts kept once each, as bytes, and found by their bytes (never compared as Swift `String`):
/// a pool of bytes, each text's start in it, and an open-addressing table of their ids.
struct InternedTexts: Sendable {
    private(set) var pool: [UInt8] = []
    /// Text `i` is `pool[starts[i]..<starts[i + 1]]`.
    private(set) var starts: [Int] = [0]
    /// 0 is empty, else id + 1.
    private var slots: [UInt32] = []

    /// Texts kept.
    var count: Int { starts.count - 1 }

    /// No texts.
    init() {}

    /// The texts of `pool` that end at `ends` (text `i` is from the end of text `i − 1`, or 0,
    /// to `ends[i]`), as read from a file: each must be UTF-8, and no two the same bytes.
    /// - Throws: ``ReadModelRejection`` naming the text that fails.
    init(pool: [UInt8], ends: [UInt64]) throws {
        var starts = [Int]()
        starts.reserveCapacity(ends.count + 1)
        starts.append(0)
        for (i, end) in ends.enumerated() {
            guard end >= UInt64(starts[i]), end <= UInt64(pool.count) else {
                throw ReadModelRejection("Text \(i) of the index ends at \(end), outside its \(pool.count) bytes or before the text before it.")
            }
            starts.append(Int(end))
        }
        guard starts.last == pool.count else { throw ReadModelRejection("The index's texts do not end where their bytes end.") }
        for i in 0..<ends.count {
            let ok = pool.withUnsafeBufferPointer { all -> Bool in
                let text = UnsafeBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])
                var ascii = true
                for byte in text where byte >= 0x80 { ascii = false; break }
                return ascii || String(decoding: text, as: UTF8.self).utf8.elementsEqual(text)
            }
            guard ok else { throw ReadModelRejection("Text \(i) of the index is not UTF-8.") }
        }
        self.pool = pool
        self.starts = starts
        var capacity = 64
        while (count + 1) * 2 > capacity { capacity *= 2 }
        slots = [UInt32](repeating: 0, count: capacity)
        for id in 0..<UInt32(count) {
            guard place(id) else { throw ReadModelRejection("Text \(id) of the index is kept twice.") }
        }
    }

    func bytes(_ id: UInt32) -> ArraySlice<UInt8> { pool[starts[Int(id)]..<starts[Int(id) + 1]] }

    func string(_ id: UInt32) -> String { String(decoding: bytes(id), as: UTF8.self) }

    /// Whether text `a` sorts before text `b` as bytes.
    func precedes(_ a: UInt32, _ b: UInt32) -> Bool { bytes(a).lexicographicallyPrecedes(bytes(b)) }

    /// The id of `text`, if it is kept.
    func id(of text: String) -> UInt32? {
        let key = Array(text.utf8)
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Self.hash(key[...]) & mask
        while slots[slot] != 0 {
            if bytes(slots[slot] - 1).elementsEqual(key) { return slots[slot] - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The id of `text`, kept now if it was not.
    mutating func intern(_ text: String) -> UInt32 {
        if let id = id(of: text) { return id }
        let id = UInt32(count)
        pool.append(contentsOf: text.utf8)
        starts.append(pool.count)
        if (count + 1) * 2 > slots.count {
            slots = [UInt32](repeating: 0, count: max(64, slots.count * 2))
            for kept in 0..<UInt32(count) { place(kept) }
        } else {
            place(id)
        }
        return id
    }

    /// Places `id` in the table; false (and not placed) when a text of the same bytes is there.
    @discardableResult
    private mutating func place(_ id: UInt32) -> Bool {
        let mask = slots.count - 1
        let key = bytes(id)
        var slot = Self.hash(key) & mask
        while slots[slot] != 0 {
            if bytes(slots[slot] - 1).elementsEqual(key) { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = id + 1
        return true
    }

    private static func hash(_ key: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}

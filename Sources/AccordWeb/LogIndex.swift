import AccordModel
import AccordProjections
import AccordSegments

/// The log's index of every event (Journal/UI.md §8): fixed-width columns in flat arrays, one
/// row per event in journal order, with the texts it repeats (site, type, subject, actor, name
/// or title) interned once as bytes. No Swift `String` or class instance per event.
///
/// A row holds the event's id (32 bytes), its batch (an index into the batch table of segment
/// number and byte offset), its index within that batch, its sequence number, its recorded time
/// (the canonical text, at most ``timeWidth`` bytes, in a fixed slot), its hybrid logical clock
/// (for ``Stamp/isRecorded(before:)``), and the interned ids of
/// its site, type, subject, actor and label. ``order`` lists the rows newest first (the log's
/// order, ``WebJournal/newerFirst(_:_:)``); a hash table finds a row by event id.
///
/// Memory: ``bytesPerEvent`` per event, plus the batch table (12 bytes a batch) and each
/// distinct text once (its bytes, 8 bytes of offset and 8 of hash table).
///
/// It is kept in `cache/web.index` (``LogIndexFile``, Journal/UI.md §8.1) as its ``Columns``;
/// the id table is rebuilt when it is loaded (its hash is keyed with the process's seed).
///
/// Not thread-safe: ``WebJournal`` reads and extends it under its lock only.
struct LogIndex: Sendable {
    /// Bytes of a recorded time kept: the canonical form is 20 to 30 bytes (Format.md §7.1).
    static let timeWidth = 30
    /// Bytes each event costs in the columns, the order and the id table (at its fullest load,
    /// half of its slots used): id 32, batch 4, index in batch 4, sequence 8, time 30 + 1,
    /// clock 8 + 4, five text ids 20, order 4, id table 2 × 4.
    static let bytesPerEvent = 32 + 4 + 4 + 8 + timeWidth + 1 + 12 + 20 + 4 + 8
    /// The label column's value for an event without a name or title.
    static let noLabel = UInt32.max

    private(set) var texts = InternedTexts()
    private var ids: [UInt8] = []
    private var batchOf: [UInt32] = []
    private var inBatch: [UInt32] = []
    private var seqs: [UInt64] = []
    private var times: [UInt8] = []
    private var timeLengths: [UInt8] = []
    private var clockMilliseconds: [Int64] = []
    private var clockCounters: [UInt32] = []
    private(set) var sites: [UInt32] = []
    private(set) var types: [UInt32] = []
    private(set) var subjects: [UInt32] = []
    private var actors: [UInt32] = []
    private(set) var labels: [UInt32] = []
    private var batchSegments: [Int32] = []
    private var batchOffsets: [Int64] = []
    /// Rows, newest first.
    private(set) var order: [UInt32] = []
    /// Open addressing: 0 is empty, else row + 1.
    private var slots: [UInt32] = []
    /// Rows not yet placed in ``order`` (by ``settle()``).
    private var unsettled = 0

    /// Events indexed.
    var count: Int { seqs.count }

    /// No events.
    init() {}

    /// Adds `event`, the `index`-th of the batch at `position` (which must not precede the batches
    /// already indexed). Call ``settle()`` after a run of additions, before any query.
    mutating func add(_ event: Event, batch position: SegmentPosition, index: Int) {
        if batchSegments.last.map({ Int($0) != position.segment || batchOffsets.last! != position.offset }) ?? true {
            batchSegments.append(Int32(position.segment))
            batchOffsets.append(position.offset)
        }
        let row = UInt32(seqs.count)
        ids.append(contentsOf: Self.bytes(ofHex: event.id.hex) ?? [UInt8](repeating: 0, count: 32))
        batchOf.append(UInt32(batchSegments.count - 1))
        inBatch.append(UInt32(index))
        seqs.append(event.seq.rawValue)
        var time = Array(event.time.text.utf8.prefix(Self.timeWidth))
        timeLengths.append(UInt8(time.count))
        time.append(contentsOf: repeatElement(0, count: Self.timeWidth - time.count))
        times.append(contentsOf: time)
        clockMilliseconds.append(event.hlc.milliseconds)
        clockCounters.append(event.hlc.counter)
        sites.append(texts.intern(event.site.rawValue))
        types.append(texts.intern(event.type.rawValue))
        subjects.append(texts.intern(event.subject.description))
        actors.append(texts.intern(event.actor))
        labels.append(WebJournal.label(of: event).map { texts.intern($0) } ?? Self.noLabel)
        unsettled += 1
        if (seqs.count + 1) * 2 > slots.count { rehash(capacity: max(1024, slots.count * 2)) } else { insertID(row) }
    }

    /// Places the rows added since the last call in ``order``: sorts them, then merges them with
    /// the rows already ordered (back-dated events from a sync land among older ones).
    mutating func settle() {
        guard unsettled > 0 else { return }
        var fresh = (UInt32(count - unsettled)..<UInt32(count)).map { $0 }
        unsettled = 0
        let index = self
        fresh.sort { index.newer($0, than: $1) }
        if order.isEmpty { order = fresh; return }
        var merged: [UInt32] = []
        merged.reserveCapacity(order.count + fresh.count)
        var (i, j) = (0, 0)
        while i < order.count, j < fresh.count {
            if index.newer(fresh[j], than: order[i]) { merged.append(fresh[j]); j += 1 } else { merged.append(order[i]); i += 1 }
        }
        merged.append(contentsOf: order[i...])
        merged.append(contentsOf: fresh[j...])
        order = merged
    }

    /// The log's order: newer recorded time (bytes) first, then site (bytes, greater first), then
    /// greater sequence number — ``WebJournal/newerFirst(_:_:)`` on rows.
    func newer(_ a: UInt32, than b: UInt32) -> Bool {
        let c = compareTimes(Int(a), Int(b))
        if c != 0 { return c > 0 }
        if sites[Int(a)] != sites[Int(b)] { return texts.precedes(sites[Int(b)], sites[Int(a)]) }
        return seqs[Int(a)] > seqs[Int(b)]
    }

    /// Compares two rows' recorded times as bytes: negative, zero or positive.
    private func compareTimes(_ a: Int, _ b: Int) -> Int {
        let (la, lb) = (Int(timeLengths[a]), Int(timeLengths[b]))
        return times.withUnsafeBufferPointer { t -> Int in
            for k in 0..<min(la, lb) {
                let (x, y) = (t[a * Self.timeWidth + k], t[b * Self.timeWidth + k])
                if x != y { return x < y ? -1 : 1 }
            }
            return la - lb
        }
    }

    /// Whether the row's recorded date (its first 10 bytes) is at least `from` and at most `to`,
    /// compared as bytes (as ``EventPages/Filter/accepts(_:)``).
    func dayWithin(_ row: Int, from: [UInt8]?, to: [UInt8]?) -> Bool {
        let length = min(10, Int(timeLengths[row]))
        let day = times[(row * Self.timeWidth)..<(row * Self.timeWidth + length)]
        if let from, day.lexicographicallyPrecedes(from) { return false }
        if let to, to.lexicographicallyPrecedes(day) { return false }
        return true
    }

    /// Whether the row's event was recorded before the event of `stamp`
    /// (``Stamp/isRecorded(before:)``: clock, then site as bytes, then sequence number).
    func isRecorded(_ row: Int, before stamp: Stamp) -> Bool {
        if clockMilliseconds[row] != stamp.milliseconds { return clockMilliseconds[row] < stamp.milliseconds }
        if clockCounters[row] != stamp.counter { return clockCounters[row] < stamp.counter }
        let site = texts.bytes(sites[row])
        if !site.elementsEqual(stamp.site.utf8) { return site.lexicographicallyPrecedes(stamp.site.utf8) }
        return seqs[row] < stamp.seq
    }

    /// The row of the event with `id` (64 lowercase hex digits), or nil.
    func row(ofHex id: String) -> Int? {
        guard let key = Self.bytes(ofHex: id), !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = hash(key[...]) & mask
        while slots[slot] != 0 {
            let row = Int(slots[slot] - 1)
            if ids[(row * 32)..<(row * 32 + 32)].elementsEqual(key) { return row }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Where the row's event is: the start of its batch and its index within it.
    func position(of row: Int) -> (batch: SegmentPosition, index: Int) {
        let batch = Int(batchOf[row])
        return (SegmentPosition(segment: Int(batchSegments[batch]), offset: batchOffsets[batch]), Int(inBatch[row]))
    }

    /// The row's summary, for a page.
    func summary(_ row: Int) -> WebJournal.Summary {
        let time = times[(row * Self.timeWidth)..<(row * Self.timeWidth + Int(timeLengths[row]))]
        let id = ids[(row * 32)..<(row * 32 + 32)]
        return WebJournal.Summary(
            id: Self.hex(id), site: texts.string(sites[row]), seq: seqs[row], time: String(decoding: time, as: UTF8.self),
            type: texts.string(types[row]), subject: texts.string(subjects[row]), actor: texts.string(actors[row]),
            label: labels[row] == Self.noLabel ? nil : texts.string(labels[row]))
    }

    // MARK: The columns as a whole (the index file)

    /// Every column, as kept in the index file (``LogIndexFile``): row columns of ``count``
    /// values each (`ids` and `times` ``timeWidth`` and 32 bytes a row), batch columns of one
    /// value a batch, and ``order``.
    struct Columns: Sendable {
        var ids: [UInt8] = []
        var batchOf: [UInt32] = []
        var inBatch: [UInt32] = []
        var seqs: [UInt64] = []
        var times: [UInt8] = []
        var timeLengths: [UInt8] = []
        var clockMilliseconds: [Int64] = []
        var clockCounters: [UInt32] = []
        var sites: [UInt32] = []
        var types: [UInt32] = []
        var subjects: [UInt32] = []
        var actors: [UInt32] = []
        var labels: [UInt32] = []
        var batchSegments: [Int32] = []
        var batchOffsets: [Int64] = []
        var order: [UInt32] = []
    }

    /// The columns (no copy: the arrays are shared until one side changes). Only a settled index
    /// (``settle()`` called after the last ``add(_:batch:index:)``) is kept in a file.
    var columns: Columns {
        precondition(unsettled == 0, "only a settled index is kept")
        return Columns(ids: ids, batchOf: batchOf, inBatch: inBatch, seqs: seqs, times: times, timeLengths: timeLengths,
                       clockMilliseconds: clockMilliseconds, clockCounters: clockCounters, sites: sites, types: types,
                       subjects: subjects, actors: actors, labels: labels, batchSegments: batchSegments,
                       batchOffsets: batchOffsets, order: order)
    }

    /// An index of `columns` and `texts` as read from a file, checked as a whole: every row
    /// column of one length; each row's batch the one of the row before or the next, starting
    /// at 0 and ending at the last; its index within the batch counting from 0; the batches'
    /// positions increasing; each time's length at most ``timeWidth``; each text id one of
    /// `texts` (a label also ``noLabel``); ``order`` every row once, newest first. The id table is
    /// built anew.
    /// - Throws: ``ReadModelRejection`` naming the column and row that fails.
    init(texts: InternedTexts, columns c: Columns) throws {
        let n = c.seqs.count
        let lengths: [Int] = [c.batchOf.count, c.inBatch.count, c.timeLengths.count, c.clockMilliseconds.count, c.clockCounters.count,
                              c.sites.count, c.types.count, c.subjects.count, c.actors.count, c.labels.count, c.order.count]
        guard n <= Int(UInt32.max) - 1, c.ids.count == n * 32, c.times.count == n * Self.timeWidth,
              lengths.allSatisfy({ $0 == n }), c.batchSegments.count == c.batchOffsets.count
        else { throw ReadModelRejection("The index's columns do not all hold \(n) rows.") }
        let batches = c.batchSegments.count
        guard (n == 0) == (batches == 0) else { throw ReadModelRejection("The index has \(n) rows but \(batches) batches.") }
        for b in 1..<max(1, batches) {
            let (s0, s1) = (c.batchSegments[b - 1], c.batchSegments[b])
            guard s0 >= 0, s0 < s1 || (s0 == s1 && c.batchOffsets[b - 1] < c.batchOffsets[b]) else {
                throw ReadModelRejection("Batch \(b) of the index does not start after the batch before it.")
            }
        }
        let textCount = UInt32(texts.count)
        for r in 0..<n {
            let fresh = r == 0 || c.batchOf[r] != c.batchOf[r - 1]
            guard fresh ? c.batchOf[r] == (r == 0 ? 0 : c.batchOf[r - 1] + 1) && c.inBatch[r] == 0 : c.inBatch[r] == c.inBatch[r - 1] + 1 else {
                throw ReadModelRejection("Row \(r) of the index is not in its batch's order (batch \(c.batchOf[r]), index \(c.inBatch[r])).")
            }
            guard c.timeLengths[r] <= Self.timeWidth else { throw ReadModelRejection("Row \(r) of the index has a time of \(c.timeLengths[r]) bytes.") }
            guard c.sites[r] < textCount, c.types[r] < textCount, c.subjects[r] < textCount, c.actors[r] < textCount,
                  c.labels[r] < textCount || c.labels[r] == Self.noLabel
            else { throw ReadModelRejection("Row \(r) of the index names a text beyond the \(textCount) kept.") }
        }
        guard n == 0 || Int(c.batchOf[n - 1]) == batches - 1 else { throw ReadModelRejection("The index's last row is not in its last batch.") }
        self.texts = texts
        (ids, batchOf, inBatch, seqs, times, timeLengths) = (c.ids, c.batchOf, c.inBatch, c.seqs, c.times, c.timeLengths)
        (clockMilliseconds, clockCounters, sites, types, subjects, actors, labels) = (c.clockMilliseconds, c.clockCounters, c.sites, c.types, c.subjects, c.actors, c.labels)
        (batchSegments, batchOffsets) = (c.batchSegments, c.batchOffsets)
        var seen = [Bool](repeating: false, count: n)
        for (at, row) in c.order.enumerated() {
            guard Int(row) < n, !seen[Int(row)] else { throw ReadModelRejection("The index's order names row \(row) twice or beyond its rows.") }
            seen[Int(row)] = true
            if at > 0, newer(row, than: c.order[at - 1]) {
                throw ReadModelRejection("The index's order is not newest first at its entry \(at).")
            }
        }
        order = c.order
        var capacity = 1024
        while (n + 1) * 2 > capacity { capacity *= 2 }
        rehash(capacity: capacity)
    }

    // MARK: The id table

    private func hash(_ key: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    private mutating func insertID(_ row: UInt32) {
        let mask = slots.count - 1
        let start = Int(row) * 32
        var slot = hash(ids[start..<(start + 32)]) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = row + 1
    }

    private mutating func rehash(capacity: Int) {
        slots = [UInt32](repeating: 0, count: capacity)
        for row in 0..<UInt32(count) { insertID(row) }
    }

    // MARK: Hex

    /// The 32 bytes of 64 lowercase hex digits, or nil.
    static func bytes(ofHex hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        func value(_ d: UInt8) -> UInt8? {
            switch d {
            case 0x30...0x39: d - 0x30
            case 0x61...0x66: d - 0x61 + 10
            default: nil
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = value(digits[2 * i]), let low = value(digits[2 * i + 1]) else { return nil }
            out[i] = high << 4 | low
        }
        return out
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

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

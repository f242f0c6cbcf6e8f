import AccordModel
import AccordProjections
import AccordSegments
import AccordStore

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
/// Each row also keeps where its record starts in its inflated batch, and the batch table keeps
/// each batch's framing, first row and — for a batch inflating to more than
/// ``AccessPointOptions/defaultMinimumBatchBytes`` — its access points, so that an event page
/// inflates only from the point before a record to its end (Journal/UI.md §8).
///
/// Memory: ``bytesPerEvent`` per event, plus the batch table (``bytesPerBatch`` a batch), the
/// access points (at most ``accessPointBytesPerMiB`` per MiB of large batch) and each distinct
/// text once (its bytes, 8 bytes of offset and 8 of hash table).
///
/// Not thread-safe: ``WebJournal`` reads and extends it under its lock only.
struct LogIndex: Sendable {
    /// Bytes of a recorded time kept: the canonical form is 20 to 30 bytes (Format.md §7.1).
    static let timeWidth = 30
    /// Bytes each event costs in the columns, the order and the id table (at its fullest load,
    /// half of its slots used): id 32, batch 4, index in batch 4, record start 4, sequence 8,
    /// time 30 + 1, clock 8 + 4, five text ids 20, order 4, id table 2 × 4.
    static let bytesPerEvent = 32 + 4 + 4 + 4 + 8 + timeWidth + 1 + 12 + 20 + 4 + 8
    /// Bytes each batch costs in the batch table: segment 4, offset 8, framing 32 (three `Int`s
    /// and a CRC-32, ``BatchFraming``'s stride), first row 4.
    static let bytesPerBatch = 4 + 8 + MemoryLayout<BatchFraming>.stride + 4
    /// The most bytes of access points kept per MiB of a large batch (one window and its
    /// numbers per ``AccessPointOptions/defaultSpan``; Journal/UI.md §7).
    static let accessPointBytesPerMiB = (AccessPoint.windowBytes + 40) * ((1 << 20) / AccessPointOptions.defaultSpan)
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
    private var recordStarts: [UInt32] = []
    private var batchSegments: [Int32] = []
    private var batchOffsets: [Int64] = []
    private var batchFramings: [BatchFraming] = []
    private var batchFirstRows: [UInt32] = []
    /// The access points of large batches, by batch.
    private var batchPoints: [UInt32: [AccessPoint]] = [:]
    /// Rows, newest first.
    private(set) var order: [UInt32] = []
    /// Open addressing: 0 is empty, else row + 1.
    private var slots: [UInt32] = []
    /// Rows not yet placed in ``order`` (by ``settle()``).
    private var unsettled = 0

    /// Events indexed.
    var count: Int { seqs.count }

    /// Where a batch is and what the index pass found of it.
    struct BatchPlace: Sendable {
        var position: SegmentPosition
        var framing: BatchFraming
        var points: [AccessPoint]
    }

    /// Adds `event`, the `index`-th of the batch at `batch.position` (which must not precede the
    /// batches already indexed), whose record lies at `record` in the inflated batch. Call
    /// ``settle()`` after a run of additions, before any query.
    mutating func add(_ event: Event, batch: BatchPlace, index: Int, record: Range<Int>) {
        let position = batch.position
        if batchSegments.last.map({ Int($0) != position.segment || batchOffsets.last! != position.offset }) ?? true {
            if !batch.points.isEmpty { batchPoints[UInt32(batchSegments.count)] = batch.points }
            batchSegments.append(Int32(position.segment))
            batchOffsets.append(position.offset)
            batchFramings.append(batch.framing)
            batchFirstRows.append(UInt32(seqs.count))
        }
        recordStarts.append(UInt32(record.lowerBound))
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

    /// How to read the row's record from its batch's access points: the batch's framing and
    /// points, and the record (its index, byte range and id) — nil when its batch has no points
    /// (read it whole) or the index does not know the record's end.
    func access(of row: Int) -> (framing: BatchFraming, points: [AccessPoint], record: EventJournal.IndexedRecord)? {
        let batch = Int(batchOf[row])
        guard let points = batchPoints[UInt32(batch)], let id = try? EventID(hex: Self.hex(ids[(row * 32)..<(row * 32 + 32)])) else { return nil }
        let framing = batchFramings[batch]
        let index = Int(inBatch[row])
        let end: Int
        if index == framing.recordCount - 1 {
            end = framing.inflatedSize - 1
        } else if row + 1 < count, batchOf[row + 1] == UInt32(batch), inBatch[row + 1] == UInt32(index + 1) {
            end = Int(recordStarts[row + 1]) - 1
        } else {
            return nil
        }
        let start = Int(recordStarts[row])
        guard start <= end else { return nil }
        return (framing, points, EventJournal.IndexedRecord(index: index, range: start..<end, id: id))
    }

    /// The row of the last record of the row's batch, when the index holds it.
    func lastRow(ofBatchOf row: Int) -> Int? {
        let batch = Int(batchOf[row])
        let last = Int(batchFirstRows[batch]) + batchFramings[batch].recordCount - 1
        guard last < count, batchOf[last] == UInt32(batch), Int(inBatch[last]) == batchFramings[batch].recordCount - 1 else { return nil }
        return last
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
    private var pool: [UInt8] = []
    /// Text `i` is `pool[starts[i]..<starts[i + 1]]`.
    private var starts: [Int] = [0]
    /// 0 is empty, else id + 1.
    private var slots: [UInt32] = []

    /// Texts kept.
    var count: Int { starts.count - 1 }

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

    private mutating func place(_ id: UInt32) {
        let mask = slots.count - 1
        var slot = Self.hash(bytes(id)) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = id + 1
    }

    private static func hash(_ key: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}

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
/// It is kept in `cache/web.index` (``LogIndexFile``, Journal/UI.md §8.1) as its ``Columns``;
/// the id table is rebuilt when it is loaded (its hash is keyed with the process's seed).
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

    /// No events.
    init() {}

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
        /// Where each row's record starts in its inflated batch.
        var recordStarts: [UInt32] = []
        /// Each batch's framing as read when indexed.
        var batchFramings: [BatchFraming] = []
        /// The access points of the large batches, by batch number.
        var batchPoints: [UInt32: [AccessPoint]] = [:]
    }

    /// The columns (no copy: the arrays are shared until one side changes). Only a settled index
    /// (``settle()`` called after the last ``add(_:batch:index:)``) is kept in a file.
    var columns: Columns {
        precondition(unsettled == 0, "only a settled index is kept")
        return Columns(ids: ids, batchOf: batchOf, inBatch: inBatch, seqs: seqs, times: times, timeLengths: timeLengths,
                       clockMilliseconds: clockMilliseconds, clockCounters: clockCounters, sites: sites, types: types,
                       subjects: subjects, actors: actors, labels: labels, batchSegments: batchSegments,
                       batchOffsets: batchOffsets, order: order, recordStarts: recordStarts,
                       batchFramings: batchFramings, batchPoints: batchPoints)
    }

    /// An index of `columns` and `texts` as read from a file, checked as a whole: every row
    /// column of one length; each row's batch the one of the row before or the next, starting
    /// at 0 and ending at the last; its index within the batch counting from 0; the batches'
    /// positions increasing; each time's length at most ``timeWidth``; each text id one of
    /// `texts` (a label also ``noLabel``); ``order`` every row once, newest first; each batch's
    /// framing possible and its rows exactly its records, their starts increasing from 0 within
    /// its inflated size; each access point within its batch, in order, with its whole window.
    /// The id table is built anew.
    /// - Throws: ``ReadModelRejection`` naming the column and row that fails.
    init(texts: InternedTexts, columns c: Columns) throws {
        let n = c.seqs.count
        let lengths: [Int] = [c.batchOf.count, c.inBatch.count, c.timeLengths.count, c.clockMilliseconds.count, c.clockCounters.count,
                              c.sites.count, c.types.count, c.subjects.count, c.actors.count, c.labels.count, c.order.count]
        guard n <= Int(UInt32.max) - 1, c.ids.count == n * 32, c.times.count == n * Self.timeWidth,
              lengths.allSatisfy({ $0 == n }), c.recordStarts.count == n, c.batchSegments.count == c.batchOffsets.count,
              c.batchFramings.count == c.batchSegments.count
        else { throw ReadModelRejection("The index's columns do not all hold \(n) rows.") }
        let batches = c.batchSegments.count
        guard (n == 0) == (batches == 0) else { throw ReadModelRejection("The index has \(n) rows but \(batches) batches.") }
        for b in 1..<max(1, batches) {
            let (s0, s1) = (c.batchSegments[b - 1], c.batchSegments[b])
            guard s0 >= 0, s0 < s1 || (s0 == s1 && c.batchOffsets[b - 1] < c.batchOffsets[b]) else {
                throw ReadModelRejection("Batch \(b) of the index does not start after the batch before it.")
            }
        }
        for (b, framing) in c.batchFramings.enumerated() where !framing.isPossible {
            throw ReadModelRejection("Batch \(b) of the index has a framing no batch can have (\(framing.memberLength) bytes, \(framing.recordCount) records, \(framing.inflatedSize) inflated).")
        }
        let textCount = UInt32(texts.count)
        var firstRows: [UInt32] = []
        firstRows.reserveCapacity(batches + max(1_024, batches / 16))
        for r in 0..<n {
            let fresh = r == 0 || c.batchOf[r] != c.batchOf[r - 1]
            guard fresh ? c.batchOf[r] == (r == 0 ? 0 : c.batchOf[r - 1] + 1) && c.inBatch[r] == 0 : c.inBatch[r] == c.inBatch[r - 1] + 1 else {
                throw ReadModelRejection("Row \(r) of the index is not in its batch's order (batch \(c.batchOf[r]), index \(c.inBatch[r])).")
            }
            let framing = c.batchFramings[Int(c.batchOf[r])]
            let last = r == n - 1 || c.batchOf[r + 1] != c.batchOf[r]
            guard Int(c.inBatch[r]) < framing.recordCount, !last || Int(c.inBatch[r]) == framing.recordCount - 1,
                  fresh ? c.recordStarts[r] == 0 : c.recordStarts[r] > c.recordStarts[r - 1],
                  Int(c.recordStarts[r]) < framing.inflatedSize
            else { throw ReadModelRejection("Row \(r) of the index does not fit its batch's framing (index \(c.inBatch[r]) of \(framing.recordCount), record at byte \(c.recordStarts[r]) of \(framing.inflatedSize)).") }
            if fresh { firstRows.append(UInt32(r)) }
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
        for (b, points) in c.batchPoints {
            guard Int(b) < batches else { throw ReadModelRejection("The index keeps access points of batch \(b) of \(batches).") }
            let framing = c.batchFramings[Int(b)]
            for (i, point) in points.enumerated() {
                guard point.bits >= 0, point.bits < 8, point.compressedOffset >= (point.bits > 0 ? 1 : 0),
                      point.compressedOffset <= framing.deflateLength,
                      point.uncompressedOffset > (i == 0 ? 0 : points[i - 1].uncompressedOffset),
                      point.uncompressedOffset <= framing.inflatedSize,
                      point.window.count == min(point.uncompressedOffset, AccessPoint.windowBytes)
                else { throw ReadModelRejection("Access point \(i) of batch \(b) of the index lies outside its batch or out of order.") }
            }
        }
        (recordStarts, batchFramings, batchPoints, batchFirstRows) = (c.recordStarts, c.batchFramings, c.batchPoints, firstRows)
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

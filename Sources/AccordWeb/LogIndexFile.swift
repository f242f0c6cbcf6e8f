import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import Dispatch
import Glibc
import Synchronization

/// The log's index and the facts of the web view kept in `cache/web.index` (Journal/UI.md §8.1),
/// so that a restarted `accord ui` reads only the batches appended after it.
///
/// The file follows the read model's rules (Format.md §9.4): its own magic and layout version,
/// the journal's partnership and site, the last batch it covers (checked against the journal
/// before anything else is read), then typed sections — each a name, a byte length and its
/// values — and the SHA-256 of every byte before it. It is written and read through the read
/// model's encoder and decoder, atomically (a temporary file, `fdatasync`, `rename`). A
/// damaged, truncated, stale, foreign or other-version file is ignored (the reason returned)
/// and the index rebuilt from the journal; nothing of it is used before every check passed.
///
/// A reader skips sections whose names it does not know (their bytes are still checksummed)
/// and refuses a file that lacks one it needs, so that a later Accord can add columns.
struct LogIndexFile: Sendable {
    /// The file's name in the journal's `cache/` folder.
    static let fileName = "web.index"
    /// The first 8 bytes: `ACCORDWI`.
    static let magic: [UInt8] = Array("ACCORDWI".utf8)
    /// The version of the layout (Journal/UI.md §8.1); a file of another version is rebuilt.
    static let layoutVersion: UInt32 = 1
    /// `MAX_WEB_INDEX_FILE`: the largest index file written or read (4 GiB, some 35 million
    /// events); a larger index is kept in memory only.
    static let maxFileBytes: Int64 = 4 << 30
    /// `WEB_INDEX_REFRESH_ROWS`: the file is written again once at least this many rows…
    static let refreshRows = 10_000
    /// `WEB_INDEX_REFRESH_SHARE`: …and at least 1/20 of the rows it holds were added since it
    /// was written or loaded (at 1M events, every 50,000 events).
    static let refreshShare = 20
    /// The trailer: the SHA-256 of every byte before it.
    static let trailerBytes = ReadModelFile.trailerBytes

    let journal: EventJournal
    /// The I/O the writer uses (the process default: crash points in debug builds).
    var io: any SegmentIO = SegmentIOs.processDefault

    init(journal: EventJournal) { self.journal = journal }

    /// The file's path.
    var path: String { journal.path + "/" + ReadModelFile.folder + "/" + Self.fileName }

    /// The file's path relative to the journal.
    static let relativePath = ReadModelFile.folder + "/" + fileName

    /// An index and facts as loaded, covering the journal up to `end`.
    struct Loaded: Sendable {
        var index: LogIndex
        var facts: WebJournal.Facts
        /// Where the batch after the last one indexed starts: where extending begins.
        var end: SegmentPosition
    }

    /// Whether the file should be written again: it holds `inFile` rows (nil: none was written
    /// or loaded by this process) and the index now has `rows`.
    static func isDue(rows: Int, inFile: Int?) -> Bool {
        guard rows > 0 else { return false }
        guard let inFile else { return true }
        return rows - inFile >= max(refreshRows, inFile / refreshShare)
    }

    // MARK: Sections

    /// The sections of layout 1, in the order written; each fixed-width column's length is its
    /// count times its width (Journal/UI.md §8.1).
    enum Section: String, CaseIterable {
        case textEnds = "texts.ends"
        case textBytes = "texts.bytes"
        case batchSegments = "batches.segment"
        case batchOffsets = "batches.offset"
        case ids = "rows.id"
        case batchOf = "rows.batch"
        case inBatch = "rows.index"
        case seqs = "rows.seq"
        case times = "rows.time"
        case timeLengths = "rows.time-length"
        case clockMilliseconds = "rows.hlc-ms"
        case clockCounters = "rows.hlc-counter"
        case sites = "rows.site"
        case types = "rows.type"
        case subjects = "rows.subject"
        case actors = "rows.actor"
        case labels = "rows.label"
        case order = "order"
        case recordStarts = "rows.record-start"
        case memberLengths = "batches.member-length"
        case recordCounts = "batches.record-count"
        case checksums = "batches.crc32"
        case inflatedSizes = "batches.isize"
        case pointBatches = "points.batch"
        case pointBits = "points.bits"
        case pointCompressedOffsets = "points.compressed-offset"
        case pointUncompressedOffsets = "points.uncompressed-offset"
        case pointWindows = "points.window"
        case lastTimes = "facts.last-times"
        case fundingTitles = "facts.funding-titles"
    }

    // MARK: Writing

    /// Writes `index` and `facts`, covering the journal up to `end`, atomically.
    /// - Throws: ``SegmentError`` when a step fails (the former file is then untouched);
    ///   ``ReadModelRejection`` when the file would exceed ``maxFileBytes`` or a text the
    ///   read model's limit.
    func write(_ index: LogIndex, facts: WebJournal.Facts, end: SegmentPosition) throws {
        guard index.count > 0 else { return }
        let c = index.columns
        let texts = index.texts
        let rows = index.count
        let (batch, _) = index.position(of: rows - 1)
        let lastID = LogIndex.hex(c.ids[((rows - 1) * 32)..<(rows * 32)])
        let points = c.batchPoints.keys.sorted().flatMap { batch in c.batchPoints[batch]!.map { (batch, $0) } }
        let windowBytes = points.reduce(0) { $0 + $1.1.window.count }
        let columnBytes: Int64 = Int64(rows) * 124 + Int64(c.batchSegments.count) * 28 + Int64(points.count) * 21 + Int64(windowBytes)
        let textBytes: Int64 = Int64(texts.pool.count) + Int64(texts.count) * 8
        let factBytes: Int64 = Int64(facts.lastTimes.count + facts.fundingTitles.count) * 1_100
        let estimate = columnBytes + textBytes + factBytes
        guard estimate <= Self.maxFileBytes else {
            throw ReadModelRejection("The index of \(rows) events would exceed the file limit of \(Self.maxFileBytes) bytes; it is kept in memory only.")
        }
        let folder = journal.path + "/" + ReadModelFile.folder
        if mkdir(folder, 0o755) != 0, errno != EEXIST {
            throw SegmentError(.io, "Cannot create '\(folder)': \(Errno(errno)).", path: folder)
        }
        ReadModelFile.removeAbandonedTemporaries(in: folder, of: [Self.fileName])
        try ReadModelFile.writeAtomically(path, io: io) { out in
            try out.raw(Self.magic)
            try out.u32(Self.layoutVersion)
            try out.text(journal.partnership)
            try out.text(journal.site.rawValue)
            try out.u32(UInt32(batch.segment))
            try out.i64(batch.offset)
            try out.u32(UInt32(end.segment))
            try out.i64(end.offset)
            try out.text(lastID)
            try out.u32(UInt32(rows))
            try out.u32(UInt32(c.batchSegments.count))
            try out.u32(UInt32(texts.count))
            try out.u32(UInt32(points.count))
            try out.u32(UInt32(Section.allCases.count))
            let ends = texts.starts.dropFirst().map { UInt64($0) }
            try Self.column(.textEnds, ends, &out)
            try Self.column(.textBytes, texts.pool, &out)
            try Self.column(.batchSegments, c.batchSegments.map { UInt32(bitPattern: $0) }, &out)
            try Self.column(.batchOffsets, c.batchOffsets, &out)
            try Self.column(.ids, c.ids, &out)
            try Self.column(.batchOf, c.batchOf, &out)
            try Self.column(.inBatch, c.inBatch, &out)
            try Self.column(.seqs, c.seqs, &out)
            try Self.column(.times, c.times, &out)
            try Self.column(.timeLengths, c.timeLengths, &out)
            try Self.column(.clockMilliseconds, c.clockMilliseconds, &out)
            try Self.column(.clockCounters, c.clockCounters, &out)
            try Self.column(.sites, c.sites, &out)
            try Self.column(.types, c.types, &out)
            try Self.column(.subjects, c.subjects, &out)
            try Self.column(.actors, c.actors, &out)
            try Self.column(.labels, c.labels, &out)
            try Self.column(.order, c.order, &out)
            try Self.column(.recordStarts, c.recordStarts, &out)
            try Self.column(.memberLengths, c.batchFramings.map { UInt32($0.memberLength) }, &out)
            try Self.column(.recordCounts, c.batchFramings.map { UInt32($0.recordCount) }, &out)
            try Self.column(.checksums, c.batchFramings.map { $0.checksum }, &out)
            try Self.column(.inflatedSizes, c.batchFramings.map { UInt32($0.inflatedSize) }, &out)
            try Self.column(.pointBatches, points.map { $0.0 }, &out)
            try Self.column(.pointBits, points.map { UInt8($0.1.bits) }, &out)
            try Self.column(.pointCompressedOffsets, points.map { UInt64($0.1.compressedOffset) }, &out)
            try Self.column(.pointUncompressedOffsets, points.map { UInt64($0.1.uncompressedOffset) }, &out)
            try Self.column(.pointWindows, points.flatMap { $0.1.window }, &out)
            try Self.map(.lastTimes, facts.lastTimes, &out)
            try Self.map(.fundingTitles, facts.fundingTitles, &out)
        }
    }

    /// A section of fixed-width integers: its name, its length, the values little-endian.
    private static func column<T: FixedWidthInteger>(_ section: Section, _ values: [T], _ out: inout ReadModelEncoder) throws {
        try out.text(section.rawValue)
        try out.u64(UInt64(values.count * MemoryLayout<T>.size))
        #if _endian(little)
        try values.withUnsafeBytes { try out.raw($0) }
        #else
        try values.map { $0.littleEndian }.withUnsafeBytes { try out.raw($0) }
        #endif
    }

    /// A section of a `map<text>` (Format.md §9.4.2): its name, its length, the map.
    private static func map(_ section: Section, _ values: [String: String], _ out: inout ReadModelEncoder) throws {
        try out.text(section.rawValue)
        let length = values.reduce(4) { $0 + 8 + $1.key.utf8.count + $1.value.utf8.count }
        try out.u64(UInt64(length))
        try values.encode(to: &out)
    }

    // MARK: Reading

    /// A load of the file on another thread (Dispatch), so that it overlaps the build of the
    /// state from the read model; ``wait()`` returns its result and how long it took.
    final class Loading: Sendable {
        private let result = Mutex<(Result<Loaded?, ReadModelRejection>, Int64)?>(nil)
        private let done = DispatchSemaphore(value: 0)

        /// Starts loading `file`.
        init(_ file: LogIndexFile) {
            DispatchQueue.global().async { [self] in
                // Loaded inside the lock's closure, so that nothing but the slot refers to the
                // columns once the waiter is told (a second reference would make its first added
                // row copy them all).
                result.withLock { slot in
                    let clock = ContinuousClock()
                    let started = clock.now
                    let loaded = file.load()
                    let took = started.duration(to: clock.now).components
                    slot = (loaded, took.seconds * 1_000 + took.attoseconds / 1_000_000_000_000_000)
                }
                done.signal()
            }
        }

        /// Waits for the load: its result (as ``LogIndexFile/load()``) and its milliseconds.
        /// Taken out of this object: the caller holds the only reference to the columns.
        func wait() -> (Result<Loaded?, ReadModelRejection>, Int64) {
            done.wait()
            return result.withLock { slot in
                let taken = slot!
                slot = nil
                return taken
            }
        }
    }

    /// Reads and checks the file (Journal/UI.md §8.1).
    /// - Returns: the index, nil when there is no file, or why the file cannot be used.
    func load() -> Result<Loaded?, ReadModelRejection> {
        let fd: Int32, size: Int64
        switch ReadModelFile.openRegular(path) {
        case .success(let opened?): (fd, size) = opened
        case .success(nil): return .success(nil)
        case .failure(let rejection): return .failure(rejection)
        }
        defer { close(fd) }
        guard size >= Int64(Self.magic.count + 4 + Self.trailerBytes), size <= Self.maxFileBytes else {
            return .failure(ReadModelRejection("Its size, \(size) bytes, is outside what an index file can be."))
        }
        var input = ReadModelDecoder(fd: fd, bodyLength: size - Int64(Self.trailerBytes))
        input.fileName = "The index file"
        do {
            return .success(try decode(&input))
        } catch let rejection as ReadModelRejection {
            return .failure(rejection)
        } catch {
            return .failure(ReadModelRejection("It cannot be read: \(error)."))
        }
    }

    private func decode(_ input: inout ReadModelDecoder) throws -> Loaded {
        guard try input.raw(Self.magic.count) == Self.magic else { throw ReadModelRejection("It does not start with 'ACCORDWI'.") }
        let layout = try input.u32()
        guard layout == Self.layoutVersion else {
            throw ReadModelRejection("Its layout version is \(layout); this program reads version \(Self.layoutVersion).")
        }
        try input.journal(journal)
        let (coverage, at) = try input.coverage()
        guard coverage.isHeld(by: journal) else { throw ReadModelRejection.stale(coverage, at: at) }
        let (batch, end) = (coverage.batch, coverage.end)
        let rows = Int(try input.u32()), batches = Int(try input.u32()), textCount = Int(try input.u32())
        let pointCount = Int(try input.u32())
        var memberLengths: [UInt32] = [], recordCounts: [UInt32] = [], checksums: [UInt32] = [], inflatedSizes: [UInt32] = []
        var pointBatches: [UInt32] = [], pointBits: [UInt8] = [], compressedOffsets: [UInt64] = [], uncompressedOffsets: [UInt64] = []
        var windows: [UInt8] = []
        let sectionCount = try input.count(each: 4 + 8)
        var c = LogIndex.Columns()
        var ends: [UInt64] = [], pool: [UInt8] = []
        var facts = WebJournal.Facts()
        var seen: Set<Section> = []
        for _ in 0..<sectionCount {
            let sectionAt = input.offset
            let name = try input.text()
            let length = Int64(bitPattern: try input.u64())
            guard length >= 0, length <= input.remaining else {
                throw ReadModelRejection("The section at byte \(sectionAt) claims \(length) bytes, more than the \(input.remaining) left.")
            }
            // Names compared as bytes.
            guard let section = Section.allCases.first(where: { sameBytes($0.rawValue, name) }) else {
                try input.skip(length)
                continue
            }
            guard seen.insert(section).inserted else { throw ReadModelRejection("The section '\(name)' at byte \(sectionAt) appears twice.") }
            let start = input.offset
            switch section {
            case .textEnds: ends = try Self.column(textCount, length, &input, section)
            case .textBytes: pool = try Self.column(Int(length), length, &input, section)
            case .batchSegments: c.batchSegments = (try Self.column(batches, length, &input, section) as [UInt32]).map { Int32(bitPattern: $0) }
            case .batchOffsets: c.batchOffsets = try Self.column(batches, length, &input, section)
            case .ids: c.ids = try Self.column(rows * 32, length, &input, section)
            case .batchOf: c.batchOf = try Self.column(rows, length, &input, section)
            case .inBatch: c.inBatch = try Self.column(rows, length, &input, section)
            case .seqs: c.seqs = try Self.column(rows, length, &input, section)
            case .times: c.times = try Self.column(rows * LogIndex.timeWidth, length, &input, section)
            case .timeLengths: c.timeLengths = try Self.column(rows, length, &input, section)
            case .clockMilliseconds: c.clockMilliseconds = try Self.column(rows, length, &input, section)
            case .clockCounters: c.clockCounters = try Self.column(rows, length, &input, section)
            case .sites: c.sites = try Self.column(rows, length, &input, section)
            case .types: c.types = try Self.column(rows, length, &input, section)
            case .subjects: c.subjects = try Self.column(rows, length, &input, section)
            case .actors: c.actors = try Self.column(rows, length, &input, section)
            case .labels: c.labels = try Self.column(rows, length, &input, section)
            case .order: c.order = try Self.column(rows, length, &input, section)
            case .recordStarts: c.recordStarts = try Self.column(rows, length, &input, section)
            case .memberLengths: memberLengths = try Self.column(batches, length, &input, section)
            case .recordCounts: recordCounts = try Self.column(batches, length, &input, section)
            case .checksums: checksums = try Self.column(batches, length, &input, section)
            case .inflatedSizes: inflatedSizes = try Self.column(batches, length, &input, section)
            case .pointBatches: pointBatches = try Self.column(pointCount, length, &input, section)
            case .pointBits: pointBits = try Self.column(pointCount, length, &input, section)
            case .pointCompressedOffsets: compressedOffsets = try Self.column(pointCount, length, &input, section)
            case .pointUncompressedOffsets: uncompressedOffsets = try Self.column(pointCount, length, &input, section)
            case .pointWindows:
                guard length <= Int64(pointCount) * Int64(AccessPoint.windowBytes) else {
                    throw ReadModelRejection("The section '\(section.rawValue)' holds \(length) bytes, more than \(pointCount) windows of \(AccessPoint.windowBytes).")
                }
                windows = try Self.column(Int(length), length, &input, section)
            case .lastTimes: facts.lastTimes = try [String: String](from: &input)
            case .fundingTitles: facts.fundingTitles = try [String: String](from: &input)
            }
            guard input.offset - start == length else {
                throw ReadModelRejection("The section '\(name)' at byte \(sectionAt) holds \(input.offset - start) bytes, not the \(length) it claims.")
            }
        }
        if let missing = Section.allCases.first(where: { !seen.contains($0) }) {
            throw ReadModelRejection("It has no section '\(missing.rawValue)'.")
        }
        try input.finish()
        c.batchFramings = (0..<batches).map {
            BatchFraming(memberLength: Int(memberLengths[$0]), recordCount: Int(recordCounts[$0]), inflatedSize: Int(inflatedSizes[$0]), checksum: checksums[$0])
        }
        var taken = 0
        for i in 0..<pointCount {
            let uncompressed = uncompressedOffsets[i], compressed = compressedOffsets[i]
            guard uncompressed <= UInt64(SegmentFormat.maxBatchBytes), compressed <= UInt64(SegmentFormat.maxMemberBytes),
                  i == 0 || pointBatches[i] >= pointBatches[i - 1] else {
                throw ReadModelRejection("Access point \(i) of the index lies beyond any batch or out of order.")
            }
            let window = min(Int(uncompressed), AccessPoint.windowBytes)
            guard taken + window <= windows.count else { throw ReadModelRejection("The section 'points.window' holds fewer bytes than the access points' windows.") }
            c.batchPoints[pointBatches[i], default: []].append(AccessPoint(
                compressedOffset: Int(compressed), bits: Int(pointBits[i]), uncompressedOffset: Int(uncompressed),
                window: Array(windows[taken..<(taken + window)])))
            taken += window
        }
        guard taken == windows.count else { throw ReadModelRejection("The section 'points.window' holds \(windows.count - taken) bytes more than the access points' windows.") }
        let index = try LogIndex(texts: try InternedTexts(pool: pool, ends: ends), columns: c)
        guard rows > 0, index.position(of: rows - 1).batch == batch,
              sameBytes(LogIndex.hex(c.ids[((rows - 1) * 32)..<(rows * 32)]), coverage.lastID)
        else { throw ReadModelRejection("Its last row is not the last event of the batch its header names.") }
        return Loaded(index: index, facts: facts, end: end)
    }

    /// A section of `count` fixed-width integers, whose length must be exactly theirs; nothing
    /// is allocated before that (and the bytes left) are checked. The array has room for 1/16
    /// more (at least 1,024), so that the rows indexed after the load do not reallocate every
    /// column at once (at 1M events, a copy of 0.12 GB and twice the memory for a moment).
    private static func column<T: FixedWidthInteger>(_ count: Int, _ length: Int64, _ input: inout ReadModelDecoder, _ section: Section) throws -> [T] {
        guard Int64(count) * Int64(MemoryLayout<T>.size) == length, length <= input.remaining else {
            throw ReadModelRejection("The section '\(section.rawValue)' holds \(length) bytes, not \(count) values of \(MemoryLayout<T>.size) bytes.")
        }
        let values = try [T](unsafeUninitializedCapacity: count + max(1_024, count / 16)) { buffer, initialized in
            try input.raw(into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: count * MemoryLayout<T>.size))
            initialized = count
        }
        #if _endian(little)
        return values
        #else
        return values.map { T(littleEndian: $0) }
        #endif
    }
}

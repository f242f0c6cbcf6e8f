import AccordModel
import AccordSegments
import AccordStore
import Glibc

/// The read model of one projection, kept in `cache/<name>.readmodel` in the journal directory
/// (Format.md §9.4) and brought up to date by folding only the events it does not cover.
///
/// The file is a cache, never the truth: a damaged, truncated, stale, foreign or other-version
/// file is ignored (the reason is returned, for a note on standard error) and the state rebuilt
/// by replay. Writes are atomic — a temporary file, `fdatasync`, `rename` — so concurrent readers
/// and appenders only ever see a whole file, and a writer killed at any byte leaves the previous
/// file in place.
///
/// ```swift
/// let current = try ReadModelStore<PartnershipState>(journal: journal).current()
/// print(current.model.eventCount, current.replayed)
/// ```
public struct ReadModelStore<Model: PersistedProjection>: Sendable {
    /// The journal whose read model this is.
    public let journal: EventJournal
    /// The I/O the writer uses (the process default: crash points in debug builds).
    public var io: any SegmentIO = SegmentIOs.processDefault

    /// The read model of `journal`; nothing is read yet.
    public init(journal: EventJournal) { self.journal = journal }

    /// The file's path.
    public var path: String { journal.path + "/" + ReadModelFile.folder + "/" + ReadModelFile.fileName(of: Model.self) }

    /// The file's path relative to the journal.
    public var relativePath: String { ReadModelFile.folder + "/" + ReadModelFile.fileName(of: Model.self) }

    /// The history file's path (`cache/<name>.history`), for a model that keeps history.
    public var historyPath: String { journal.path + "/" + ReadModelFile.folder + "/" + HistoryFileLayout.fileName(of: Model.self) }

    /// A read model as loaded from its file.
    public struct Loaded: Sendable {
        /// The model.
        public var model: Model
        /// Per site, the events it covers.
        public var vector: [String: PartnershipState.Feed]
        /// The last batch it covers.
        public var coverage: ReadModelCoverage
        /// The history file it names, open.
        var history: HistoryFile?
    }

    /// The current model and what it took.
    public struct Current: Sendable {
        /// The model, covering every complete batch of the journal.
        public var model: Model
        /// Per site, the events it covers.
        public var vector: [String: PartnershipState.Feed]
        /// The last batch it covers; nil for an empty journal.
        public var coverage: ReadModelCoverage?
        /// Events folded by this call (those the file covered not counted).
        public var replayed: Int
        /// Events the file covered, when a valid file was used.
        public var loadedEvents: Int?
        /// Why the file was ignored, when one was there and was not used.
        public var rejection: ReadModelRejection?
        /// The file written by this call (relative to the journal), if any.
        public var wrote: String?
        /// An incomplete or damaged last batch that ended the fold (not in the model).
        public var tornTail: Damage?
        /// The history file of the read model that was loaded, which a write appends to.
        var history: HistoryFile?
        /// The files this call wrote, in order: each chunk of a long fold, then the last
        /// (Format.md §9.4.5); empty when it wrote none.
        public var writes: [Write] = []
    }

    /// One write of the read model by ``current(useFile:refreshAfter:chunkEvents:chunkEntries:)``.
    public struct Write: Sendable, Equatable {
        /// Events the file covers.
        public var events: Int
        /// History entries the model held in memory when it was written (appended to the
        /// history file by this write).
        public var historyEntries: Int
        /// How long the write took (monotonic clock), from creating its files to the rename.
        public var seconds: Double
    }

    /// Called, in tests, each time a long fold reads back the chunk it has just written, with
    /// the history entries the fold still holds in memory at that moment (none: the entries of
    /// the chunk are released before the file is read back, Format.md §9.4.5).
    package var readingBack: (@Sendable (_ historyEntriesHeld: Int) -> Void)?

    /// A chunked fold packs the history entries it holds after each run of this many entries
    /// folded (``ReadModelFile/packEntries``; tests make it small).
    package var packEntries = ReadModelFile.packEntries

    /// The model covering every complete batch of the journal: the file plus the events after
    /// it, or a full replay when there is no usable file; writes the file when at least
    /// `refreshAfter` events were folded (beyond the file, or from the start when there was
    /// none), and whenever a file that was there was ignored (so that its note is said once).
    /// A failure to write (a read-only journal) is ignored.
    /// - Parameters:
    ///   - useFile: false: replay everything, neither read nor write the file.
    ///   - refreshAfter: rewrite after this many events folded beyond a valid file; nil: never write.
    ///   - chunkEvents: when writing, also write (and load back) after each run of whole batches
    ///     of at least this many events folded, so that a long fold keeps only the history
    ///     entries of one run in memory (``ReadModelFile/chunkEvents``; nil: not by events).
    ///     A chunk that cannot be written (a read-only journal) ends the chunking: the fold goes
    ///     on in memory. Once a chunk is written, the state folded and the journal's reader are
    ///     released before the file is read back (the two states are never in memory together);
    ///     a file read back that covers another batch (another writer's) is folded on from, and
    ///     when none can be read back the fold starts again from the journal's start, in memory
    ///     (Format.md §9.4.5). ``Current/writes`` lists every write.
    ///   - chunkEntries: when writing, also write a chunk at the end of a batch once the model has
    ///     folded this many history entries since it was made or read back
    ///     (``PersistedProjection/historyEntriesFolded``, ``ReadModelFile/chunkEntries``; nil:
    ///     not by entries), so that the entries held are bounded whatever the events are. Until
    ///     a chunk is written, its entries are packed (``PersistedProjection/packHistory()``)
    ///     after each run of ``packEntries`` of them, so that most are held encoded.
    /// - Throws: ``SegmentError`` or ``AccordError`` for a damaged journal.
    /// - Complexity: O(file + events after it).
    public func current(useFile: Bool = true, refreshAfter: Int? = ReadModelFile.refreshEvents,
                        chunkEvents: Int? = ReadModelFile.chunkEvents, chunkEntries: Int? = ReadModelFile.chunkEntries) throws -> Current {
        var loaded: Loaded?
        var rejection: ReadModelRejection?
        if useFile {
            switch load() {
            case .success(let found): loaded = found
            case .failure(let reason): rejection = reason
            }
        }
        var model = loaded?.model ?? Model()
        // The only reference: the fold's first write to each map would otherwise copy it whole.
        loaded?.model = Model()
        var vector = loaded?.vector ?? [:]
        var coverage = loaded?.coverage
        var history = loaded?.history
        var chunking = useFile && refreshAfter != nil && Model.keepsHistory && (chunkEvents != nil || chunkEntries != nil)
        let (eventBound, entryBound) = (chunkEvents.map { max($0, 1) } ?? .max, chunkEntries.map { max($0, 1) } ?? .max)
        var events = try journal.events(from: coverage?.end ?? .start)
        var replayed = 0, sinceWrite = 0, packedAt = 0
        var lastChunk: String?
        var writes: [Write] = []
        while let event = try events.next() {
            model.fold(event)
            Self.count(event, in: &vector)
            replayed += 1
            sinceWrite += 1
            if events.isLastOfBatch, let start = events.batchPosition {
                let covered = ReadModelCoverage(batch: start, end: events.nextPosition, lastID: event.id.hex)
                coverage = covered
                if chunking, sinceWrite < eventBound, model.historyEntriesFolded < entryBound,
                   model.historyEntriesFolded >= packedAt + max(packEntries, 1) {
                    // Entries held until the chunk is written are kept encoded (§9.4.5).
                    model.packHistory()
                    packedAt = model.historyEntriesFolded
                }
                if chunking, sinceWrite >= eventBound || model.historyEntriesFolded >= entryBound {
                    sinceWrite = 0
                    packedAt = 0
                    // The journal's reader (its inflated batches, the batch read ahead) is let go
                    // before the write, so that it does not add to the write's memory; the fold
                    // goes on from where the chunk ends with a new one.
                    events = try journal.events(from: covered.end)
                    ReadModelFile.returnFreedMemory()
                    guard let path = try? timedWrite(model, vector: vector, coverage: covered, continuing: history, into: &writes) else {
                        // Not written (a read-only journal): the fold goes on in memory.
                        chunking = false
                        lastChunk = nil
                        continue
                    }
                    // Written: the model folded so far, with the chunk's history entries, is
                    // released before the file is read back, so that the two never share the
                    // memory; the model read back holds the history's extents, not its entries,
                    // and is the only reference to its maps, so the fold goes on without copying
                    // them.
                    model = Model()
                    history = nil
                    if lastChunk == nil { ReadModelFile.mapLargeBlocks() }
                    ReadModelFile.returnFreedMemory()
                    readingBack?(model.historyEntriesInMemory)
                    defer { ReadModelFile.returnFreedMemory() }
                    switch load(concurrently: false) {
                    case .success(var again?):
                        if again.coverage != covered {
                            // Another writer's read model replaced this one since: it passed every
                            // check, so it is this journal's state up to what it covers, and the
                            // fold goes on from there.
                            vector = again.vector
                            coverage = again.coverage
                            events = try journal.events(from: again.coverage.end)
                        }
                        model = again.model
                        again.model = Model()
                        history = again.history
                        lastChunk = path
                    case .success(nil), .failure:
                        // The file written is gone or no longer passes its checks (removed or
                        // damaged since): nothing folded is left, so the fold starts again from
                        // the journal's start, in memory.
                        (vector, coverage, loaded, chunking, lastChunk, replayed) = ([:], nil, nil, false, nil, 0)
                        events = try journal.events(from: .start)
                    }
                }
            }
        }
        var current = Current(model: model, vector: vector, coverage: coverage, replayed: replayed,
                              loadedEvents: loaded.map { found in found.vector.values.reduce(0) { $0 + $1.events } }, rejection: rejection)
        current.tornTail = events.tornTail
        current.history = history
        if useFile, let refreshAfter, let coverage, rejection != nil || replayed >= max(refreshAfter, 1) {
            // Written already when the last chunk ended the fold.
            current.wrote = sinceWrite == 0 && lastChunk != nil ? lastChunk
                : try? timedWrite(model, vector: vector, coverage: coverage, continuing: history, into: &writes)
        } else {
            current.wrote = lastChunk
        }
        current.writes = writes
        return current
    }

    /// ``write(_:vector:coverage:continuing:)``, recorded in `writes` when it succeeds.
    private func timedWrite(_ model: Model, vector: [String: PartnershipState.Feed], coverage: ReadModelCoverage, continuing: HistoryFile?,
                            into writes: inout [Write]) throws -> String {
        let held = model.historyEntriesInMemory
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let path = try write(model, vector: vector, coverage: coverage, continuing: continuing)
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        writes.append(Write(events: vector.values.reduce(0) { $0 + $1.events }, historyEntries: held, seconds: seconds))
        return path
    }

    /// Counts `event` in `vector`: its site's events, last sequence number and id.
    static func count(_ event: Event, in vector: inout [String: PartnershipState.Feed]) {
        var feed = vector[event.site.rawValue] ?? PartnershipState.Feed(events: 0, lastSeq: 0, lastID: "")
        feed.events += 1
        if event.seq.rawValue > feed.lastSeq {
            feed.lastSeq = event.seq.rawValue
            feed.lastID = event.id.hex
        }
        vector[event.site.rawValue] = feed
    }

    /// Reads and checks the file (Format.md §9.4.4).
    /// - Returns: the model, nil when there is no file, or why the file cannot be used.
    public func load() -> Result<Loaded?, ReadModelRejection> { load(concurrently: true) }

    /// ``load()``; `concurrently` false: the state's parts are decoded one after the other on
    /// this thread (``ReadModelParts/concurrently``).
    func load(concurrently: Bool) -> Result<Loaded?, ReadModelRejection> {
        let fd: Int32, size: Int64
        switch ReadModelFile.openRegular(path) {
        case .success(let opened?): (fd, size) = opened
        case .success(nil): return .success(nil)
        case .failure(let rejection): return .failure(rejection)
        }
        defer { close(fd) }
        guard size >= ReadModelFile.minimumBytes, size <= ReadModelFile.maxFileBytes else {
            return .failure(ReadModelRejection("Its size, \(size) bytes, is outside what a read model can be."))
        }
        do {
            return .success(try decode(fd: fd, size: size, concurrently: concurrently))
        } catch let rejection as ReadModelRejection {
            return .failure(rejection)
        } catch {
            return .failure(ReadModelRejection("It cannot be read: \(error)."))
        }
    }

    private func decode(fd: Int32, size: Int64, concurrently: Bool) throws -> Loaded {
        // Check 2 first: the magic and the layout, before anything else is read.
        var lead = ReadModelDecoder(fd: fd, from: 0, to: 12)
        lead.hashing = false
        guard try lead.raw(ReadModelFile.magic.count) == ReadModelFile.magic else {
            throw ReadModelRejection("It does not start with 'ACCORDRM' (an older snapshot, or not a read model).")
        }
        let format = try lead.u32()
        guard format == ReadModelFile.formatVersion else {
            throw ReadModelRejection("Its layout version is \(format); this program reads version \(ReadModelFile.formatVersion).")
        }
        // Layout 4: the split (where the state's second part starts) and the checksum, at the end.
        let splitAt = size - 8 - Int64(ReadModelFile.trailerBytes)
        var tail = ReadModelDecoder(fd: fd, from: splitAt, to: size)
        tail.hashing = false
        let split = try tail.u64()
        let trailer = try tail.raw(ReadModelFile.trailerBytes)
        guard split >= 12, split <= UInt64(splitAt) else {
            throw ReadModelRejection("Its split at byte \(splitAt), \(split), lies outside the \(splitAt) bytes before it.")
        }
        var input = ReadModelDecoder(fd: fd, from: 12, to: Int64(split))
        input.hashing = false
        let name = try input.text()
        guard sameBytes(name, Model.readModelName) else { throw ReadModelRejection("It holds the read model '\(name.prefix(64))', not '\(Model.readModelName)'.") }
        let version = try input.u32()
        guard version == Model.readModelVersion else {
            throw ReadModelRejection("It was made by version \(version) of the '\(name)' projection; this program computes version \(Model.readModelVersion).")
        }
        try input.journal(journal)
        let (coverage, at) = try input.coverage()
        let vector = try [String: PartnershipState.Feed](from: &input)
        guard covers(coverage) else { throw ReadModelRejection.stale(coverage, at: at) }
        let historyAt = input.offset
        let presence = try input.u8()
        guard presence <= 1 else { throw ReadModelRejection("The presence byte at \(historyAt) is \(presence), not 0 or 1.") }
        let identity = presence == 1 ? try input.raw(HistoryFileLayout.identityBytes) : nil
        guard (identity != nil) == Model.keepsHistory else {
            throw ReadModelRejection("Its presence byte of a history file at byte \(historyAt) is wrong for the '\(Model.readModelName)' projection.")
        }
        if let identity { input.history = try openHistory(identity: identity, coverage: coverage) }
        let parts = ReadModelParts(fd: fd, history: input.history, first: input.offset..<Int64(split), second: Int64(split)..<splitAt,
                                   checked: size - Int64(ReadModelFile.trailerBytes), trailer: trailer, concurrently: concurrently)
        let model = try Model.decode(parts: parts)
        guard model.agrees(with: vector) else { throw ReadModelRejection("Its version vector does not match its state.") }
        return Loaded(model: model, vector: vector, coverage: coverage, history: input.history)
    }

    /// Opens the history file and checks its header: magic, layout, and the identity the read
    /// model names (a history file replaced since, or missing, fails).
    private func openHistory(identity: [UInt8], coverage: ReadModelCoverage) throws -> HistoryFile {
        let relative = ReadModelFile.folder + "/" + HistoryFileLayout.fileName(of: Model.self)
        let fd: Int32
        switch ReadModelFile.openRegular(historyPath) {
        case .success(let opened?): fd = opened.fd
        case .success(nil): throw ReadModelRejection("Its history file '\(relative)' cannot be opened: \(Errno(ENOENT)).")
        case .failure(let rejection): throw ReadModelRejection("Its history file '\(relative)': \(rejection.reason)")
        }
        var status = stat()
        var header = [UInt8](repeating: 0, count: Int(HistoryFileLayout.headerBytes))
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        var expected = HistoryFileLayout.magic
        withUnsafeBytes(of: ReadModelFile.formatVersion.littleEndian) { expected.append(contentsOf: $0) }
        expected += identity
        guard fstat(fd, &status) == 0, Int64(status.st_size) <= ReadModelFile.maxFileBytes, got == header.count, header == expected else {
            close(fd)
            throw ReadModelRejection("Its history file '\(relative)' is not the one it was written with (its first \(HistoryFileLayout.headerBytes) bytes differ, or it is too large).")
        }
        return HistoryFile(fd: fd, identity: identity, size: Int64(status.st_size), relativePath: relative, journal: journal,
                           coverage: coverage, summaryPath: path)
    }

    /// ``ReadModelCoverage/isHeld(by:)`` for this journal.
    private func covers(_ coverage: ReadModelCoverage) -> Bool { coverage.isHeld(by: journal) }

    /// Writes the file atomically (Format.md §9.4.5).
    /// - Returns: the file's path relative to the journal.
    /// - Throws: ``SegmentError`` `.io` / `.diskFull` when a step fails; the old file is then untouched.
    ///
    /// For a model that keeps history, the writers' lock (`flock` on `cache/`) is held from the
    /// history file's append to the rename; the history file gets a new extent per map with
    /// entries folded since the loaded read model (or a whole new history file, renamed into
    /// place before the read model, when there was none), and is synced before the read model.
    @discardableResult
    public func write(_ model: Model, vector: [String: PartnershipState.Feed], coverage: ReadModelCoverage) throws -> String {
        try write(model, vector: vector, coverage: coverage, continuing: nil)
    }

    /// Writes the model of `current` (Format.md §9.4.5), appending to the history file of the
    /// read model it was folded on from, when that is still the one in place.
    /// - Returns: the file's path relative to the journal.
    /// - Throws: ``AccordError`` `.badInput` for a model of no batch (an empty journal);
    ///   ``SegmentError`` `.io` / `.diskFull` when a step fails; the old files are then untouched.
    @discardableResult
    public func write(_ current: Current) throws -> String {
        guard let coverage = current.coverage else {
            throw AccordError(.badInput, "The journal has no events yet; there is nothing to keep in a read model.")
        }
        return try write(current.model, vector: current.vector, coverage: coverage, continuing: current.history)
    }

    /// ``write(_:vector:coverage:)``, appending to the history file `continuing` when it is
    /// still the one in place.
    func write(_ model: Model, vector: [String: PartnershipState.Feed], coverage: ReadModelCoverage, continuing: HistoryFile?) throws -> String {
        let folder = journal.path + "/" + ReadModelFile.folder
        if mkdir(folder, 0o755) != 0, errno != EEXIST {
            throw SegmentError(.io, "Cannot create '\(folder)': \(Errno(errno)).", path: folder)
        }
        var lock: Int32 = -1
        if Model.keepsHistory {
            lock = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard lock >= 0 else { throw SegmentError(.io, "Cannot open '\(folder)': \(Errno(errno)).", path: folder) }
            while flock(lock, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let error = Errno(errno)
                    close(lock)
                    throw SegmentError(.io, "Cannot lock '\(folder)': \(error).", path: folder)
                }
            }
        }
        defer { if lock >= 0 { close(lock) } }
        removeAbandonedTemporaries(in: folder)
        var history: (writer: HistoryWriter, identity: [UInt8], temporary: String?)?
        if Model.keepsHistory { history = try openHistoryForWriting(continuing: continuing) }
        defer {
            if let history {
                close(history.writer.fd)
                if let temporary = history.temporary { unlink(temporary) }
            }
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot create '\(temporary)': \(Errno(errno)).", path: temporary) }
        do {
            var out = ReadModelEncoder(fd: fd, path: temporary, io: io)
            out.history = history?.writer
            try out.raw(ReadModelFile.magic)
            try out.u32(ReadModelFile.formatVersion)
            try out.text(Model.readModelName)
            try out.u32(UInt32(Model.readModelVersion))
            try out.text(journal.partnership)
            try out.text(journal.site.rawValue)
            try out.u32(UInt32(coverage.batch.segment))
            try out.i64(coverage.batch.offset)
            try out.u32(UInt32(coverage.end.segment))
            try out.i64(coverage.end.offset)
            try out.text(coverage.lastID)
            try vector.encode(to: &out)
            if let history {
                try out.u8(1)
                try out.raw(history.identity)
            } else {
                try out.u8(0)
            }
            try model.encode(to: &out)
            try out.u64(UInt64(out.secondPart ?? out.position))
            try history?.writer.sync()
            try out.finish()
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        if let fresh = history?.temporary {
            guard rename(fresh, historyPath) == 0 else {
                let error = Errno(errno)
                unlink(temporary)
                throw SegmentError(.io, "Cannot rename '\(fresh)' to '\(historyPath)': \(error).", path: historyPath)
            }
            history?.temporary = nil
        }
        guard rename(temporary, path) == 0 else {
            let error = Errno(errno)
            unlink(temporary)
            throw SegmentError(.io, "Cannot rename '\(temporary)' to '\(path)': \(error).", path: path)
        }
        try? FileBytes.syncDirectory(folder)
        return relativePath
    }

    /// The history file to append to: `continuing`'s, when the file in place still has its
    /// identity; else a new one (a temporary file, renamed into place before the read model).
    private func openHistoryForWriting(continuing: HistoryFile?) throws -> (writer: HistoryWriter, identity: [UInt8], temporary: String?) {
        if let continuing {
            let fd = open(historyPath, O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                var header = [UInt8](repeating: 0, count: Int(HistoryFileLayout.headerBytes))
                let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
                var status = stat()
                if got == header.count, header.suffix(HistoryFileLayout.identityBytes).elementsEqual(continuing.identity), fstat(fd, &status) == 0 {
                    return (HistoryWriter(fd: fd, path: historyPath, io: io, continues: continuing, end: Int64(status.st_size)), continuing.identity, nil)
                }
                close(fd)
            }
        }
        let temporary = historyPath + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot create '\(temporary)': \(Errno(errno)).", path: temporary) }
        let identity = (0..<HistoryFileLayout.identityBytes).map { _ in UInt8.random(in: 0...255) }
        do {
            var out = ReadModelEncoder(fd: fd, path: temporary, io: io, reserve: 64)
            try out.raw(HistoryFileLayout.magic)
            try out.u32(ReadModelFile.formatVersion)
            try out.raw(identity)
            _ = try out.finishExtent()
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        return (HistoryWriter(fd: fd, path: temporary, io: io, continues: nil, end: HistoryFileLayout.headerBytes), identity, temporary)
    }

    /// Removes temporary files of this read model and its history file left by writers that
    /// were killed (their process is gone).
    private func removeAbandonedTemporaries(in folder: String) {
        ReadModelFile.removeAbandonedTemporaries(in: folder, of: [ReadModelFile.fileName(of: Model.self), HistoryFileLayout.fileName(of: Model.self)])
    }
}

import AccordModel
import AccordProjections
import AccordSegments
import AccordServer
import AccordStore
import AccordSync
import AccordTesting
import CSQLite
import Foundation

// The phases, each run in its own child process so that its peak RSS is its own.

/// The workload: batches of up to 1,000 events; batch `i` belongs to site `sites[i % 3]`, and
/// holds the realistic drafts numbered `i * 1000 ..< i * 1000 + count`.
enum Workload {
    static let batch = 1_000
    static let sites = ["brussels", "astana", "almaty"]
    static let base: Int64 = 1_700_000_000

    static func batches(_ events: Int) -> [(index: Int, site: String, first: Int, count: Int)] {
        stride(from: 0, to: events, by: batch).enumerated().map { index, first in
            (index, sites[index % sites.count], first, min(batch, events - first))
        }
    }

    static func now(_ first: Int) -> Timestamp { Timestamp(seconds: base + Int64(first), nanoseconds: 0) }

    /// A journal for `site` that trusts every workload site.
    static func makeJournal(at path: String, site: String) throws -> EventJournal {
        let journal = try Fixtures.makeJournal(at: path, site: site)
        for other in sites where other != site {
            try journal.trust(try SiteKey(seed: Fixtures.seed(other)).publicKey, for: SiteID(other))
        }
        return journal
    }
}

enum Phases {
    static func run(_ name: String, _ arguments: Arguments) throws {
        let result = try arguments.string("result")
        var figures: Figures = [:]
        switch name {
        case "gen-remote": figures = try genRemote(arguments)
        case "ingest-accord": figures = try ingestAccord(arguments)
        case "ingest-sqlite": figures = try ingestSQLite(arguments)
        case "ingest-gzip": figures = try ingestGzip(arguments)
        case "deflate-ceiling": figures = try deflateCeiling(arguments)
        case "replay-accord": figures = try replayAccord(arguments)
        case "replay-sqlite": figures = try replaySQLite(arguments)
        case "replay-floor": figures = try replayFloor(arguments)
        case "append1-all": figures = try appendOneAll(arguments)
        case "state-accord": figures = try stateAccord(arguments)
        case "state-summary": figures = try stateSummary(arguments)
        case "readmodel-write": figures = try writeReadModel(arguments)
        case "readmodel-write-incremental": figures = try writeReadModelIncremental(arguments)
        case "readmodel-rebuild": figures = try rebuildReadModel(arguments)
        case "report-render": figures = try renderReport(arguments)
        case "state-sqlite": figures = try stateSQLite(arguments)
        case "append-more": figures = try appendMore(arguments)
        case "sync-client": figures = try syncClient(arguments)
        case "serve": try serve(arguments)
        default: throw BenchError.failed("unknown phase \(name)")
        }
        try writeFigures(figures, to: result)
    }

    /// The other sites' batches, signed by them: `DIR/remote-SITE.lines`, one record a line.
    static func genRemote(_ a: Arguments) throws -> Figures {
        let dir = try a.string("dir"), events = try a.int("events")
        for site in Workload.sites.dropFirst() {
            let journal = try Workload.makeJournal(at: dir + "/remote-" + site, site: site)
            let writer = try journal.openWriter()
            let out = try LineWriter(dir + "/remote-\(site).lines")
            for batch in Workload.batches(events) where batch.site == site {
                for event in try writer.append(Fixtures.realisticDrafts(count: batch.count, startingAt: batch.first), now: Workload.now(batch.first)) {
                    out.write(event.record)
                    out.write("\n")
                }
            }
            writer.close()
        }
        return [:]
    }

    /// Accord's durable ingest: own batches through `append` (validate, canonicalise, hash,
    /// sign, compress, write, fdatasync), the other sites' through `appendReplicated` (decode,
    /// check, verify the signature, compress, write, fdatasync). Only those calls are timed.
    /// Writes every stored record, in journal order, to the workload file the peers ingest.
    static func ingestAccord(_ a: Arguments) throws -> Figures {
        let dir = try a.string("dir"), events = try a.int("events"), path = try a.string("journal")
        var options = SegmentWriter.Options()
        if let level = a.values["level"].flatMap(Int32.init) { options.compressionLevel = level }
        let journal = try Workload.makeJournal(at: path, site: Workload.sites[0])
        let writer = try journal.openWriter(options: options)
        let workload = try LineWriter(try a.string("workload"))
        var readers: [String: LineReader] = [:]
        for site in Workload.sites.dropFirst() where FileManager.default.fileExists(atPath: dir + "/remote-\(site).lines") {
            readers[site] = try LineReader(dir + "/remote-\(site).lines")
        }
        var timed: UInt64 = 0, own: UInt64 = 0
        var recordBytes = 0
        for batch in Workload.batches(events) {
            let stored: [Event]
            if batch.site == Workload.sites[0] {
                let drafts = Fixtures.realisticDrafts(count: batch.count, startingAt: batch.first)
                let start = nanos()
                stored = try writer.append(drafts, now: Workload.now(batch.first))
                timed += nanos() - start
                own += nanos() - start
            } else {
                guard let reader = readers[batch.site] else { throw BenchError.failed("no remote lines for \(batch.site)") }
                var records: [[UInt8]] = []
                for _ in 0..<batch.count { if let line = reader.next({ Array($0) }) { records.append(line) } }
                let start = nanos()
                _ = try writer.appendReplicated(records)
                timed += nanos() - start
                stored = try records.map { try EventRecord.decode($0) }
            }
            for event in stored {
                workload.write("\(event.site.rawValue)\t\(event.seq.rawValue)\t")
                workload.write(event.record)
                workload.write("\n")
                recordBytes += event.record.count + 1
            }
        }
        writer.close()
        // `ownSeconds`: the part spent in `append` (a third of the batches); the rest in `appendReplicated`.
        return ["seconds": Double(timed) / 1e9, "ownSeconds": Double(own) / 1e9, "bytes": Double(bytesOnDisk(path + "/segments")), "recordBytes": Double(recordBytes)]
    }

    /// Reads up to `count` workload lines: (site, seq, record) spans into one buffer.
    static func readBatch(_ reader: LineReader, count: Int) -> [(site: [UInt8], seq: Int64, record: [UInt8])] {
        var rows: [(site: [UInt8], seq: Int64, record: [UInt8])] = []
        rows.reserveCapacity(count)
        for _ in 0..<count {
            guard let row = reader.next({ line -> (site: [UInt8], seq: Int64, record: [UInt8]) in
                let tab1 = line.firstIndex(of: 9)!
                let tab2 = line[(tab1 + 1)...].firstIndex(of: 9)!
                let seq = Int64(String(decoding: UnsafeBufferPointer(rebasing: line[(tab1 + 1)..<tab2]), as: UTF8.self))!
                return (Array(line[..<tab1]), seq, Array(line[(tab2 + 1)...]))
            }) else { break }
            rows.append(row)
        }
        return rows
    }

    /// The rows' records, each followed by a newline: one batch of JSON Lines.
    static func payload(_ rows: [(site: [UInt8], seq: Int64, record: [UInt8])]) -> [UInt8] {
        var text: [UInt8] = []
        for row in rows { text += row.record; text.append(0x0a) }
        return text
    }

    static func ingestSQLite(_ a: Arguments) throws -> Figures {
        let path = try a.string("db")
        let reader = try LineReader(try a.string("workload"))
        let db = try SQLiteDB(path: path)
        try db.createSchema()
        let insert = try db.prepare("INSERT INTO events(site, seq, record) VALUES (?, ?, ?)")
        var timed: UInt64 = 0
        var events = 0
        while true {
            let rows = readBatch(reader, count: Workload.batch)
            if rows.isEmpty { break }
            let start = nanos()
            try db.exec("BEGIN")
            for row in rows {
                try row.site.withUnsafeBufferPointer { site in
                    try row.record.withUnsafeBufferPointer { record in try insert.insert(site: site, seq: row.seq, record: record) }
                }
            }
            try db.exec("COMMIT")
            timed += nanos() - start
            events += rows.count
        }
        _ = insert
        db.close()
        let bytes = bytesOnDisk(path) + bytesOnDisk(path + "-wal")
        return ["seconds": Double(timed) / 1e9, "bytes": Double(bytes), "events": Double(events)]
    }

    static func ingestGzip(_ a: Arguments) throws -> Figures {
        let path = try a.string("file")
        let reader = try LineReader(try a.string("workload"))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.failed("open \(path)") }
        defer { close(fd) }
        let gzip = try GzipMemberWriter(level: 6)
        var timed: UInt64 = 0
        while true {
            let rows = readBatch(reader, count: Workload.batch)
            if rows.isEmpty { break }
            let text = payload(rows)
            let start = nanos()
            let member = try text.withUnsafeBytes { try gzip.member($0) }
            try member.withUnsafeBytes { try writeAll(fd, $0, sync: true) }
            timed += nanos() - start
        }
        return ["seconds": Double(timed) / 1e9, "bytes": Double(bytesOnDisk(path))]
    }

    /// The ceiling of any zlib journal on this machine: each batch's records only deflated, at
    /// the journal's level, in two halves on the two cores, as the writer does; no decode,
    /// signature, checksum, write or sync. Only the deflating is timed.
    static func deflateCeiling(_ a: Arguments) throws -> Figures {
        let level = Int32(try a.int("level", default: Int(SegmentWriter.Options().compressionLevel)))
        let reader = try LineReader(try a.string("workload"))
        let halves = [try GzipMemberWriter(level: level), try GzipMemberWriter(level: level)]
        var timed: UInt64 = 0
        var events = 0
        while true {
            let rows = readBatch(reader, count: Workload.batch)
            if rows.isEmpty { break }
            let text = payload(rows)
            let start = nanos()
            text.withUnsafeBytes { payload in
                let middle = payload.count / 2
                let work = TwoHalves(writers: halves, parts: [UnsafeRawBufferPointer(rebasing: payload[..<middle]), UnsafeRawBufferPointer(rebasing: payload[middle...])])
                DispatchQueue.concurrentPerform(iterations: 2) { work.run($0) }
            }
            timed += nanos() - start
            events += rows.count
        }
        return ["seconds": Double(timed) / 1e9, "events": Double(events), "level": Double(level)]
    }

    /// One half per thread; each thread touches only its own writer and part.
    final class TwoHalves: @unchecked Sendable {
        let writers: [GzipMemberWriter]
        let parts: [UnsafeRawBufferPointer]
        init(writers: [GzipMemberWriter], parts: [UnsafeRawBufferPointer]) {
            self.writers = writers
            self.parts = parts
        }
        func run(_ index: Int) { _ = try? writers[index].member(parts[index]) }
    }

    /// Replay: every event read and decoded (parsed, checked canonical, id re-hashed).
    static func replayAccord(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        var count = 0
        var first = 0.0
        let start = nanos()
        let time = try seconds {
            var events = try journal.events()
            if try events.next() != nil {
                count += 1
                first = Double(nanos() - start) / 1e9
            }
            while try events.next() != nil { count += 1 }
        }
        // `firstSeconds`: until the first event (the first batch read, inflated and decoded).
        return ["seconds": time, "firstSeconds": first, "events": Double(count)]
    }

    static func replaySQLite(_ a: Arguments) throws -> Figures {
        let db = try SQLiteDB(path: try a.string("db"))
        var count = 0
        let time = try seconds {
            let select = try db.prepare("SELECT record FROM events ORDER BY id")
            try select.forEachRow { row in
                _ = try EventRecord.decode(columnBytes(row, 0))
                count += 1
            }
        }
        return ["seconds": time, "events": Double(count)]
    }

    static func replayFloor(_ a: Arguments) throws -> Figures {
        var result = (lines: 0, bytes: 0)
        let time = try seconds { result = try inflateAndSplit(try a.string("file")) }
        return ["seconds": time, "events": Double(result.lines)]
    }

    /// Single-event durable appends of the three peers, interleaved (Accord, SQLite, bare,
    /// Accord, …) so that all three see the same disk and the same neighbours' load: `count`
    /// measured appends each, after 20 unmeasured ones. Figures prefixed `accord.`, `sqlite.`,
    /// `bare.`: p50ms, p99ms, perSecond (appends per second of time spent appending).
    static func appendOneAll(_ a: Arguments) throws -> Figures {
        let dir = try a.string("dir"), count = try a.int("count")
        let records = try sampleRecords(a)
        // Accord: one draft per call (validated, chained, hashed, signed, compressed, written, fdatasync).
        let journal = try Workload.makeJournal(at: dir + "/accord", site: Workload.sites[0])
        let writer = try journal.openWriter()
        let drafts = Fixtures.realisticDrafts(count: 1_000)
        // SQLite: one transaction per row.
        let db = try SQLiteDB(path: dir + "/sqlite.db")
        try db.createSchema()
        let insert = try db.prepare("INSERT INTO events(site, seq, record) VALUES (?, ?, ?)")
        let site = Array("brussels".utf8)
        // Bare: write(2) of the record and its newline at the end of a file, then fdatasync.
        let fd = open(dir + "/bare.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.failed("open bare.jsonl") }
        defer { close(fd) }
        let peers: [(String, (Int) throws -> Void)] = [
            ("accord", { n in try writer.append([drafts[n % drafts.count]], now: Workload.now(n)) }),
            ("sqlite", { n in
                try db.exec("BEGIN")
                try site.withUnsafeBufferPointer { s in
                    try records[n % records.count].withUnsafeBufferPointer { r in try insert.insert(site: s, seq: Int64(n + 1), record: r) }
                }
                try db.exec("COMMIT")
            }),
            ("bare", { n in
                let line = records[n % records.count] + [0x0a]
                try line.withUnsafeBytes { try writeAll(fd, $0, sync: true) }
            }),
        ]
        var samples: [[Double]] = Array(repeating: [], count: peers.count)
        for n in 0..<(20 + count) {
            for (index, peer) in peers.enumerated() {
                let start = nanos()
                try peer.1(n)
                if n >= 20 { samples[index].append(Double(nanos() - start) / 1e6) }
            }
        }
        var figures: Figures = [:]
        for (index, peer) in peers.enumerated() {
            let total = samples[index].reduce(0, +) / 1e3
            let sorted = samples[index].sorted()
            figures[peer.0 + ".p50ms"] = percentile(sorted, 50)
            figures[peer.0 + ".p99ms"] = percentile(sorted, 99)
            figures[peer.0 + ".perSecond"] = Double(count) / total
        }
        return figures
    }

    /// The first 1,000 records of the workload file (the same text the peers store).
    static func sampleRecords(_ a: Arguments) throws -> [[UInt8]] {
        let rows = readBatch(try LineReader(try a.string("workload")), count: 1_000)
        return rows.map(\.record)
    }

    /// `accord state`'s build: from the read model (`--readmodel yes`, without writing it) or by
    /// a full replay (`no`).
    static func stateAccord(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        var builder = StateBuilder(journal: journal)
        builder.refreshAfter = nil
        let useReadModel = a.values["readmodel"] == "yes"
        var result: StateBuilder.Result?
        let time = try seconds { result = try builder.build(useReadModel: useReadModel) }
        if useReadModel, result?.loadedEvents == nil { throw BenchError.failed("no valid read model: \(result?.readModelRejection?.reason ?? "none")") }
        return ["seconds": time, "replayed": Double(result?.replayed ?? 0), "events": Double(result?.state.eventCount ?? 0),
                "loaded": Double(result?.loadedEvents ?? 0)]
    }

    /// What `accord state` (its default view, the summary) does after the build: the state built
    /// from the read model and the summary table made, timed together; `buildSeconds` the build
    /// alone.
    static func stateSummary(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        var builder = StateBuilder(journal: journal)
        builder.refreshAfter = nil
        let reference = try CalendarDate(parsing: "2026-12-07")
        var result: StateBuilder.Result?
        var build = 0.0, rows = 0
        let time = try seconds {
            build = try seconds { result = try builder.build(useReadModel: true) }
            rows = Views.summary(result!.state, reference: reference).rows.count
        }
        if result?.loadedEvents == nil { throw BenchError.failed("no valid read model: \(result?.readModelRejection?.reason ?? "none")") }
        return ["seconds": time, "buildSeconds": build, "rows": Double(rows), "replayed": Double(result?.replayed ?? 0)]
    }

    /// `accord report --html` from the read model (issue 18's ≤ 300 ms per page at 1M events):
    /// the state loaded (untimed), then `StatusReport.html()` alone timed, the median of 5, with
    /// its size in bytes.
    static func renderReport(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        var builder = StateBuilder(journal: journal)
        builder.refreshAfter = nil
        let state = try builder.build(useReadModel: true).state
        let report = StatusReport(title: "Benchmark", state: state, reference: try CalendarDate(parsing: "2026-12-07"), recent: [], digest: "-")
        var times: [Double] = []
        var bytes = 0
        for _ in 0..<5 { times.append(seconds { bytes = report.html().utf8.count }) }
        return ["seconds": times.sorted()[2], "bytes": Double(bytes), "events": Double(state.eventCount)]
    }

    /// Writes the read model of the whole journal: the fold first (untimed), then the write
    /// alone, timed, with the peak RSS before it (VmHWM) to tell the write's own memory.
    static func writeReadModel(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        let store = ReadModelStore<PartnershipState>(journal: journal)
        let current = try store.current(useFile: false)
        guard let coverage = current.coverage else { throw BenchError.failed("empty journal") }
        let before = peakKiBSoFar()
        let time = try seconds { try store.write(current.model, vector: current.vector, coverage: coverage) }
        var status = stat(), history = stat()
        stat(store.path, &status)
        stat(store.historyPath, &history)
        return ["seconds": time, "events": Double(current.model.eventCount), "bytes": Double(status.st_size), "historyBytes": Double(history.st_size),
                "peakBeforeMiB": Double(before) / 1024]
    }

    /// The read model rebuilt from scratch as `accord state` rebuilds it on a journal without
    /// one (Format.md §9.4.5): `cache/partnership.*` removed, then one `current()` that folds the
    /// whole journal, writing (and reading back) a chunk every `READMODEL_CHUNK_EVENTS` events
    /// (or `--chunk`) or `READMODEL_CHUNK_ENTRIES` history entries (or `--chunk-entries`),
    /// whichever comes first. Timed whole; every write is timed too (the slowest and their sum).
    static func rebuildReadModel(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        let store = ReadModelStore<PartnershipState>(journal: journal)
        unlink(store.path)
        unlink(store.historyPath)
        let chunk = try a.int("chunk", default: ReadModelFile.chunkEvents)
        let entries = try a.int("chunk-entries", default: ReadModelFile.chunkEntries)
        var current: ReadModelStore<PartnershipState>.Current?
        let time = try seconds { current = try store.current(chunkEvents: chunk, chunkEntries: entries) }
        guard let current, current.wrote != nil, let last = current.writes.last, last.events == current.model.eventCount else {
            throw BenchError.failed("the rebuild wrote no read model covering every event")
        }
        var status = stat(), history = stat()
        stat(store.path, &status)
        stat(store.historyPath, &history)
        return ["seconds": time, "events": Double(current.model.eventCount), "writes": Double(current.writes.count),
                "writeSeconds": current.writes.reduce(0) { $0 + $1.seconds }, "slowestWrite": current.writes.map(\.seconds).max() ?? 0,
                "lastWrite": last.seconds, "mostEntries": Double(current.writes.map(\.historyEntries).max() ?? 0),
                "bytes": Double(status.st_size), "historyBytes": Double(history.st_size), "chunk": Double(chunk),
                "chunkEntries": Double(entries)]
    }

    /// Layout 2 (Format.md §9.4.5): the read model loaded and the events after it folded
    /// (untimed), then the write alone, timed: the summary rewritten and the new entries appended
    /// to the history file.
    static func writeReadModelIncremental(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        let store = ReadModelStore<PartnershipState>(journal: journal)
        let current = try store.current(refreshAfter: nil)
        guard current.loadedEvents != nil else { throw BenchError.failed("no valid read model: \(current.rejection?.reason ?? "none")") }
        let before = peakKiBSoFar()
        let time = try seconds { try store.write(current) }
        var status = stat()
        stat(store.path, &status)
        return ["seconds": time, "replayed": Double(current.replayed), "bytes": Double(status.st_size), "peakBeforeMiB": Double(before) / 1024]
    }

    /// VmHWM of this process so far, in KiB.
    static func peakKiBSoFar() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    static func stateSQLite(_ a: Arguments) throws -> Figures {
        let db = try SQLiteDB(path: try a.string("db"))
        var rows = 0
        let time = try seconds {
            for query in stateQueries {
                try db.prepare(query).forEachRow { _ in rows += 1 }
            }
        }
        return ["seconds": time, "rows": Double(rows)]
    }

    /// Appends `events` more own events (untimed set-up for later phases).
    static func appendMore(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        let writer = try journal.openWriter()
        let events = try a.int("events"), from = try a.int("from")
        var done = 0
        while done < events {
            let n = min(Workload.batch, events - done)
            try writer.append(Fixtures.realisticDrafts(count: n, startingAt: from + done), now: Workload.now(from + done))
            done += n
        }
        writer.close()
        return [:]
    }

    static func syncClient(_ a: Arguments) throws -> Figures {
        let journal = try EventJournal(opening: try a.string("journal"))
        let url = try PeerURL(try a.string("url"))
        var result: DirectorySync.Result?
        let time = try seconds {
            // The client is async (AsyncHTTPClient); this phase runs on a plain thread, so it waits.
            let box = SyncResultBox()
            let done = DispatchSemaphore(value: 0)
            Task {
                do { box.result = .success(try await SyncClient.sync(journal, with: url)) } catch { box.result = .failure(error) }
                done.signal()
            }
            done.wait()
            result = try box.result!.get()
        }
        return ["seconds": time, "pulled": Double(result?.pulled.appended ?? 0), "pushed": Double(result?.pushed.appended ?? 0)]
    }

    /// Serves a journal on a free loopback port until SIGTERM; writes the port to `--port-file`.
    static func serve(_ a: Arguments) throws {
        let journal = try EventJournal(opening: try a.string("journal"))
        let portFile = try a.string("port-file")
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await SyncServer.run(journal: journal, host: "127.0.0.1", port: 0, limits: SyncServer.Limits(maxBody: 64 << 20)) { port in
                    try? "\(port)\n".write(toFile: portFile + ".tmp", atomically: false, encoding: .utf8)
                    rename(portFile + ".tmp", portFile)
                }
            } catch {
                FileHandle.standardError.write("serve: \(error)\n".data(using: .utf8)!)
            }
            done.signal()
        }
        done.wait()
    }
}

/// The outcome of an async sync, handed to the waiting thread.
final class SyncResultBox: @unchecked Sendable {
    var result: Result<DirectorySync.Result, any Error>?
}

import Foundation
import Glibc

// Process plumbing, timing, files and lines: what every phase shares.
/// Monotonic nanoseconds.
func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Seconds `body` took.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = nanos()
    try body()
    return Double(nanos() - start) / 1e9
}

/// A phase's result: name → number, written by the child as `key value` lines.
typealias Figures = [String: Double]

/// What running a phase in a child process gave: its figures and its peak RSS (ru_maxrss of
/// wait4(2), the same as the child's VmHWM), in KiB.
struct ChildRun {
    var figures: Figures
    var peakKiB: Int
    var wall: Double
    subscript(key: String) -> Double { figures[key] ?? .nan }
    var peakMiB: Double { Double(peakKiB) / 1024 }
}

enum BenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { if case .failed(let why) = self { return why }; return "" }
}

/// The path of this program, for running its phases as children.
let selfPath: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(cString: buffer) : CommandLine.arguments[0]
}()

/// Spawns `arguments` (argv[0] included) with stdout to `stdout` (or /dev/null); returns the pid.
func spawn(_ arguments: [String], stdout: String? = nil) throws -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let status = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
    guard status == 0 else { throw BenchError.failed("cannot start \(arguments[0]): \(String(cString: strerror(status)))") }
    return pid
}

/// Runs this program's `phase` in a child process and waits: figures, peak RSS, wall time.
func runPhase(_ phase: String, _ arguments: [String], scratch: String) throws -> ChildRun {
    let result = scratch + "/phase-\(phase)-\(getpid())-\(nanos()).txt"
    let start = nanos()
    let pid = try spawn([selfPath, "phase", phase, "--result", result] + arguments)
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
    let wall = Double(nanos() - start) / 1e9
    guard status == 0 else { throw BenchError.failed("phase \(phase) \(arguments.joined(separator: " ")) failed (status \(status))") }
    var figures: Figures = [:]
    let text = (try? String(contentsOfFile: result, encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
    }
    unlink(result)
    return ChildRun(figures: figures, peakKiB: Int(usage.ru_maxrss), wall: wall)
}

/// Writes a child's figures for the parent.
func writeFigures(_ figures: Figures, to path: String) throws {
    let text = figures.map { "\($0.key) \($0.value)" }.sorted().joined(separator: "\n") + "\n"
    // Not atomically to /dev/null: a rename over it would replace the device with a file.
    try text.write(toFile: path, atomically: path != "/dev/null", encoding: .utf8)
}

/// Bytes of a file, or of every file under a folder.
func bytesOnDisk(_ path: String) -> Int64 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    if (info.st_mode & S_IFMT) != S_IFDIR { return Int64(info.st_size) }
    var total: Int64 = 0
    for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { total += bytesOnDisk(path + "/" + name) }
    return total
}

/// Reads a file line by line (without the newline), with a large buffer; memory is one line.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var line: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    init(_ path: String) throws {
        guard let file = fopen(path, "r") else { throw BenchError.failed("cannot open \(path)") }
        self.file = file
    }

    deinit {
        fclose(file)
        free(line)
    }

    /// Calls `body` with the next line's bytes; false at the end.
    func next<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T? {
        let n = getline(&line, &capacity, file)
        guard n > 0, let line else { return nil }
        let length = line[n - 1] == 0x0a ? n - 1 : n
        return try line.withMemoryRebound(to: UInt8.self, capacity: length) { try body(UnsafeBufferPointer(start: $0, count: length)) }
    }
}

/// An append-only file with plain buffered writes (not durable: for workload files only).
final class LineWriter {
    private let file: UnsafeMutablePointer<FILE>
    init(_ path: String) throws {
        guard let file = fopen(path, "w") else { throw BenchError.failed("cannot create \(path)") }
        self.file = file
    }
    deinit { fclose(file) }
    func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if bytes.withContiguousStorageIfAvailable({ fwrite($0.baseAddress, 1, $0.count, file) }) == nil {
            let copy = Array(bytes)
            fwrite(copy, 1, copy.count, file)
        }
    }
    func write(_ text: String) { fputs(text, file) }
}

/// Percentile (0–100) of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

/// Parses `--name value` arguments.
struct Arguments {
    var values: [String: String] = [:]
    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument.hasPrefix("--") { values[String(argument.dropFirst(2))] = iterator.next() ?? "" }
        }
    }
    func string(_ name: String) throws -> String {
        guard let value = values[name] else { throw BenchError.failed("missing --\(name)") }
        return value
    }
    func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        if let value = values[name], let number = Int(value) { return number }
        if let fallback { return fallback }
        throw BenchError.failed("missing --\(name)")
    }
}

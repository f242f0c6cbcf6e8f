import Glibc

/// A child process started with `posix_spawn(3)`, whose standard streams go to files.
///
/// The campaigns use this instead of Foundation's `Process`: it can be started from any thread,
/// killed with any signal at a chosen moment, and polled without blocking (`waitpid(WNOHANG)`).
public final class ChildProcess: @unchecked Sendable {
    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        /// It called `exit` with this status.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exit \(code)"
            case .signalled(let signal): return "signal \(signal)"
            }
        }
    }

    /// The child's process id.
    public let pid: pid_t
    private var ended: Termination?

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - stdin: a file to read standard input from (default `/dev/null`).
    ///   - stdout, stderr: files to write to (created or truncated; default `/dev/null`).
    ///   - environment: variables to set on top of this process's; `ACCORD_JOURNAL` is removed.
    /// - Throws: ``SpawnError`` when `posix_spawn` fails.
    public init(_ executable: String, _ arguments: [String], stdin: String? = nil, stdout: String? = nil, stderr: String? = nil, environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask, whatever ours is.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var variables: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") { variables[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            cursor += 1
        }
        variables.removeValue(forKey: "ACCORD_JOURNAL")
        for (name, value) in environment { variables[name] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(executable: executable, errno: result) }
        pid = child
    }

    /// Sends `signal` to the child (no effect once it has been reaped).
    public func kill(_ signal: Int32 = SIGKILL) {
        if ended == nil { _ = Glibc.kill(pid, signal) }
    }

    /// How the child ended, or nil while it runs (does not block).
    public func poll() -> Termination? {
        if let ended { return ended }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        ended = Self.decode(status)
        return ended
    }

    /// Waits for the child to end.
    @discardableResult
    public func wait() -> Termination {
        if let ended { return ended }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        ended = Self.decode(status)
        return ended!
    }

    /// Waits at most `seconds`; kills the child with SIGKILL after that.
    /// - Returns: how it ended, and whether the deadline killed it.
    public func wait(atMost seconds: Double) -> (Termination, timedOut: Bool) {
        let deadline = Clock.now + seconds
        while Clock.now < deadline {
            if let ended = poll() { return (ended, false) }
            usleep(2_000)
        }
        kill(SIGKILL)
        return (wait(), true)
    }

    private static func decode(_ status: Int32) -> Termination {
        let low = status & 0x7f
        return low == 0 ? .exited((status >> 8) & 0xff) : .signalled(low)
    }

    /// Runs `executable` to completion and returns its status and outputs (read from files in
    /// `scratch`).
    public static func run(_ executable: String, _ arguments: [String], scratch: String, stdin: String? = nil, environment: [String: String] = [:], timeout: Double = 300) throws -> Output {
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let out = scratch + "/.out-\(tag)", err = scratch + "/.err-\(tag)"
        defer { unlink(out); unlink(err) }
        let child = try ChildProcess(executable, arguments, stdin: stdin, stdout: out, stderr: err, environment: environment)
        let (termination, _) = child.wait(atMost: timeout)
        return Output(termination: termination, stdout: readText(out), stderr: readText(err))
    }

    /// A finished run.
    public struct Output: Sendable {
        public var termination: Termination
        public var stdout: String
        public var stderr: String
        /// The exit status, or -signal.
        public var status: Int32 {
            switch termination {
            case .exited(let code): return code
            case .signalled(let signal): return -signal
            }
        }
    }
}

/// `posix_spawn` failed.
public struct SpawnError: Error, CustomStringConvertible {
    public var executable: String
    public var errno: Int32
    public var description: String { "Cannot start '\(executable)': \(String(cString: strerror(errno)))." }
}

/// Monotonic seconds.
public enum Clock {
    public static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// The whole file as text ("" when it cannot be read).
public func readText(_ path: String) -> String {
    String(decoding: readBytes(path), as: UTF8.self)
}

/// The whole file ([] when it cannot be read).
public func readBytes(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if got < 0, errno == EINTR { continue }
        if got <= 0 { break }
        result += buffer[0..<got]
    }
    return result
}

/// Writes `bytes` to `path` (created or truncated).
public func writeBytes(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
        let wrote = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if wrote < 0, errno == EINTR { continue }
        if wrote <= 0 { return }
        done += wrote
    }
}

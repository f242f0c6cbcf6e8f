import Foundation

/// Runs the built `accord` executable in a child process, for tests of the command line.
public enum AccordExecutable {
    /// The path of `accord`: `$ACCORD_BIN`, else beside the test bundle (SwiftPM's products
    /// directory, e.g. `.build/debug`).
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["ACCORD_BIN"] { return override }
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        let candidate = directory.appendingPathComponent("accord").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return URL(fileURLWithPath: Fixtures.repositoryRoot).appendingPathComponent(".build/debug/accord").path
    }

    /// What a finished run printed and returned.
    public struct Result: Sendable {
        /// The exit status (README, "Exit codes").
        public var status: Int32
        /// Everything written to standard output, byte for byte.
        public var stdout: [UInt8]
        /// Everything written to standard error, as UTF-8 text.
        public var stderr: String
        /// Standard output as UTF-8 text.
        public var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `accord` with `arguments`, feeding `input` on standard input, and waits.
    public static func run(_ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ACCORD_JOURNAL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let scratch = TemporaryDirectory("run")
        let inPath = scratch.child("stdin"), outPath = scratch.child("stdout"), errPath = scratch.child("stderr")
        FileManager.default.createFile(atPath: inPath, contents: Data(input))
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        try? stdin.close()
        try? stdout.close()
        try? stderr.close()
        let outData = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let errorData = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
        return Result(status: process.terminationStatus, stdout: Array(outData), stderr: String(decoding: errorData, as: UTF8.self))
    }

    /// Starts `accord serve --listen 127.0.0.1:0` on `journal` and waits for the port it binds.
    /// - Parameters:
    ///   - tls: serve with `--tls` (the URL is then `https://`).
    ///   - environment: variables set for the server (e.g. `ACCORD_LOCK_TIMEOUT`).
    /// - Returns: the server process (stop it with `terminate()`, SIGTERM) and `http://127.0.0.1:PORT`.
    public static func serve(journal: String, scratch: String, tls: Bool = false, environment: [String: String] = [:]) throws -> (process: Process, url: String) {
        let scheme = tls ? "https" : "http"
        let outPath = scratch + "/serve-\(UUID().uuidString.prefix(8)).out"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--journal", journal] + (tls ? ["--tls"] : [])
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (key, value) in environment { env[key] = value }
            process.environment = env
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        for _ in 0..<400 {
            usleep(50_000)
            text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "\(scheme)://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), port > 0, text[range.upperBound...].dropFirst(digits.count).first != nil {
                    return (process, "\(scheme)://127.0.0.1:\(port)")
                }
            }
            if !process.isRunning { break }
        }
        let exited = !process.isRunning
        if !exited { process.terminate() }
        process.waitUntilExit()
        throw ServerDidNotStart(
            description: exited
                ? "accord serve exited with status \(process.terminationStatus) before it printed its port; it printed: \(text.debugDescription)"
                : "accord serve printed no port within 20 s; it printed: \(text.debugDescription)")
    }

    /// `accord serve` did not print the port it listens on.
    public struct ServerDidNotStart: Error, CustomStringConvertible {
        /// What happened, with what the server printed.
        public var description: String
    }

    /// Starts `accord` (or any program, with `executable`) without waiting.
    public static func start(
        _ arguments: [String], executable: String? = nil, input: FileHandle? = nil, environment: [String: String] = [:]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ACCORD_JOURNAL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let input { process.standardInput = input }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

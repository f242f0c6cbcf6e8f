import AccordModel
import AccordSegments
import AccordStore
import ArgumentParser
import Glibc

/// The `--journal DIR` option shared by every subcommand.
struct JournalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The journal directory.", discussion: "Default: $ACCORD_JOURNAL, else $XDG_DATA_HOME/accord/journal.", valueName: "dir"))
    var journal: String?

    /// The journal path: the option, else `ACCORD_JOURNAL`, else the XDG data directory.
    var path: String {
        if let journal { return journal }
        if let env = getenv("ACCORD_JOURNAL").map({ String(cString: $0) }), !env.isEmpty { return env }
        if let xdg = getenv("XDG_DATA_HOME").map({ String(cString: $0) }), !xdg.isEmpty { return xdg + "/accord/journal" }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.local/share/accord/journal"
    }

    func open() throws -> EventJournal { try EventJournal(opening: path) }

    /// The writer's options for every command that writes (append, import, sync, bundle
    /// apply, serve): `ACCORD_LOCK_TIMEOUT`, in seconds, is how long to wait for another
    /// writer's lock (default 30).
    /// - Throws: ``ValidationError`` when `ACCORD_LOCK_TIMEOUT` is not a number of seconds.
    static func writerOptions() throws -> SegmentWriter.Options {
        var options = SegmentWriter.Options()
        if let text = environment("ACCORD_LOCK_TIMEOUT") {
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                throw ValidationError("ACCORD_LOCK_TIMEOUT is '\(text.prefix(20))'; it must be a number of seconds, such as 30 or 0.5.")
            }
            options.lockTimeout = seconds
        }
        return options
    }
}

/// Reads a whole file, or standard input for "-".
func readInput(_ path: String, limit: Int) throws -> [UInt8] {
    if path != "-" {
        do {
            return try FileBytes.read(path, limit: limit)
        } catch let error as SegmentError {
            throw CommandFailure(status: .badInput, message: error.message)
        }
    }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            throw CommandFailure(status: .io, message: "Cannot read standard input: \(Errno(errno)).")
        }
        if got == 0 { return result }
        result.append(contentsOf: chunk[0..<got])
        if result.count > limit {
            throw CommandFailure(status: .badInput, message: "The input is larger than \(limit) bytes, the most one batch may hold; split it into several files.")
        }
    }
}

/// Writes bytes to standard output.
func writeOut(_ bytes: [UInt8]) {
    standardOutput.write(bytes)
}

func writeOut(_ text: String) {
    writeOut(Array(text.utf8))
}

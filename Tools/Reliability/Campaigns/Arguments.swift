import Glibc

/// The small command-line parsing the campaign drivers need: `--name value` pairs and flags.
public struct DriverArguments {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// Parses `arguments` (without the program name); `--name value`, or `--name` alone when
    /// `flagNames` lists it.
    public init(_ arguments: [String], flagNames: Set<String> = []) throws {
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            guard word.hasPrefix("--") else { throw UsageError(message: "Unexpected argument '\(word)'.") }
            let name = String(word.dropFirst(2))
            if flagNames.contains(name) {
                flags.insert(name)
                index += 1
            } else {
                guard index + 1 < arguments.count else { throw UsageError(message: "Option '\(word)' needs a value.") }
                values[name] = arguments[index + 1]
                index += 2
            }
        }
    }

    public func string(_ name: String, default value: String) -> String { values[name] ?? value }

    public func int(_ name: String, default value: Int) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text) else { throw UsageError(message: "--\(name) needs a whole number, not '\(text)'.") }
        return number
    }

    public func double(_ name: String, default value: Double) throws -> Double {
        guard let text = values[name] else { return value }
        guard let number = Double(text) else { throw UsageError(message: "--\(name) needs a number, not '\(text)'.") }
        return number
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Bad usage of a driver.
    public struct UsageError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// `accord` beside the running executable (SwiftPM puts both in `.build/<configuration>`),
/// unless `$ACCORD_BIN` names another.
public func defaultAccordPath() -> String {
    if let value = getenv("ACCORD_BIN") { return String(cString: value) }
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return "accord" }
    let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return directory + "/accord"
}

/// Writes a line to standard output at once.
public func say(_ text: String) {
    let line = Array((text + "\n").utf8)
    line.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}

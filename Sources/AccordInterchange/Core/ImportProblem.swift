/// One problem found in an input file: where it is and what is wrong with it.
public struct ImportProblem: Sendable, CustomStringConvertible {
    /// The input file's path as given.
    public var file: String
    /// The 1-based line of the file (XML), or nil when the input has no useful line.
    public var line: Int?
    /// The item concerned, e.g. `transaction 3 of activity XI-IATI-EC_INTPA-2018/40697/0`.
    public var item: String
    /// What is wrong, one sentence.
    public var message: String

    /// A problem of `item` at `line` of `file`.
    public init(file: String, line: Int?, item: String, message: String) {
        self.file = file
        self.line = line
        self.item = item
        self.message = message
    }

    /// `FILE:LINE: ITEM: MESSAGE`, the form compilers use, so editors can jump to it.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(item.isEmpty ? "" : item + ": ")\(message)"
    }
}

/// What an import found and did, per file: printed as its summary.
public struct ImportReport: Sendable {
    /// The input file's path as given.
    public var file: String
    /// Items read, by kind (`activities`, `transactions`, `transactions of type 2`, `rows` …).
    public var counts: [(String, Int)] = []
    /// Events written now.
    public var new = 0
    /// Events whose source identity the journal already held (not written again).
    public var alreadyKnown = 0
    /// Items not imported, with the reason, by reason.
    public var skipped: [String: Int] = [:]
    /// Problems that refused the file (nothing of it was written).
    public var problems: [ImportProblem] = []
    /// Batches written.
    public var batches = 0

    /// An empty report of `file`.
    public init(file: String) { self.file = file }

    /// Adds `n` items of `kind`; a new kind goes after those already counted.
    public mutating func count(_ kind: String, _ n: Int = 1) {
        if let index = counts.firstIndex(where: { $0.0 == kind }) {
            counts[index].1 += n
        } else {
            counts.append((kind, n))
        }
    }

    /// The items of `kind` counted, 0 when none.
    public func count(of kind: String) -> Int { counts.first { $0.0 == kind }?.1 ?? 0 }

    /// A few lines for a terminal: counts, new, already known, skipped with reasons.
    public var summary: String {
        var lines = ["\(file): " + (counts.isEmpty ? "nothing read" : counts.map { "\($0.1) \($0.0)" }.joined(separator: ", "))]
        if problems.isEmpty {
            lines.append("  \(new) new events in \(batches) batch\(batches == 1 ? "" : "es"), \(alreadyKnown) already known")
        }
        for reason in skipped.keys.sorted() {
            lines.append("  skipped \(skipped[reason]!): \(reason)")
        }
        return lines.joined(separator: "\n")
    }
}

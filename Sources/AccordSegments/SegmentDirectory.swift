import Glibc

/// A journal directory on disk: its `FORMAT` file, `segments/` and `quarantine/` (Format.md §1).
///
/// Opening one checks the format version first and refuses an unknown one before reading
/// anything else. Reading takes no lock: readers see only complete batches.
public struct SegmentDirectory: Sendable {
    /// The directory's path as given.
    public let path: String
    /// A batch read by one reader, kept for the next (``BatchHandoff``); shared by copies.
    package let handoff = BatchHandoff()

    /// Opens an existing journal directory for reading.
    /// - Parameter path: the journal directory.
    /// - Throws: ``SegmentError`` `.notAJournal` when `FORMAT` is missing or not a journal's,
    ///   `.unsupportedVersion` when it names another version.
    public init(opening path: String) throws {
        self.path = path
        let formatPath = path + "/" + SegmentFormat.formatFileName
        guard let content = try? FileBytes.read(formatPath, limit: SegmentFormat.maxFormatFileBytes) else {
            var info = stat()
            if stat(path, &info) != 0 {
                throw SegmentError(.notAJournal, "No journal at '\(path)': the directory does not exist. Create one with 'accord init --site NAME'.", path: path)
            }
            throw SegmentError(.notAJournal, "'\(path)' is not an Accord journal: it has no readable '\(SegmentFormat.formatFileName)' file.", path: path)
        }
        // Compared as bytes (Format.md §2): no trimming, no `\r\n`, no byte-order mark.
        guard !content.elementsEqual(SegmentFormat.formatFileContent.utf8) else { return }
        if let version = Self.formatVersion(content) {
            throw SegmentError(.unsupportedVersion, "The journal at '\(path)' has format version \(version); this program reads version \(SegmentFormat.version) only. Use a newer 'accord'.", path: SegmentFormat.formatFileName)
        }
        throw SegmentError(.notAJournal, "'\(path)/\(SegmentFormat.formatFileName)' does not name an Accord journal format.", path: SegmentFormat.formatFileName)
    }

    /// The version that a `FORMAT` file's bytes name (Format.md §2): `accord-journal`, one
    /// space, a version of 1 to 65,535 in decimal without a leading zero, and one `\n`; nil for
    /// any other bytes (not a journal).
    static func formatVersion(_ content: [UInt8]) -> Int? {
        let prefix = Array("accord-journal ".utf8)
        guard content.count > prefix.count + 1, content.starts(with: prefix), content.last == 0x0A else { return nil }
        let digits = content[prefix.count..<(content.count - 1)]
        guard digits.count <= 5, digits.first != 0x30, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let value = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return value <= Int(UInt16.max) ? value : nil
    }

    /// Creates an empty journal directory (Format.md §1), durably: every file and folder is
    /// synced, and the `FORMAT` file is written last, so a crash leaves no half-made journal
    /// that opens.
    /// - Throws: ``SegmentError`` `.alreadyExists` if a journal is there; `.io` on failure.
    /// - Parameter prepare: called before the `FORMAT` file is written, to add the files of
    ///   upper layers (keys, site name); a crash before `FORMAT` leaves no journal that opens,
    ///   and `create` may be called again.
    @discardableResult
    public static func create(at path: String, prepare: (String) throws -> Void = { _ in }) throws -> SegmentDirectory {
        var info = stat()
        if stat(path + "/" + SegmentFormat.formatFileName, &info) == 0 {
            throw SegmentError(.alreadyExists, "A journal already exists at '\(path)'.", path: path)
        }
        try makeDirectory(path)
        try makeDirectory(path + "/" + SegmentFormat.segmentsFolder)
        try makeDirectory(path + "/" + SegmentFormat.quarantineFolder)
        let lock = open(path + "/" + SegmentFormat.lockFileName, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else {
            throw SegmentError(.io, "Cannot create '\(path)/\(SegmentFormat.lockFileName)': \(Errno(errno)).", path: path, underlying: Errno(errno))
        }
        close(lock)
        try prepare(path)
        try FileBytes.syncDirectory(path + "/" + SegmentFormat.segmentsFolder)
        try FileBytes.syncDirectory(path + "/" + SegmentFormat.quarantineFolder)
        try FileBytes.writeAtomically(path + "/" + SegmentFormat.formatFileName, bytes: Array(SegmentFormat.formatFileContent.utf8))
        try FileBytes.syncDirectory(FileBytes.parent(of: path))
        return try SegmentDirectory(opening: path)
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw SegmentError(.io, "Cannot create the directory '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno))
        }
    }

    /// Path of a segment, relative to the journal directory.
    public static func relativeSegmentPath(_ number: Int) -> String {
        SegmentFormat.segmentsFolder + "/" + SegmentFormat.segmentName(number)
    }

    func segmentPath(_ number: Int) -> String { path + "/" + Self.relativeSegmentPath(number) }

    /// The segment numbers present, in order. Files that are not segment names are ignored.
    /// - Throws: `.corrupt` when a segment is missing from the sequence 1, 2, 3 …
    public func segmentNumbers() throws -> [Int] {
        let numbers = try presentSegmentNumbers()
        for (index, number) in numbers.enumerated() where number != index + 1 {
            throw SegmentError(.corrupt, "Segment '\(Self.relativeSegmentPath(index + 1))' is missing: segments must be numbered 1, 2, 3 … without gaps. Restore it from a backup or a peer.", path: Self.relativeSegmentPath(index + 1))
        }
        return numbers
    }

    /// The segment numbers present, in order, gaps or not (for `verify`, which checks what is
    /// there and reports a gap).
    func presentSegmentNumbers() throws -> [Int] {
        let folder = path + "/" + SegmentFormat.segmentsFolder
        guard let dir = opendir(folder) else {
            throw SegmentError(.io, "Cannot list '\(folder)': \(Errno(errno)).", path: SegmentFormat.segmentsFolder, underlying: Errno(errno))
        }
        defer { closedir(dir) }
        var numbers: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let number = SegmentFormat.segmentNumber(ofName: name) { numbers.append(number) }
        }
        numbers.sort()
        return numbers
    }

    /// Reads batches from `position` on, in order, across members and segments, in memory
    /// bounded by one batch.
    ///
    /// ```swift
    /// var batches = try journal.batches()
    /// while let batch = try batches.next() { for record in batch.records { … } }
    /// ```
    /// - Parameter tolerateTornTail: when true, an incomplete last batch (a writer may be
    ///   writing it now) ends the iteration and is reported in ``BatchIterator/tornTail``;
    ///   when false it throws `.tornTail`.
    /// - Throws: ``SegmentError`` `.corrupt` when a segment is missing from the sequence, `.io`;
    ///   damage is thrown by ``BatchIterator/next()``.
    /// - Parameter accessPoints: when set, each large batch read keeps its ``Batch/accessPoints``
    ///   (for ``inflate(ranges:ofBatchAt:framing:points:)``; the web view's index pass,
    ///   Journal/UI.md §8); nil (the default) records none and costs nothing.
    public func batches(from position: SegmentPosition = .start, tolerateTornTail: Bool = true, accessPoints: AccessPointOptions? = nil) throws -> BatchIterator {
        try BatchIterator(directory: self, position: position, tolerateTornTail: tolerateTornTail, accessPoints: accessPoints)
    }

    /// Checks every batch of every segment and reports all damage, continuing past it.
    ///
    /// `visit` sees each valid batch in order. Unlike ``batches(from:tolerateTornTail:)`` this
    /// never stops at damage: after an invalid batch it looks for the next valid one so that
    /// every damaged range is reported with its segment and byte offset.
    /// - Complexity: O(journal size); memory bounded by one batch.
    /// - Throws: ``SegmentError`` `.io` when a segment cannot be read, and whatever `visit`
    ///   throws; damage and a missing segment are reported, not thrown.
    public func scan(_ visit: (Batch) throws -> Void) throws -> IntegrityReport {
        var report = IntegrityReport()
        // A gap is reported, and the segments that are there are still checked (Format.md §6).
        let numbers = try presentSegmentNumbers()
        do {
            _ = try segmentNumbers()
        } catch let error as SegmentError where error.code == .corrupt {
            report.problems.append(error.message)
        }
        for number in numbers {
            let relative = Self.relativeSegmentPath(number)
            let scanner = try SegmentScanner(path: segmentPath(number), relativePath: relative)
            report.segments += 1
            report.bytes += scanner.size
            let isLast = number == numbers.last
            while true {
                var payload: [UInt8] = []
                var newlines: [Int] = []
                switch try scanner.next(into: &payload, newlines: &newlines) {
                case .end:
                    break
                case .batch(let offset, let length, _):
                    let batch = Batch(segment: number, offset: offset, length: length, payload: payload, newlines: newlines)
                    report.batches += 1
                    report.records += batch.records.count
                    try visit(batch)
                    continue
                case .invalid(let invalid):
                    let found = try scanner.classify(invalid, inLastSegment: isLast, findingResume: true)
                    guard let damage = found.damage else {
                        // Another version of Accord wrote it: not damage, never cut off; listed
                        // with its extent, and the check resumes at the next valid version-1
                        // batch of the segment, if any (Format.md §6).
                        let resume = try scanner.findValidMember(after: invalid.offset)
                        let length = (resume ?? scanner.size) - invalid.offset
                        let rest = resume.map { "checking resumes at byte \($0)" } ?? "nothing valid follows it in the segment"
                        report.problems.append(found.error(intactRecords: report.records).message + " (\(length) bytes; \(rest).)")
                        if let resume {
                            scanner.seek(to: resume)
                            continue
                        }
                        break
                    }
                    report.damages.append(damage)
                    if let resume = found.resume {
                        scanner.seek(to: resume)
                        continue
                    }
                }
                break
            }
        }
        return report
    }
}

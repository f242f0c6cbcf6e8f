import AccordModel
import Foundation

/// Turns IATI activities into events (Journal/Import.md, "IATI activity files").
///
/// - A funding per activity: subject `funding/<slug of iati-identifier>`.
/// - Each `participating-org` → `stakeholder.participated.v1` (`stakeholder/<slug of @ref>`, else
///   of its name), keeping its role code (1–4) and organisation type.
/// - Each `transaction` → one finance event by its type code (``IATITransactionType``) with the
///   value exactly as written (normalised `xsd:decimal`; negative values are corrections and
///   kept), its currency (`value/@currency`, else the activity's `@default-currency`), its date
///   (`transaction-date/@iso-date`, else `value/@value-date`), `valueDate`, provider and receiver.
///
/// Every event carries `data.source`, the identity of the item it came from, so importing the
/// same file again, or a later file of the same publisher that overlaps it, adds only what is new.
public struct IATIImporter {
    /// The file's path as given.
    public let file: String
    /// Counts, skipped items and problems of the last read.
    public private(set) var report: ImportReport
    /// Groups of events, one per activity, in file order.
    public private(set) var groups: [[ImportedEvent]] = []

    /// An importer of `file`; nothing is read until ``read(keepGroups:holdingAtMost:progress:)``.
    public init(file: String) {
        self.file = file
        report = ImportReport(file: file)
    }

    /// Whether ``groups`` holds every event of the file: true after a read whose events stayed
    /// within its bound; false when they did not (``groups`` is then empty, and
    /// ``replay(into:)`` reads the file again to hand them out).
    public private(set) var holdsAll = true
    /// The estimated memory of the events held in ``groups`` (``estimatedBytes(of:)``).
    public private(set) var heldBytes = 0

    /// The memory the events of one import may take while its files are checked whole before
    /// writing (Journal/Import.md, "IATI activity files": "One pass"): 128 MiB, as estimated by
    /// ``estimatedBytes(of:)``. Files whose events fit are read once; a larger one is checked,
    /// its events dropped, and read again under the writer lock (``replay(into:)``).
    public static let maxHeldBytes = 128 << 20

    /// Reads the whole file; afterwards ``report`` holds the counts and any problems, and
    /// ``groups`` the events (meaningful only when there are no problems).
    ///
    /// Events are held while they fit in `limit` bytes (``estimatedBytes(of:)``); past it they
    /// are dropped, ``holdsAll`` turns false, and ``replay(into:)`` hands them out again later,
    /// so that memory does not grow with the file. A file is read once when it fits.
    /// - Parameters:
    ///   - keepGroups: false drops every event (as a `limit` of 0).
    ///   - limit: the most memory the held events may take (estimated).
    ///   - progress: called after each activity with the number read so far.
    public mutating func read(keepGroups: Bool = true, holdingAtMost limit: Int = .max, progress: ((Int) -> Void)? = nil) {
        var converted: [[ImportedEvent]] = []
        var report = ImportReport(file: file)
        var held = 0
        var holding = keepGroups
        let limit = keepGroups ? limit : 0
        let file = self.file
        do {
            var identifiers: [BytewiseText: Int] = [:]  // by bytes: NFC and NFD identifiers differ
            try IATIActivityReader.read(path: file) { activity in
                // The same identifier twice in one file (IATI: identifiers are unique) would merge
                // two activities and make their transactions' identities collide: refused.
                if let identifier = activity.identifier.map(Self.clean), !identifier.isEmpty {
                    if let first = identifiers[BytewiseText(identifier)] {
                        report.problems.append(ImportProblem(file: file, line: activity.line, item: "activity \(identifier)",
                            message: "this iati-identifier was already used by the activity at line \(first); identifiers must be unique in a file."))
                    } else {
                        identifiers[BytewiseText(identifier)] = activity.line
                    }
                }
                let group = Self.convert(activity, file: file, report: &report)
                if holding, !group.isEmpty {
                    held += group.reduce(0) { $0 + Self.estimatedBytes(of: $1) }
                    if held <= limit {
                        converted.append(group)
                    } else {
                        holding = false
                        converted = []
                    }
                }
                progress?(report.count(of: "activities"))
            }
        } catch let failure as IATIActivityReader.Failure {
            report.problems.append(Self.problem(failure, file: file))
        } catch {
            report.problems.append(ImportProblem(file: file, line: nil, item: "", message: "\(error)"))
        }
        self.report = report
        holdsAll = holding
        heldBytes = holding ? held : 0
        groups = holding ? converted : []
        fileStamp = Self.stamp(file)
    }

    /// The memory an imported event is estimated to take while held: 512 bytes for the event
    /// and its identity's bytes, and for each value of its data 48 bytes and a text's bytes.
    public static func estimatedBytes(of event: ImportedEvent) -> Int {
        func bytes(_ value: JSONValue) -> Int {
            switch value {
            case .string(let text), .number(let text): 48 + text.utf8.count
            case .array(let items): items.reduce(48) { $0 + bytes($1) }
            case .object(let object): object.members.reduce(48) { $0 + 48 + $1.key.utf8.count + bytes($1.value) }
            case .null, .bool: 48
            }
        }
        return 512 + event.identity.utf8.count + bytes(.object(event.draft.data))
    }

    /// Size and modification time when read, to notice a file changed before ``replay(into:)``.
    private var fileStamp: [Int]?

    static func stamp(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }

    /// Reads the file again and hands each activity's events to `sink`, in file order: the
    /// second pass of an import that checked the whole file first but could not hold its events
    /// (``read(keepGroups:holdingAtMost:progress:)``, ``holdsAll``).
    /// - Throws: ``AccordError`` `.badInput` when the file changed since it was checked, or now
    ///   has problems; what `sink` throws (reading stops there).
    public func replay(into sink: ([ImportedEvent]) throws -> Void) throws {
        guard Self.stamp(file) == fileStamp else {
            throw AccordError(.badInput, "'\(file)' changed while it was being imported; import it again (what was written is kept, and only the rest will be added).")
        }
        var report = ImportReport(file: file)
        var failure: (any Error)?
        let file = self.file
        do {
            try withoutActuallyEscaping(sink) { sink in
                _ = try IATIActivityReader.read(path: file) { activity in
                    guard failure == nil else { return }
                    let group = Self.convert(activity, file: file, report: &report)
                    guard report.problems.isEmpty else { return }
                    do { try sink(group) } catch { failure = error }
                }
            }
        } catch let error as IATIActivityReader.Failure {
            report.problems.append(Self.problem(error, file: file))
        }
        if let failure { throw failure }
        if let problem = report.problems.first {
            throw AccordError(.badInput, "'\(file)' changed while it was being imported: \(problem)")
        }
    }

    static func problem(_ failure: IATIActivityReader.Failure, file: String) -> ImportProblem {
        switch failure {
        case .malformed(let line, let column, let message):
            ImportProblem(file: file, line: line, item: "", message: "not a well-formed XML document (column \(column)): \(message). Nothing of the file was imported.")
        case .wrongRoot(let line, let name):
            ImportProblem(file: file, line: line, item: "", message: "the root element is <\(name)>; an IATI activity file has <iati-activities>. Nothing of the file was imported.")
        case .unsupportedVersion(let line, let version):
            ImportProblem(file: file, line: line, item: "", message: "IATI version \(version): only 2.0x activity files are read (1.x elements differ). Nothing of the file was imported.")
        case .unreadable(let path):
            ImportProblem(file: file, line: nil, item: "", message: "cannot open '\(path)'.")
        case .notXML(let what):
            ImportProblem(file: file, line: 1, item: "", message: "not a well-formed XML document: \(what). Nothing of the file was imported.")
        case .refused(let line, let message):
            ImportProblem(file: file, line: line, item: "", message: "not read: \(message). Nothing of the file was imported.")
        }
    }

    /// Text as it goes into an identity: white space runs as one space, no control characters.
    static func clean(_ text: String) -> String { importText(text) ?? "" }

    /// The funding id of an activity: a readable slug of its `iati-identifier` ended with 8 hex
    /// digits of the SHA-256 of the identifier, so that identifiers that slug alike
    /// (`XX_1`, `XX-1`; `КЗ-1`, `ҚР-1`) stay distinct.
    public static func fundingID(_ identifier: String) -> String {
        ImportSlug.unique(clean(identifier), identity: "iati-activity " + clean(identifier), fallback: "activity")
    }

    /// The stakeholder id of an organisation: from its `@ref`, else from its name (any script),
    /// each made unique as ``fundingID(_:)`` is.
    public static func stakeholderID(_ organisation: IATIOrganisation) -> String? {
        if let ref = organisation.ref.map(clean), !ref.isEmpty {
            return ImportSlug.unique(ref, identity: "iati-org " + ref, fallback: "org")
        }
        if let name = organisation.name.flatMap(importText) {
            return ImportSlug.unique(name, identity: "iati-org-name " + name, fallback: "org")
        }
        return nil
    }

    /// A checked event, or nil with a problem recorded.
    static func make(_ type: String, _ subject: String, _ data: [(key: String, value: JSONValue)], identity: String,
                     line: Int, item: String, file: String, report: inout ImportReport) -> ImportedEvent? {
        guard let source = importText(identity), sameBytes(source, identity) else {
            report.problems.append(ImportProblem(file: file, line: line, item: item, message: "its identifiers (activity identifier, @ref) together exceed 4,000 bytes, so it cannot be told apart on a later import."))
            return nil
        }
        do {
            let object = JSONObject(data + [(Catalogue.sourceField, .string(source))])
            let subject = try Subject(subject)
            try Catalogue.validate(type: type, subject: subject, data: object)
            return ImportedEvent(draft: EventDraft(type: EventType(type), subject: subject, data: object), identity: source)
        } catch let error as AccordError {
            report.problems.append(ImportProblem(file: file, line: line, item: item, message: error.message))
            return nil
        } catch {
            report.problems.append(ImportProblem(file: file, line: line, item: item, message: "\(error)"))
            return nil
        }
    }
}

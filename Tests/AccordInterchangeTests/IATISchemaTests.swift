import AccordInterchange
import AccordModel
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import FoundationXML
import Testing

/// The IATI schema's own activity tests (IATI-Schemas `tests/activity-tests/`, copied to
/// shared/data/iati/schema-tests) run through the importer: a peer's test suite for ours.
@Suite("The IATI schema's activity tests")
struct IATISchemaTests {
    static func files(_ folder: String) throws -> [String] {
        let root = try Fixtures.sharedDataFile("iati/schema-tests/" + folder)
        let walker = FileManager.default.enumerator(atPath: root)
        var found: [String] = []
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(".xml") { found.append(root + "/" + relative) }
        }
        return found.sorted()
    }

    /// Transactions in the file, counted with the DOM parser (nil when it is not well-formed).
    static func transactionCount(_ file: String) -> Int? {
        guard let document = try? XMLDocument(contentsOf: URL(fileURLWithPath: file), options: []) else { return nil }
        // Activities without an identifier are skipped whole (Journal/Import.md).
        return (try? document.nodes(forXPath: "/iati-activities/iati-activity[normalize-space(iati-identifier) != '']/transaction"))?.count
    }

    struct Outcome {
        var imported = 0, importedWithSkips = 0, refused = 0
    }

    /// Imports `file` into a new journal as the CLI does; checks the invariants every file must meet.
    static func run(_ file: String, in temp: TemporaryDirectory, outcome: inout Outcome) throws -> IATIImporter {
        var importer = IATIImporter(file: file)
        importer.read()
        let journalPath = temp.child(file.split(separator: "/").suffix(2).joined(separator: "-"))
        let journal = try EventJournal.create(at: journalPath, site: SiteID("brussels"), seed: Fixtures.seed("brussels"))
        let before = try FileDamage.snapshot(of: journalPath)
        if importer.report.problems.isEmpty {
            let writer = try journal.openWriter()
            var known = Set<BytewiseText>()
            let result = try ImportWriter.write(importer.groups, to: writer, known: &known)
            writer.close()
            #expect(result.new == importer.groups.joined().count, "\(file)")
            #expect(try journal.verify().isClean, "\(file)")
            if importer.report.skipped.isEmpty { outcome.imported += 1 } else { outcome.importedWithSkips += 1 }
            // Every transaction the file holds became one finance event.
            if let expected = transactionCount(file) {
                let finance = importer.groups.joined().filter { $0.draft.type.rawValue.hasPrefix("finance.") }.count
                #expect(finance == expected, "\(file): \(finance) finance events for \(expected) transactions")
            }
        } else {
            outcome.refused += 1
            for problem in importer.report.problems {
                #expect(problem.description.hasPrefix(file), "a problem names its file: \(problem)")
                #expect(problem.message.count > 20, "a problem says what is wrong: \(problem)")
            }
            #expect(try FileDamage.snapshot(of: journalPath) == before, "a refused file writes nothing: \(file)")
        }
        return importer
    }

    /// The schema's test files leave `iati-identifier` empty (they are templates); without one an
    /// activity is skipped whole. To run the rest of the importer over their content too, this
    /// variant gives each empty identifier a value (`XX-SCHEMA-TEST-<n>`) first.
    static func withIdentifiers(_ file: String, into temp: TemporaryDirectory, index: Int) throws -> String {
        var text = try String(contentsOfFile: file, encoding: .utf8)
        var n = 0
        while let range = text.range(of: "<iati-identifier></iati-identifier>") {
            n += 1
            text.replaceSubrange(range, with: "<iati-identifier>XX-SCHEMA-TEST-\(n)</iati-identifier>")
        }
        let path = temp.child("\(index)-" + file.split(separator: "/").suffix(2).joined(separator: "-"))
        try FileDamage.write(path, Array(text.utf8))
        return path
    }

    @Test(arguments: ["should-pass", "should-fail"])
    func withIdentifiersSuppliedEveryFileIsImportedExactlyOrRefusedWithAClearErrorAndNothingWritten(folder: String) throws {
        let files = try Self.files(folder)
        let temp = TemporaryDirectory("schema-ids")
        var outcome = Outcome()
        var reasons: [String: Int] = [:]
        for (index, file) in files.enumerated() {
            let importer = try Self.run(try Self.withIdentifiers(file, into: temp, index: index), in: temp, outcome: &outcome)
            for problem in importer.report.problems { reasons[String(problem.message.prefix(48)), default: 0] += 1 }
        }
        print("IATI \(folder), identifiers supplied: \(files.count) files: \(outcome.imported) imported exactly, \(outcome.importedWithSkips) imported with skipped items explained, \(outcome.refused) refused")
        for reason in reasons.keys.sorted() { print("  refused for: \(reason)… ×\(reasons[reason]!)") }
        #expect(outcome.imported + outcome.importedWithSkips + outcome.refused == files.count)
    }

    @Test func everyShouldPassFileIsImportedExactlyOrItsSkippedItemsAreExplained() throws {
        let files = try Self.files("should-pass")
        #expect(files.count == 58)
        let temp = TemporaryDirectory("schema-pass")
        var outcome = Outcome()
        for file in files {
            let importer = try Self.run(file, in: temp, outcome: &outcome)
            #expect(importer.report.problems.isEmpty, "should-pass file refused: \(importer.report.problems.map(\.description))")
            for reason in importer.report.skipped.keys { #expect(!reason.isEmpty) }
        }
        print("IATI should-pass: \(files.count) files: \(outcome.imported) imported exactly, \(outcome.importedWithSkips) imported with skipped items explained, \(outcome.refused) refused")
    }

    @Test func everyShouldFailFileIsImportedOnlyWhereUnambiguousOrRefusedWithNothingWritten() throws {
        let files = try Self.files("should-fail")
        #expect(files.count == 225)
        let temp = TemporaryDirectory("schema-fail")
        var outcome = Outcome()
        var reasons: [String: Int] = [:]
        for file in files {
            let importer = try Self.run(file, in: temp, outcome: &outcome)
            for problem in importer.report.problems { reasons[String(problem.message.prefix(40)), default: 0] += 1 }
        }
        print("IATI should-fail: \(files.count) files: \(outcome.imported) imported (unambiguous for the importer), \(outcome.importedWithSkips) imported with skipped items explained, \(outcome.refused) refused")
        for reason in reasons.keys.sorted() { print("  refused for: \(reason)… ×\(reasons[reason]!)") }
        #expect(outcome.imported + outcome.importedWithSkips + outcome.refused == files.count)
    }
}

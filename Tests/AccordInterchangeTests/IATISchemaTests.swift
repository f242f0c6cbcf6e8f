import AccordInterchange
import AccordJournal
import AccordModel
import AccordTesting
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The IATI schema's own activity tests (IATI-Schemas `tests/activity-tests/`, copied to
/// shared/data/iati/schema-tests) run through the importer: a peer's test suite for ours.
@Suite("The IATI schema's activity tests")
struct IATISchemaTests {
    static func files(_ folder: String) -> [String] {
        let root = Fixtures.sharedData("iati/schema-tests/" + folder)
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
        return (try? document.nodes(forXPath: "/iati-activities/iati-activity/transaction"))?.count
    }

    struct Outcome {
        var imported = 0, importedWithSkips = 0, refused = 0
    }

    /// Imports `file` into a new journal as the CLI does; checks the invariants every file must meet.
    static func run(_ file: String, in temp: TemporaryDirectory, outcome: inout Outcome) throws -> IATIImporter {
        var importer = IATIImporter(file: file)
        importer.read()
        let journalPath = temp.child(URL(fileURLWithPath: file).lastPathComponent)
        let journal = try EventJournal.create(at: journalPath, site: SiteID("brussels"), seed: Fixtures.seed("brussels"))
        let before = try FileDamage.snapshot(of: journalPath)
        if importer.report.problems.isEmpty {
            let writer = try journal.openWriter()
            var known = Set<String>()
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

    @Test func everyShouldPassFileIsImportedExactlyOrItsSkippedItemsAreExplained() throws {
        let files = Self.files("should-pass")
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
        let files = Self.files("should-fail")
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

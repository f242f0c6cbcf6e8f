import AccordInterchange
import AccordModel
import AccordTesting
import Foundation
import Testing

/// The IATI import reads XML with libxml2's SAX2 push parser directly (Journal/Import.md,
/// "Reading the XML"): the same activities as the Foundation reader it replaced, a hostile file
/// refused within stated bounds, and one pass over a file whose events fit in memory.
@Suite("The streaming IATI reader")
struct IATIStreamingReaderTests {
    /// Every XML file of shared/data/iati, the schema's tests and codelists included.
    static func sharedFiles() throws -> [String] {
        let root = try Fixtures.sharedDataFile("iati")
        let walker = FileManager.default.enumerator(atPath: root)
        var found: [String] = []
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(".xml") { found.append(root + "/" + relative) }
        }
        return found.sorted()
    }

    /// What a reader made of a file: the version and every activity in full, or the kind of failure.
    static func outcome(_ read: (String, @escaping (IATIActivity) -> Void) throws -> String?, _ file: String) -> String {
        var activities: [String] = []
        do {
            let version = try read(file) { activities.append(String(reflecting: $0)) }
            return "version \(version ?? "none")\n" + activities.joined(separator: "\n")
        } catch {
            // Malformed: the two parsers may stop at another line of the same damage; the kind must agree.
            let text = String(describing: error)
            return text.hasPrefix("malformed") ? "malformed" : text
        }
    }

    @Test func theStreamingReaderReadsEverySharedIATIFileExactlyAsTheFoundationReaderDid() throws {
        let files = try Self.sharedFiles()
        #expect(files.count > 280, "the shared IATI files, the schema's tests included: \(files.count)")
        var activities = 0
        for file in files {
            let streamed = Self.outcome({ try IATIActivityReader.read(path: $0, onActivity: $1) }, file)
            let reference = Self.outcome({ try IATIReferenceReader.read(path: $0, onActivity: $1) }, file)
            #expect(streamed == reference, "\(file)")
            activities += streamed.split(separator: "\n").count - 1
        }
        #expect(activities > 400, "activities compared: \(activities)")
    }

    @Test func linesBeyond65535AreCountedAsTheFoundationReaderDid() throws {
        // libxml2 keeps an element's line in 16 bits; the lines of a big file's problems must not stop there.
        let eu = try String(contentsOfFile: try IATIImportTests.eu, encoding: .utf8)
        let start = try #require(eu.range(of: "<iati-activity "))
        let end = try #require(eu.range(of: "</iati-activities>"))
        let activities = eu[start.lowerBound..<end.lowerBound]
        var text = String(eu[..<start.lowerBound])
        for copy in 1...4 { text += activities.replacingOccurrences(of: "<iati-identifier>", with: "<iati-identifier>r\(copy)-") }
        text += "</iati-activities>\n"
        let temp = TemporaryDirectory("iati-lines")
        let file = temp.child("long.xml")
        try FileDamage.write(file, Array(text.utf8))
        #expect(text.utf8.filter { $0 == 0x0A }.count > 70_000)
        let streamed = Self.outcome({ try IATIActivityReader.read(path: $0, onActivity: $1) }, file)
        #expect(streamed == Self.outcome({ try IATIReferenceReader.read(path: $0, onActivity: $1) }, file))
        let lines = streamed.components(separatedBy: "line: ").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect((lines.max() ?? 0) > 90_000, "the last activities' lines: \(lines.max() ?? 0)")
    }

    struct Hostile: CustomTestStringConvertible, Sendable {
        var name: String
        var xml: String
        var mentions: [String]
        var testDescription: String { name }
    }

    static func document(doctype: String = "", title: String = "EU", inner: String = "") -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        \(doctype)<iati-activities version="2.03">
         <iati-activity default-currency="EUR">
          <iati-identifier>XI-TEST-1</iati-identifier>
          <reporting-org ref="XI-TEST"><narrative>Test</narrative></reporting-org>
          <title><narrative>\(title)</narrative></title>\(inner)
          <transaction ref="t1"><transaction-type code="2"/><transaction-date iso-date="2021-01-01"/><value>100</value></transaction>
         </iati-activity>
        </iati-activities>
        """
    }

    static let hostile: [Hostile] = [
        Hostile(name: "an internal entity", xml: document(doctype: "<!DOCTYPE iati-activities [<!ENTITY eu \"European Union\">]>\n", title: "&eu;"),
                mentions: ["input.xml:", "DOCTYPE", "Nothing of the file was imported"]),
        Hostile(name: "an external entity (XXE)", xml: document(doctype: "<!DOCTYPE iati-activities [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n", title: "&x;"),
                mentions: ["input.xml:", "DOCTYPE"]),
        Hostile(name: "nested entities (billion laughs)",
                xml: document(doctype: "<!DOCTYPE iati-activities [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\n", title: "&c;&c;&c;"),
                // libxml2 may stop it itself, as an entity loop, before the DOCTYPE is reported.
                mentions: ["input.xml:", "Nothing of the file was imported"]),
        Hostile(name: "an external DTD", xml: document(doctype: "<!DOCTYPE iati-activities SYSTEM \"http://127.0.0.1:9/iati.dtd\">\n"),
                mentions: ["DOCTYPE"]),
        Hostile(name: "elements nested 40 deep", xml: document(inner: String(repeating: "<x>", count: 40) + String(repeating: "</x>", count: 40)),
                mentions: ["input.xml:", "levels deep", "IATIActivityReader.maxDepth"]),
    ]

    @Test(arguments: hostile)
    func aHostileDocumentIsRefusedWithinTheBoundsAndNothingIsWritten(_ item: Hostile) throws {
        let temp = TemporaryDirectory("iati-hostile")
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        try FileDamage.write(temp.child("input.xml"), Array(item.xml.utf8))
        let result = try accord(["import", "iati", temp.child("input.xml")], journal: journal)
        #expect(result.status == 2, "\(result.output) \(result.stderr)")
        for mention in item.mentions { #expect(result.stderr.contains(mention), "'\(mention)' not in: \(result.stderr)") }
        #expect(!result.stderr.contains("root:"), "no file's content is read in: \(result.stderr)")
        #expect(result.output.contains("nothing of this file was imported"))
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    @Test func theSameDocumentWithoutTheDoctypeIsImported() throws {
        // The control for the cases above: what they refuse is the DTD or the depth, not the rest.
        let temp = TemporaryDirectory("iati-hostile")
        let journal = try newJournal(temp)
        try FileDamage.write(temp.child("input.xml"), Array(Self.document(title: "EU &amp; KZ &#x41;").utf8))
        let result = try accord(["import", "iati", temp.child("input.xml")], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("1 transactions"), "\(result.output)")
    }

    @Test func aFileBeyondTheSizeBoundIsRefusedBeforeItIsParsed() throws {
        let temp = TemporaryDirectory("iati-huge")
        let journal = try newJournal(temp)
        let before = try FileDamage.snapshot(of: journal)
        // Sparse: one byte more than the bound, without the disk space.
        let path = temp.child("huge.xml")
        try FileDamage.write(path, Array("<?xml version=\"1.0\"?>\n<iati-activities version=\"2.03\">".utf8))
        #expect(truncate(path, off_t(IATIActivityReader.maxFileBytes + 1)) == 0)
        let result = try accord(["import", "iati", path], journal: journal)
        #expect(result.status == 2)
        #expect(result.stderr.contains("huge.xml:"), "\(result.stderr)")
        #expect(result.stderr.contains("IATIActivityReader.maxFileBytes"), "\(result.stderr)")
        #expect(try FileDamage.snapshot(of: journal) == before)
    }

    /// The parts of an event that the import writes, comparable.
    static func written(_ groups: [[ImportedEvent]]) -> [String] {
        groups.joined().map { "\($0.identity)|\($0.draft.type)|\($0.draft.subject)|\(JSONValue.object($0.draft.data))" }
    }

    @Test func aFileWhoseEventsFitIsHeldFromOnePassAndOneBeyondTheBoundIsReadAgainForTheSameEvents() throws {
        let eu = try IATIImportTests.eu
        var whole = IATIImporter(file: eu)
        whole.read(holdingAtMost: IATIImporter.maxHeldBytes)
        #expect(whole.report.problems.isEmpty)
        #expect(whole.holdsAll)
        #expect(whole.heldBytes > 0 && whole.heldBytes <= IATIImporter.maxHeldBytes)
        #expect(whole.groups.joined().count == 664, "564 events of transactions and organisations, 100 of activities described")

        var bounded = IATIImporter(file: eu)
        bounded.read(holdingAtMost: whole.heldBytes / 2)
        #expect(bounded.report.problems.isEmpty)
        #expect(!bounded.holdsAll)
        #expect(bounded.groups.isEmpty && bounded.heldBytes == 0, "events beyond the bound are dropped, not half kept")
        var replayed: [[ImportedEvent]] = []
        try bounded.replay { replayed.append($0) }
        #expect(Self.written(replayed) == Self.written(whole.groups))
    }
}

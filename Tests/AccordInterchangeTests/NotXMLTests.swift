import AccordTesting
import Foundation
import Testing

/// A file given to `accord import iati` that is not XML is named for what it is, and an XML
/// error is said in words, not as libxml2's bare number ("XML error 4").
@Suite("Files that are not XML are named for what they are")
struct NotXMLTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var mentions: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "gzip", bytes: [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
             mentions: ["input.xml:1:", "gzip-compressed", "gunzip"]),
        Case(name: "a CSV table", bytes: Array("Project,Country\nA,KAZ\n".utf8), mentions: ["input.xml:1:", "does not begin with '<'", "CSV"]),
        Case(name: "JSON", bytes: Array(#"{"iati-activities":[]}"#.utf8), mentions: ["does not begin with '<'", "JSON"]),
        Case(name: "text after a byte-order mark", bytes: [0xEF, 0xBB, 0xBF] + Array("Hello\n".utf8), mentions: ["does not begin with '<'", "plain text"]),
        Case(name: "a ZIP archive", bytes: [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], mentions: ["ZIP archive"]),
        Case(name: "empty", bytes: [], mentions: ["not a well-formed XML document", "empty"]),
        Case(name: "XML cut short", bytes: Array("<?xml version=\"1.0\"?>\n<iati-activities version=\"2.03\">\n<iati-activity>\n<iati-ident".utf8),
             mentions: ["not a well-formed XML document"]),
    ]

    @Test(arguments: cases)
    func aFileThatIsNotXMLIsRefusedSayingWhatItIs(_ item: Case) throws {
        let temp = TemporaryDirectory("not-xml")
        let journal = try newJournal(temp)
        try FileDamage.write(temp.child("input.xml"), item.bytes)
        let result = try accord(["import", "iati", temp.child("input.xml")], journal: journal)
        #expect(result.status == 2)
        for mention in item.mentions { #expect(result.stderr.contains(mention), "'\(mention)' not in: \(result.stderr)") }
        #expect(!result.stderr.contains("XML error"), "\(result.stderr)")
    }
}

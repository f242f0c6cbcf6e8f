import AccordModel
import AccordProjections
import AccordTesting
import Testing

@Suite("Conflicts compare text by bytes")
struct ConflictScannerTests {
    /// Two offices register the same stakeholder without having seen each other's event.
    func conflicts(names: (String, String)) throws -> [ConflictScanner.Conflict] {
        let temp = TemporaryDirectory()
        let astana = try Office(temp, site: "astana")
        let brussels = try Office(temp, site: "brussels")
        func registration(_ name: String) -> String { #"{"name":"\#(name)","kind":"financial","country":"EU"}"# }
        let events = [
            try astana.record("stakeholder.registered.v1", "stakeholder/eib", registration(names.0)),
            try brussels.record("stakeholder.registered.v1", "stakeholder/eib", registration(names.1)),
        ]
        var scanner = ConflictScanner()
        for event in events { scanner.add(event) }
        return scanner.conflicts()
    }

    @Test func concurrentEqualValuesAreNoConflict() throws {
        #expect(try conflicts(names: ("Banque européenne", "Banque européenne")).isEmpty)
    }

    @Test func concurrentNFCAndNFDSpellingsAreDifferentValues() throws {
        let nfc = "Banque europ\u{E9}enne"
        let nfd = "Banque europe\u{301}enne"
        #expect(nfc == nfd) // Swift's String equates them; the bytes differ.
        let listed = try conflicts(names: (nfc, nfd))
        #expect(listed.map(\.field) == ["name"])
        #expect(listed.first?.writes.count == 2)
    }
}

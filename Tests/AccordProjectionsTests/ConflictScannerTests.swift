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

    @Test func concurrentDisbursementsBeyondTheCommitmentAreNoConflictOnceOneIsRetracted() throws {
        let temp = TemporaryDirectory()
        let astana = try Office(temp, site: "astana")
        let brussels = try Office(temp, site: "brussels")
        let commitment = try brussels.record("finance.committed.v1", "funding/h2", money("100.00", "EUR"))
        let a = try astana.record("finance.disbursed.v1", "funding/h2", money("60.00", "EUR"))
        let b = try brussels.record("finance.disbursed.v1", "funding/h2", money("70.00", "EUR"))
        func scan(_ events: [Event]) -> [ConflictScanner.Conflict] {
            var scanner = ConflictScanner()
            for event in events { scanner.add(event) }
            return scanner.conflicts()
        }
        #expect(scan([commitment, a, b]).map(\.field) == ["money"])
        let retracted = try brussels.record([retraction(of: b, "entered at both offices")])
        #expect(scan([commitment, a, b] + retracted).isEmpty)
        #expect(scan(retracted + [b, a, commitment]).isEmpty)
        // A retracted commitment no longer covers the disbursements.
        let c = try brussels.record("finance.disbursed.v1", "funding/h2", money("30.00", "EUR"))
        #expect(scan([commitment, a, c]).isEmpty)
        let noCommitment = try brussels.record([retraction(of: commitment, "wrong funding")])
        #expect(scan([commitment, a, c] + noCommitment).map(\.field) == ["money"])
        #expect(scan(noCommitment + [c, a, commitment]).first?.note.contains("beyond the commitment of 0 EUR") == true)
    }
}

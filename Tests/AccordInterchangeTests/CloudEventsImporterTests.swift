import AccordInterchange
import Testing

@Suite("CloudEvents import rules, in the library")
struct CloudEventsImporterTests {
    @Test func anAccordEventOfAnotherPartnershipIsRefusedSayingWhichSourceItNeeds() throws {
        let line = #"{"specversion":"1.0","id":"x1","source":"urn:accord:other:astana","type":"stakeholder.registered.v1","subject":"stakeholder/eib","accordsite":"astana","data":{}}"#
        let checked = try CloudEventsImporter.check(Array(line.utf8), file: "in.jsonl", partnership: "kz-eu")
        #expect(checked.records.isEmpty && checked.foreign.isEmpty)
        #expect(checked.report.problems.map(\.description) == [
            "in.jsonl:1: source is 'urn:accord:other:astana'; events of site 'astana' for this journal's partnership 'kz-eu' have source 'urn:accord:kz-eu:astana'. Events of another partnership are never merged (SyncProtocol.md).",
        ])
    }

    @Test func aForeignEventBecomesADraftCountedAsOtherEvents() throws {
        let line = #"{"specversion":"1.0","id":"42","source":"https://example.org/crm","type":"stakeholder.registered.v1","subject":"stakeholder/eib","data":{"name":"EIB","kind":"financial","country":"EU"}}"#
        let checked = try CloudEventsImporter.check(Array(line.utf8), file: "in.jsonl", partnership: "kz-eu")
        #expect(checked.report.problems.isEmpty)
        #expect(checked.foreign.map(\.identity) == ["ce:https://example.org/crm 42"])
        #expect(checked.report.count(of: "other events") == 1)
        #expect(checked.report.count(of: "cloudevents") == 1)
    }
}

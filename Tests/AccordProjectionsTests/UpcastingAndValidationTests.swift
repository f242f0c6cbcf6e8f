import AccordModel
import AccordProjections
import AccordStore
import AccordTesting
import Testing

@Suite("Upcasting old event versions")
struct UpcastingTests {
    @Test func theV1FixtureJournalReplaysToItsDocumentedState() throws {
        let journal = try EventJournal(opening: Fixtures.journalFixture("v1-three-batches"))
        let state = try StateBuilder(journal: journal).build(useReadModel: false).state
        // Documented in Journal/Format.md §9.3: two v1 commitments, read as v2.
        #expect(state.fundings["demo-1"]?.total(.committed).description == "80.60 USD")
        #expect(state.fundings["demo-1"]?.total(.disbursed).description == "0.10 EUR")
        #expect(state.fundings["demo-2"]?.total(.committed).description == "1234567.89 KZT")
        #expect(state.stakeholders.count == 2)
        #expect(state.agreements["eu-kz-mou-2022"]?.parties.value == ["european-commission", "kz-government"])
        #expect(Views.overDisbursed(state).map(\.funding) == ["demo-1"])
        #expect(try state.digest() == "3911107d06253e1c65f99f06e4ab0f504821d1a3cfcd9009258938eaa0398893")
    }

    @Test func aV1CommitmentAndItsV2EquivalentFoldAlike() throws {
        let v1 = Fixtures.object(#"{"provider":"eib","receiver":"kz-miid","amount":"80.60","currency":"USD","date":"2023-06-01","instrument":"grant"}"#)
        let upcast = Upcaster.upcast(type: "finance.committed.v1", data: v1)
        #expect(upcast.type == "finance.committed.v2")
        #expect(upcast.data["value"] == .object(JSONObject([("amount", .string("80.60")), ("currency", .string("USD"))])))
        #expect(upcast.data["iatiType"] == .string("2"))
        #expect(upcast.data["amount"] == nil)
        try Catalogue.validate(type: upcast.type, subject: try Subject("funding/x"), data: upcast.data)

        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        let old = try office.record("finance.committed.v1", "funding/x", #"{"provider":"eib","receiver":"kz-miid","amount":"80.60","currency":"USD","date":"2023-06-01"}"#)
        let new = try office.record("finance.committed.v2", "funding/y", #"{"provider":"eib","receiver":"kz-miid","value":{"amount":"80.60","currency":"USD"},"date":"2023-06-01","iatiType":"2"}"#)
        let state = fold([old, new])
        #expect(state.fundings["x"]?.total(.committed) == state.fundings["y"]?.total(.committed))
    }

    @Test func aV2CommitmentWithoutItsValueIsRefused() {
        let error = #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "finance.committed.v2", subject: try Subject("funding/x"), data: Fixtures.object(#"{"provider":"a","receiver":"b","value":{"amount":80.6,"currency":"USD"},"date":"2023-06-01","iatiType":"2"}"#))
        }
        #expect(error?.field == "data.value.amount")
    }
}

@Suite("Commands are checked against current state")
struct CommandValidationTests {
    func validator(_ drafts: [EventDraft]) throws -> CommandValidator {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        return CommandValidator(state: fold(try office.record(drafts)))
    }

    @Test func completingACancelledActionIsRefusedNamingItsState() throws {
        var check = try validator([
            Fixtures.draft("action.proposed.v1", "action/raw-materials-04", #"{"title":"T","pillar":"supply-chain-resilience"}"#),
            Fixtures.draft("action.cancelled.v1", "action/raw-materials-04", #"{"reason":"superseded"}"#),
        ])
        let error = #expect(throws: AccordError.self) { try check.check([Fixtures.draft("action.completed.v1", "action/raw-materials-04", "{}")]) }
        #expect(error?.message.contains("Action 'raw-materials-04' is 'cancelled'; it cannot become 'completed'.") == true)
    }

    @Test(arguments: [
        ("action.agreed.v1", "proposed", true), ("action.started.v1", "proposed", false), ("action.completed.v1", "proposed", false),
        ("action.cancelled.v1", "proposed", true), ("action.started.v1", "agreed", true), ("action.completed.v1", "started", true),
        ("action.agreed.v1", "completed", false), ("action.cancelled.v1", "completed", false), ("action.completed.v1", "completed", true),
    ])
    func theActionLifecycleIsEnforced(type: String, from status: String, allowed: Bool) throws {
        let path: [String: [String]] = ["proposed": [], "agreed": ["action.agreed.v1"], "started": ["action.agreed.v1", "action.started.v1"],
                                        "completed": ["action.agreed.v1", "action.started.v1", "action.completed.v1"]]
        var check = try validator([Fixtures.draft("action.proposed.v1", "action/x", #"{"title":"T","pillar":"supply-chain-resilience"}"#)]
            + path[status]!.map { Fixtures.draft($0, "action/x", "{}") })
        let draft = Fixtures.draft(type, "action/x", type == "action.cancelled.v1" ? #"{"reason":"r"}"# : "{}")
        if allowed {
            try check.check([draft])
        } else {
            #expect(throws: AccordError.self) { try check.check([draft]) }
        }
    }

    @Test func disbursingAgainstAnUnknownCommitmentIsRefused() throws {
        var check = try validator(register)
        let error = #expect(throws: AccordError.self) { try check.check([Fixtures.draft("finance.disbursed.v1", "funding/nothing", money("100.00", "EUR"))]) }
        #expect(error?.message.contains("Funding 'nothing' has no commitment") == true)
        // Within one batch, a commitment before the disbursement is enough.
        try check.check([
            Fixtures.draft("finance.committed.v1", "funding/new", money("100.00", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/new", money("100.00", "EUR")),
        ])
    }

    @Test func referencedStakeholdersMustExist() throws {
        var check = try validator(register)
        let error = #expect(throws: AccordError.self) {
            try check.check([Fixtures.draft("finance.committed.v1", "funding/x", money("1.00", "EUR", provider: "ghost"))])
        }
        #expect(error?.message.contains("Stakeholder 'ghost' is not registered") == true)
        #expect(error?.field == "data.provider", "the field that holds the reference, for the form")
        #expect(error?.line == 1)
        #expect(throws: AccordError.self) { try check.check([register[0]]) }  // registered twice
    }
}

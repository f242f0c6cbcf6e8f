import AccordModel
import AccordProjections
import AccordStore
import AccordTesting
import Testing

func retraction(of event: Event, _ reason: String = "recorded by mistake") -> EventDraft {
    Fixtures.draft("event.retracted.v1", event.subject.description, #"{"event":"\#(event.id.hex)","reason":"\#(reason)"}"#)
}

@Suite("Corrections: given events and their corrections, then each view")
struct CorrectionTests {
    @Test func aRetractedDisbursementLeavesTheSumsInEitherArrivalOrderAndIsListedWithItsReason() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("finance.committed.v1", "funding/h2", money("1000.00", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", money("100.00", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", money("250.000", "EUR")),  // wrong, and at another scale
        ])
        let wrong = events[5]
        let retracted = try office.record([retraction(of: wrong, "entered twice")])
        for given in [events + retracted, retracted + events] {
            try expectState(given: given) { state in
                let h2 = try #require(state.fundings["h2"])
                #expect(h2.total(.disbursed)["EUR"].description == "100.00")
                #expect(h2.transactions["disbursed"] == 1)
                #expect(state.isRetracted(wrong.id.hex, subject: "funding/h2"))
                let tables = View.finance.tables(of: state, reference: try CalendarDate(parsing: "2024-01-01"))
                let corrected = try #require(tables.first { $0.title.hasPrefix("Corrected transactions") })
                #expect(corrected.rows.count == 1)
                #expect(corrected.rows[0][2] == String(wrong.id.hex.prefix(12)))
                #expect(corrected.rows[0].last?.hasSuffix(": entered twice") == true)
            }
        }
        #expect(try fold(events + retracted).digest() == fold(retracted + events).digest())
        #expect(try fold(events + retracted).digest() != fold(events).digest())
    }

    @Test func aNegativeAmountLinkedToWhatItCorrectsIsShownOnBoth() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        let commitment = try office.record("finance.committed.v1", "funding/h2", money("1000.00", "EUR"))
        events.append(commitment)
        var check = CommandValidator(state: fold(events))
        let correction = Fixtures.draft("finance.committed.v1", "funding/h2", money("-200.00", "EUR", extra: #","corrects":"\#(commitment.id.hex)""#))
        try check.check([correction])
        events += try office.record([correction])
        try expectState(given: events) { state in
            #expect(state.fundings["h2"]?.total(.committed)["EUR"].description == "800.00")
            let table = try #require(Views.financeCorrections(state))
            #expect(table.rows.map { $0.last! }.sorted() == ["corrected by \(events.last!.id.hex.prefix(12))", "corrects \(commitment.id.hex.prefix(12))"])
        }
        // `corrects` must name a transaction of the same funding.
        var again = CommandValidator(state: fold(events))
        let error = #expect(throws: AccordError.self) {
            try again.check([Fixtures.draft("finance.committed.v1", "funding/other", money("-1.00", "EUR", extra: #","corrects":"\#(commitment.id.hex)""#))])
        }
        #expect(error?.field == "data.corrects")
    }

    @Test func retractionsAreCheckedAgainstTheEventTheyName() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        let commitment = try office.record("finance.committed.v1", "funding/h2", money("1000.00", "EUR"))
        events.append(commitment)
        var check = CommandValidator(state: fold(events))
        // Another subject's event, a register-only event, an unknown id: refused, naming the event.
        let wrongSubject = Fixtures.draft("event.retracted.v1", "funding/other", #"{"event":"\#(commitment.id.hex)","reason":"r"}"#)
        #expect(throws: AccordError.self) { try check.check([wrongSubject]) }
        let registration = events[0]
        let error = #expect(throws: AccordError.self) { try check.check([retraction(of: registration)]) }
        #expect(error?.message.contains("Event '\(registration.id.hex)' is not a finance transaction") == true)
        #expect(error?.field == "data.event")
        // The transaction itself: accepted once, refused a second time (in the batch, or later).
        try check.check([retraction(of: commitment)])
        #expect(throws: AccordError.self) { try check.check([retraction(of: commitment)]) }
        events += try office.record([retraction(of: commitment)])
        var after = CommandValidator(state: fold(events))
        let twice = #expect(throws: AccordError.self) { try after.check([retraction(of: commitment)]) }
        #expect(twice?.message.contains("already retracted") == true)
        // A retraction is not itself retractable.
        #expect(throws: AccordError.self) { try after.check([retraction(of: events.last!)]) }
        // The catalogue refuses an id that is not 64 hex digits.
        #expect(throws: AccordError.self) {
            try Catalogue.validate(type: "event.retracted.v1", subject: try Subject("funding/h2"), data: Fixtures.object(#"{"event":"abc","reason":"r"}"#))
        }
    }

    @Test func anActionCompletedByMistakeIsReopenedAndTheReasonShown() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events: [Event] = []
        events += try office.record([
            Fixtures.draft("action.proposed.v1", "action/roadmap", #"{"title":"Roadmap","pillar":"value-chain-integration"}"#),
            Fixtures.draft("action.agreed.v1", "action/roadmap", "{}"),
            Fixtures.draft("action.started.v1", "action/roadmap", "{}"),
            Fixtures.draft("action.completed.v1", "action/roadmap", "{}"),
            Fixtures.draft("action.proposed.v1", "action/audit", #"{"title":"Audit","pillar":"supply-chain-resilience"}"#),
        ])
        var check = CommandValidator(state: fold(events))
        let reopen = Fixtures.draft("action.reopened.v1", "action/roadmap", #"{"reason":"completed by mistake"}"#)
        try check.check([reopen])
        let open = #expect(throws: AccordError.self) { try check.check([Fixtures.draft("action.reopened.v1", "action/audit", #"{"reason":"r"}"#)]) }
        #expect(open?.message.contains("Action 'audit' is 'proposed', still open") == true)
        events += try office.record([reopen])
        try expectState(given: events) { state in
            #expect(state.actions["roadmap"]?.status?.value == .started)
            #expect(state.actions["roadmap"]?.note?.value == "completed by mistake")
            let tables = View.actions.tables(of: state, reference: try CalendarDate(parsing: "2024-01-01"))
            #expect(tables[0].rows.first { $0[1] == "roadmap" }?[3] == "started")
            #expect(tables.last?.rows.map { [$0[0], $0[2], $0[4]] } == [["action/roadmap", "reopened", "completed by mistake"]])
        }
        // Reopened, it can be completed again.
        var again = CommandValidator(state: fold(events))
        try again.check([Fixtures.draft("action.completed.v1", "action/roadmap", "{}")])
    }

    @Test func aCancelledActionIsReopenedOnlyToAStatusNamed() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        let events = try office.record([
            Fixtures.draft("action.proposed.v1", "action/audit", #"{"title":"Audit","pillar":"supply-chain-resilience"}"#),
            Fixtures.draft("action.cancelled.v1", "action/audit", #"{"reason":"wrong action"}"#),
        ])
        var check = CommandValidator(state: fold(events))
        let error = #expect(throws: AccordError.self) { try check.check([Fixtures.draft("action.reopened.v1", "action/audit", #"{"reason":"r"}"#)]) }
        #expect(error?.field == "data.status")
        let reopen = Fixtures.draft("action.reopened.v1", "action/audit", #"{"reason":"cancelled the wrong one","status":"proposed"}"#)
        try check.check([reopen])
        #expect(fold(events + (try office.record([reopen]))).actions["audit"]?.status?.value == .proposed)
    }

    @Test func aRetiredStakeholderLeavesTheViewsUntilItsRetirementIsRetracted() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        events += try office.record([Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib-typo", #"{"name":"EIB","kind":"financial","country":"EU"}"#)])
        var check = CommandValidator(state: fold(events))
        let retire = Fixtures.draft("subject.retired.v1", "stakeholder/eib-typo", #"{"reason":"duplicate of eib"}"#)
        try check.check([retire])
        #expect(throws: AccordError.self) { try check.check([retire]) }  // retired twice in one batch
        #expect(throws: AccordError.self) { try check.check([Fixtures.draft("subject.retired.v1", "stakeholder/nobody", #"{"reason":"r"}"#)]) }
        let retirement = try office.record([retire])
        events += retirement
        try expectState(given: events) { state in
            #expect(state.isRetired("stakeholder/eib-typo"))
            let tables = View.stakeholders.tables(of: state, reference: try CalendarDate(parsing: "2024-01-01"))
            #expect(!tables[0].rows.contains { $0[0] == "eib-typo" })
            #expect(tables[0].title == "Stakeholders (3)")
            #expect(tables[1].rows.map { [$0[0], $0[2], $0[4]] } == [["stakeholder/eib-typo", "retired", "duplicate of eib"]])
        }
        let undo = try office.record([retraction(of: retirement[0], "retired the wrong one")])
        for given in [events + undo, undo + events] {
            try expectState(given: given) { state in
                #expect(!state.isRetired("stakeholder/eib-typo"))
                #expect(state.retirements == nil)
                #expect(Views.stakeholders(state).rows.contains { $0[0] == "eib-typo" })
            }
        }
        #expect(try fold(events + undo).digest() == fold(undo + events).digest())
    }

    @Test func theRetirementOfAResearchProjectCanBeRetracted() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "astana")
        var events = try office.record(register)
        events += try office.record([Fixtures.draft("research.project.started.v1", "research/recycling", #"{"title":"Battery recycling","partners":["eib"]}"#)])
        let retirement = try office.record([Fixtures.draft("subject.retired.v1", "research/recycling", #"{"reason":"wrong id"}"#)])
        var check = CommandValidator(state: fold(events + retirement))
        try check.check([retraction(of: retirement[0], "right id after all")])
    }

    @Test func aRetiredProjectLeavesTheIndustryViewAndTheSummary() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "astana")
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("industry.project.registered.v1", "project/h2", #"{"name":"Hyrasia One","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#),
            Fixtures.draft("industry.project.registered.v1", "project/h2-copy", #"{"name":"Hyrasia One","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ"}"#),
            Fixtures.draft("industry.milestone.reached.v1", "project/h2-copy", #"{"milestone":"fid","date":"2024-06-01"}"#),
        ])
        events += try office.record([Fixtures.draft("subject.retired.v1", "project/h2-copy", #"{"reason":"registered twice"}"#)])
        try expectState(given: events) { state in
            let industry = View.industry.tables(of: state, reference: try CalendarDate(parsing: "2024-12-31"))
            #expect(industry[0].rows.map { $0[0] } == ["h2"])
            #expect(industry.last?.rows.first?[0] == "project/h2-copy")
            let summary = Views.summary(state, reference: try CalendarDate(parsing: "2024-12-31"))
            #expect(summary.rows.contains(["industrial projects", "1 (0 at final investment decision or beyond)"]))
        }
    }

    @Test func retractedOutputsAndDeliveriesLeaveTheResearchView() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "astana")
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("research.project.started.v1", "research/recycling", #"{"title":"Battery recycling","partners":["eib","kz-miid"]}"#),
            Fixtures.draft("research.output.published.v1", "research/recycling", #"{"title":"Interim report","date":"2024-01-10"}"#),
            Fixtures.draft("research.output.published.v1", "research/recycling", #"{"title":"Interim report (again)","date":"2024-01-10"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/esg", #"{"title":"ESG","provider":"eib","participants":25,"date":"2024-02-01"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/esg", #"{"title":"ESG","provider":"eib","participants":250,"date":"2024-05-01"}"#),
        ])
        let (output, delivery) = (events[5], events[7])
        var check = CommandValidator(state: fold(events))
        try check.check([retraction(of: output, "published once"), retraction(of: delivery, "250 was a typo")])
        let corrections = try office.record([retraction(of: output, "published once"), retraction(of: delivery, "250 was a typo")])
        for given in [events + corrections, corrections + events] {
            try expectState(given: given) { state in
                let research = View.research.tables(of: state, reference: try CalendarDate(parsing: "2024-12-31"))
                #expect(research[0].rows.first?.last == "1")
                #expect(research[1].rows.map { $0[2] } == ["Interim report"])
                #expect(research[2].totals == ["total", "", "", "1", "25"])
                #expect(research.last?.rows.map { [$0[0], $0[2], $0[4]] } == [["programme/esg", "retracted", "250 was a typo"], ["research/recycling", "retracted", "published once"]])
            }
        }
        #expect(try fold(events + corrections).digest() == fold(corrections + events).digest())
    }

    @Test func anImportedItemHeldTwiceIsTakenOutWhenEitherCopyIsRetracted() throws {
        let temp = TemporaryDirectory()
        let brussels = try Office(temp, site: "brussels")
        let astana = try Office(temp, site: "astana")
        let item = money("500.00", "EUR", extra: #","source":"iati:XM-DAC-1-1/3/2024-01-01""#)
        let registered = try brussels.record(register)
        let copyB = try brussels.record("finance.disbursed.v1", "funding/h2", item)
        let copyA = try astana.record("finance.disbursed.v1", "funding/h2", item)
        let other = try brussels.record("finance.disbursed.v1", "funding/h2", money("7.5", "EUR"))
        let retract = try astana.record([retraction(of: copyA, "imported from the wrong file")])
        let all = registered + [copyB, copyA, other] + retract
        var digests = Set<String>()
        for order in [all, all.reversed(), retract + [copyA, other, copyB] + registered, [copyB] + retract + [other, copyA] + registered] {
            let state = fold(order)
            #expect(state.fundings["h2"]?.total(.disbursed)["EUR"].description == "7.5")
            #expect(state.fundings["h2"]?.transactions["disbursed"] == 1)
            digests.insert(try state.digest())
        }
        #expect(digests.count == 1)
    }
}

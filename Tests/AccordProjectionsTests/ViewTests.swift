import AccordModel
import AccordProjections
import AccordTesting
import Testing

@Suite("Views: given events, then state")
struct ViewTests {
    @Test func financeSumsAreExactPerCurrencyWithCorrectionsAndFlags() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("finance.pledged.v1", "funding/h2", money("5000000.00", "EUR")),
            Fixtures.draft("finance.committed.v1", "funding/h2", money("1000000.00", "EUR", extra: #","valueChain":"renewable-hydrogen","instrument":"loan""#)),
            Fixtures.draft("finance.committed.v1", "funding/h2", money("-250000.00", "EUR")),  // a de-commitment
            Fixtures.draft("finance.committed.v1", "funding/kzt", money("1234567.89", "KZT", provider: "ebrd")),
            Fixtures.draft("finance.committed.v1", "funding/usd", money("80.60", "USD", provider: "ebrd")),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", money("0.10", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", money("0.10", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/h2", money("0.10", "EUR")),
            Fixtures.draft("finance.disbursed.v1", "funding/usd", money("100.00", "USD", provider: "ebrd")),
            Fixtures.draft("finance.spent.v1", "funding/h2", money("0.05", "EUR")),
        ])
        try expectState(given: events) { state in
            let h2 = try #require(state.fundings["h2"])
            #expect(h2.total(.pledged)["EUR"].description == "5000000.00")
            #expect(h2.total(.committed)["EUR"].description == "750000.00")
            #expect(h2.total(.disbursed)["EUR"].description == "0.30")
            #expect(h2.total(.spent)["EUR"].description == "0.05")
            #expect(h2.valueChain?.value == "renewable-hydrogen")
            #expect(h2.instrument?.value == "loan")
            let byFunder = Views.financeTable(state, by: "funder") { $0.provider.value }
            #expect(byFunder.columns == ["funder", "stage", "EUR", "KZT", "USD"])
            #expect(byFunder.rows.contains(["ebrd", "committed", "", "1234567.89", "80.60"]))
            #expect(byFunder.rows.contains(["eib", "outstanding", "749999.70", "", ""]))
            #expect(byFunder.rows.contains(["TOTAL", "committed", "750000.00", "1234567.89", "80.60"]))
            let flags = Views.overDisbursed(state)
            #expect(flags.count == 1)
            #expect(flags.first?.funding == "usd")
            #expect(flags.first?.disbursed.description == "100.00")
        }
    }

    @Test func actionsShowTheirLifecycleAndWhatIsOverdue() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events: [Event] = []
        events.append(try office.record("action.proposed.v1", "action/roadmap", #"{"title":"Roadmap","pillar":"value-chain-integration","due":"2023-05-07"}"#))
        events.append(try office.record("action.proposed.v1", "action/skills", #"{"title":"Skills","pillar":"skills-research-innovation","due":"2023-12-31"}"#))
        events.append(try office.record("action.proposed.v1", "action/audit", #"{"title":"Audit","pillar":"supply-chain-resilience","due":"2023-01-31"}"#))
        events.append(try office.record("action.agreed.v1", "action/roadmap", #"{}"#))
        events.append(try office.record("action.started.v1", "action/roadmap", #"{"note":"kick-off"}"#))
        events.append(try office.record("action.completed.v1", "action/roadmap", #"{}"#))
        events.append(try office.record("action.cancelled.v1", "action/audit", #"{"reason":"merged into skills"}"#))
        try expectState(given: events) { state in
            #expect(state.actions["roadmap"]?.status?.value == .completed)
            #expect(state.actions["audit"]?.status?.value == .cancelled)
            #expect(state.actions["audit"]?.note?.value == "merged into skills")
            #expect(state.actions["skills"]?.status?.value == .proposed)
            let reference = try CalendarDate(parsing: "2024-01-15")
            let tables = View.actions.tables(of: state, reference: reference)
            #expect(tables[0].rows.filter { $0.last == "OVERDUE" }.map { $0[1] } == ["skills"])
            #expect(tables[1].totals == ["total", "1", "0", "0", "1", "1", "1", "3"])
            #expect(Views.isOverdue(state.actions["skills"]!, at: try CalendarDate(parsing: "2023-12-31")) == false)
        }
    }

    @Test func stakeholdersIndustryAndResearchViews() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "astana")
        var events = try office.record(register)
        events += try office.record([
            Fixtures.draft("stakeholder.updated.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry and Construction"}"#),
            Fixtures.draft("industry.project.registered.v1", "project/h2-mangystau", #"{"name":"Hyrasia One","sponsor":"eib","valueChain":"renewable-hydrogen","country":"KZ","capacity":"40","capacityUnit":"GW"}"#),
            Fixtures.draft("industry.milestone.reached.v1", "project/h2-mangystau", #"{"milestone":"feasibility","date":"2023-03-01"}"#),
            Fixtures.draft("industry.milestone.reached.v1", "project/h2-mangystau", #"{"milestone":"fid","date":"2024-06-01"}"#),
            Fixtures.draft("industry.offtake.signed.v1", "offtake/li-1", #"{"buyer":"eib","seller":"kz-miid","commodity":"lithium","quantity":"12.5","unit":"kt"}"#),
            Fixtures.draft("industry.offtake.signed.v1", "offtake/li-2", #"{"buyer":"ebrd","seller":"kz-miid","commodity":"lithium","quantity":"7.5","unit":"kt"}"#),
            Fixtures.draft("research.project.started.v1", "research/recycling", #"{"title":"Battery recycling","partners":["eib","kz-miid"],"budget":"250000.00","currency":"EUR"}"#),
            Fixtures.draft("research.output.published.v1", "research/recycling", #"{"title":"Interim report","date":"2024-01-10"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/mining-esg", #"{"title":"ESG in mining","provider":"eib","participants":25,"date":"2024-02-01"}"#),
            Fixtures.draft("skills.programme.delivered.v1", "programme/mining-esg", #"{"title":"ESG in mining","provider":"eib","participants":30,"date":"2024-05-01"}"#),
        ])
        try expectState(given: events) { state in
            #expect(state.stakeholders["kz-miid"]?.name?.value == "Ministry of Industry and Construction")
            #expect(state.activity["kz-miid"] == 5)  // registered, updated, seller in two offtakes, research partner
            #expect(state.projects["h2-mangystau"]?.milestone?.value == .fid)
            let industry = View.industry.tables(of: state, reference: try CalendarDate(parsing: "2024-12-31"))
            #expect(industry[2].rows == [["lithium", "kt", "20.0", "2"]])
            let research = View.research.tables(of: state, reference: try CalendarDate(parsing: "2024-12-31"))
            #expect(research[0].rows.first?.last == "1")
            #expect(research[2].totals == ["total", "", "", "2", "55"])
            let summary = Views.summary(state, reference: try CalendarDate(parsing: "2024-12-31"))
            #expect(summary.rows.contains(["industrial projects", "1 (1 at final investment decision or beyond)"]))
        }
    }

    @Test func extremeButValidAmountsSumWithoutOverflowAndInvalidOnesAreIgnored() throws {
        var total = ExactDecimal.zero
        for _ in 0..<1000 {
            total += ExactDecimal("999999999999999999.999999999")!
            total += ExactDecimal("0.000000001")!
        }
        #expect(total.description == "1000000000000000000000.000000000")
        #expect(ExactDecimal("0.0000000000000000000000000001") == nil)  // beyond 9 decimals: not a catalogue amount
        let saturated = ExactDecimal(units: Int128.max, scale: 0) + ExactDecimal(units: 1, scale: 0)
        #expect(saturated.units == Int128.max)
    }

    @Test func tablesRenderAsAlignedTextCSVAndJSONLines() throws {
        let table = Table(title: "T", columns: ["name", "amount"], numeric: [1], rows: [["a, \"b\"", "1.00"], ["Қазақ", "10.00"]], totals: ["total", "11.00"])
        #expect(table.text() == "T\nNAME    AMOUNT\na, \"b\"    1.00\nҚазақ    10.00\n──────  ──────\ntotal    11.00\n")
        #expect(table.csv() == "name,amount\r\n\"a, \"\"b\"\"\",1.00\r\nҚазақ,10.00\r\n")
        #expect(table.jsonLines().map { String(decoding: $0, as: UTF8.self) } == [#"{"amount":"1.00","name":"a, \"b\""}"#, #"{"amount":"10.00","name":"Қазақ"}"#])
        #expect(table.jsonLines(titled: true).map { String(decoding: $0, as: UTF8.self) } == [#"{"amount":"1.00","name":"a, \"b\"","table":"T"}"#, #"{"amount":"10.00","name":"Қазақ","table":"T"}"#])
        let owning = Table(title: "T", columns: ["table", "n"], numeric: [1], integers: [1], rows: [["mine", "2"]])
        #expect(owning.jsonLines(titled: true).map { String(decoding: $0, as: UTF8.self) } == [#"{"n":2,"table":"mine"}"#])
    }

    @Test func aProgrammesTitleIsThatOfItsLatestDeliveryAndOfTwoOnOneDateTheOneWhoseIdIsLastInByteOrder() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record(register)
        // 40 programmes, each delivered twice on its last date under two titles (and once
        // earlier): with the hash order of the dictionary deciding, all 40 would come out as
        // the byte-order rule says only by a chance of one in 2^40.
        var drafts: [EventDraft] = []
        for n in 0..<40 {
            for (title, date) in [("early", "2024-01-01"), ("first", "2024-06-01"), ("second", "2024-06-01")] {
                drafts.append(Fixtures.draft("skills.programme.delivered.v1", "programme/p-\(n)",
                                             #"{"title":"\#(title) \#(n)","provider":"eib","participants":5,"date":"\#(date)"}"#))
            }
        }
        events += try office.record(drafts)
        var lastByProgramme: [String: Event] = [:]
        for event in events where event.type.rawValue == "skills.programme.delivered.v1" && event.data["date"]?.stringValue == "2024-06-01" {
            let programme = event.subject.id
            if let other = lastByProgramme[programme], !other.id.hex.utf8.lexicographicallyPrecedes(event.id.hex.utf8) { continue }
            lastByProgramme[programme] = event
        }
        try expectState(given: events) { state in
            let table = try #require(Views.research(state).first { $0.title == "Skills programmes" })
            #expect(table.rows.count == 40)
            for row in table.rows {
                #expect(row[1] == lastByProgramme[row[0]]?.data["title"]?.stringValue, "programme \(row[0])")
                #expect(row[3] == "3" && row[4] == "15")
            }
        }
    }
}

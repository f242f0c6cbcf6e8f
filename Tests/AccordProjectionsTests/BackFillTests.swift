import AccordModel
import AccordProjections
import AccordStore
import AccordTesting
import Testing

/// A time `days` days after 2022-11-07T10:00:00Z.
func day(_ days: Int64) -> Timestamp { Fixtures.time(days * 86_400) }

@Suite("Back-filled events: given events recorded out of date order, then state")
struct BackFillTests {
    static let eib = #"{"name":"EIB","kind":"financial","country":"EU"}"#

    /// A journal where EIB is registered, renamed a year later, then a change dated between the
    /// two is entered late (`--time` in the past).
    static func renamedThenBackFilled() throws -> (TemporaryDirectory, Office, [Event]) {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events: [Event] = []
        events += try office.record([Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib", eib, time: day(0))])
        events += try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"European Investment Bank"}"#, time: day(500))])
        events += try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB (2023 spelling)","country":"LU"}"#, time: day(60))])
        return (temp, office, events)
    }

    @Test func aBackFilledChangeDoesNotOverrideALaterDatedOne() throws {
        let (_, office, events) = try Self.renamedThenBackFilled()
        #expect(events[2].hlc > events[1].hlc)  // recorded last …
        try expectState(given: events) { state in
            // … but dated before the rename: the rename stands; the back-filled country, which nothing later set, shows.
            #expect(state.stakeholders["eib"]?.name?.value == "European Investment Bank")
            #expect(state.stakeholders["eib"]?.country?.value == "LU")
            #expect(state.stakeholders["eib"]?.name?.stamp.isBackFilled == false)
        }
        // Time travel shows the back-filled change from its date, and the rename from its own.
        let builder = StateBuilder(journal: office.journal)
        #expect(try builder.build(cutoff: .asOf(day(100))).state.stakeholders["eib"]?.name?.value == "EIB (2023 spelling)")
        #expect(try builder.build(cutoff: .asOf(day(30))).state.stakeholders["eib"]?.name?.value == "EIB")
        #expect(try builder.build(cutoff: .asOf(day(700))).state.stakeholders["eib"]?.name?.value == "European Investment Bank")
    }

    @Test func aChangeRecordedNowAfterSeeingABackFilledOneWins() throws {
        let (_, office, events) = try Self.renamedThenBackFilled()
        let now = try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"EIB Group"}"#, time: day(501))])
        try expectState(given: events + now) { state in
            #expect(state.stakeholders["eib"]?.name?.value == "EIB Group")
        }
    }

    @Test func ofTwoChangesBackFilledToTheSameInstantTheOneWrittenAfterSeeingTheOtherWins() throws {
        let (_, office, events) = try Self.renamedThenBackFilled()
        let fix = try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"country":"EU"}"#, time: day(60))])
        try expectState(given: events + fix) { state in
            #expect(state.stakeholders["eib"]?.country?.value == "EU")
        }
        try expectState(given: (events + fix).reversed()) { state in
            #expect(state.stakeholders["eib"]?.country?.value == "EU")
        }
    }

    @Test(arguments: [(23, false), (25, true)] as [(Int64, Bool)])
    func anEventIsBackFilledOnlyWhenDatedMoreThanTheClockToleranceBeforeItsClock(hours: Int64, backFilled: Bool) throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        var events = try office.record([Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib", Self.eib, time: day(10))])
        events += try office.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"Late"}"#, time: Fixtures.time(10 * 86_400 - hours * 3600))])
        #expect(Timestamp.clockTolerance == 86_400)
        #expect(Stamp(events[1]).isBackFilled == backFilled)
        // Within the tolerance, a slow clock: the later recording wins. Beyond it, the later date does.
        #expect(fold(events).stakeholders["eib"]?.name?.value == (backFilled ? "EIB" : "Late"))
    }

    @Test func aCorrectionFromAnOfficeWhoseClockIsTwoHoursSlowStillWinsOverWhatItSaw() throws {
        let temp = TemporaryDirectory()
        let brussels = try Office(temp, site: "brussels")
        let astana = try Office(temp, site: "astana")
        try astana.journal.trust(try brussels.journal.signingKey().publicKey, for: brussels.journal.site)
        let first = try brussels.record([Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib", Self.eib, time: Fixtures.time(7200))])
        _ = try astana.writer.appendReplicated(first.map(\.record))
        let correction = try astana.record([Fixtures.draft("stakeholder.updated.v1", "stakeholder/eib", #"{"name":"European Investment Bank"}"#, time: Fixtures.time(60))])
        #expect(correction[0].hasSeen(first[0]))
        #expect(fold(first + correction).stakeholders["eib"]?.name?.value == "European Investment Bank")
        #expect(fold(correction + first).stakeholders["eib"]?.name?.value == "European Investment Bank")
    }

    @Test func anActionStartedBeforeItWasAgreedIsRefusedNamingBothTimes() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        let events = try office.record([
            Fixtures.draft("action.proposed.v1", "action/x", #"{"title":"T","pillar":"supply-chain-resilience"}"#, time: day(0)),
            Fixtures.draft("action.agreed.v1", "action/x", "{}", time: day(200)),
        ])
        var check = CommandValidator(state: fold(events))
        let error = #expect(throws: AccordError.self) {
            try check.check([Fixtures.draft("action.started.v1", "action/x", "{}", time: day(100))])
        }
        #expect(error?.message.contains("Action 'x' became 'agreed' at \(day(200)); it cannot become 'started' at \(day(100)), before that.") == true)
        #expect(error?.field == "time")
        // At or after the agreement, or without a time (now), it is accepted; so is the next step in the batch.
        var later = CommandValidator(state: fold(events))
        try later.check([Fixtures.draft("action.started.v1", "action/x", "{}", time: day(200))])
        #expect(throws: AccordError.self) { try later.check([Fixtures.draft("action.completed.v1", "action/x", "{}", time: day(150))]) }
        var now = CommandValidator(state: fold(events))
        try now.check([Fixtures.draft("action.started.v1", "action/x", "{}"), Fixtures.draft("action.completed.v1", "action/x", "{}")])
    }

    @Test func anAgreementBackFilledBeforeTheProposalIsRefused() throws {
        let temp = TemporaryDirectory()
        let office = try Office(temp, site: "brussels")
        let events = try office.record([Fixtures.draft("action.proposed.v1", "action/x", #"{"title":"T","pillar":"supply-chain-resilience"}"#, time: day(50))])
        var check = CommandValidator(state: fold(events))
        let error = #expect(throws: AccordError.self) { try check.check([Fixtures.draft("action.agreed.v1", "action/x", "{}", time: day(10))]) }
        #expect(error?.message.contains("became 'proposed' at \(day(50))") == true)
    }
}

import AccordModel
import AccordProjections
import AccordStore
import AccordTesting
import Testing

/// Events made by real writers at fixed times: `site`'s journal under `temp`.
final class Office {
    let journal: EventJournal
    let writer: EventWriter
    var clock: Int64 = 0

    init(_ temp: TemporaryDirectory, site: String) throws {
        journal = try Fixtures.makeJournal(at: temp.child(site), site: site)
        writer = try journal.openWriter()
    }

    /// Appends one batch; each call is an hour after the previous.
    @discardableResult
    func record(_ drafts: [EventDraft]) throws -> [Event] {
        clock += 3600
        return try writer.append(drafts, now: Fixtures.time(clock))
    }

    @discardableResult
    func record(_ type: String, _ subject: String, _ json: String) throws -> Event {
        try record([Fixtures.draft(type, subject, json)])[0]
    }
}

/// Folds events into a new state.
func fold(_ events: [Event]) -> PartnershipState {
    var state = PartnershipState()
    for event in events { PartnershipProjection.apply(event, to: &state) }
    return state
}

/// Given these events, when folded, the state satisfies `check` (STYLE §12: given/when/then).
func expectState(given events: [Event], _ check: (PartnershipState) throws -> Void) rethrows {
    try check(fold(events))
}

func money(_ amount: String, _ currency: String, provider: String = "eib", receiver: String = "kz-miid", extra: String = "") -> String {
    #"{"provider":"\#(provider)","receiver":"\#(receiver)","amount":"\#(amount)","currency":"\#(currency)","date":"2023-06-01"\#(extra)}"#
}

let register = [
    Fixtures.draft("stakeholder.registered.v1", "stakeholder/eib", #"{"name":"European Investment Bank","kind":"financial","country":"EU","valueChains":["renewable-hydrogen"]}"#),
    Fixtures.draft("stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry","kind":"government","country":"KZ"}"#),
    Fixtures.draft("stakeholder.registered.v1", "stakeholder/ebrd", #"{"name":"EBRD","kind":"financial","country":"EU"}"#),
]

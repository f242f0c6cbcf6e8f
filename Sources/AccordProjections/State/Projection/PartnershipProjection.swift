import AccordModel

/// The partnership projection: a pure fold of events into ``PartnershipState`` (Format.md §9).
///
/// ```swift
/// var state = PartnershipState()
/// for event in events { PartnershipProjection.apply(event, to: &state) }
/// ```
/// The result does not depend on the order events are applied in: last values are decided by
/// ``Stamp`` and sums commute. Events of types it does not know (a newer peer's) are counted in
/// ``PartnershipState/feeds`` and otherwise left alone.
public enum PartnershipProjection {
    /// Name of the projection, in snapshots.
    public static let name = "partnership"
    /// Its version: raised whenever ``apply(_:to:)`` changes what it computes, so that older
    /// snapshots are ignored and rebuilt.
    /// Version 3: back-filled events are ordered by their `time` (§9.1), and corrections are
    /// folded (Decision 0011).
    public static let version = 3

    /// Folds one event into `state`.
    /// - Parameters:
    ///   - event: The event, of any type and version; older versions are upcast first.
    ///   - state: The state to fold it into.
    /// - Complexity: O(1) dictionary updates, plus the size of the event's data.
    public static func apply(_ event: Event, to state: inout PartnershipState) {
        countFeed(of: event, in: &state)
        let change = Change(event)
        countActivity(of: change, in: &state)
        switch change.type {
        case "stakeholder.registered.v1", "stakeholder.updated.v1": applyStakeholder(change, to: &state)
        case "stakeholder.participated.v1": applyParticipation(change, to: &state)
        case "agreement.signed.v1": applyAgreement(change, to: &state)
        case "action.proposed.v1": applyProposal(change, to: &state)
        case "action.agreed.v1", "action.started.v1", "action.completed.v1", "action.cancelled.v1": applyLifecycle(change, to: &state)
        case "finance.pledged.v1", "finance.committed.v2", "finance.disbursed.v1", "finance.spent.v1", "finance.transaction.recorded.v1":
            applyFinance(change, to: &state)
        case "industry.project.registered.v1": applyProject(change, to: &state)
        case "industry.milestone.reached.v1": applyMilestone(change, to: &state)
        case "industry.offtake.signed.v1": applyOfftake(change, to: &state)
        case "research.project.started.v1": applyResearch(change, to: &state)
        case "research.output.published.v1": applyOutput(change, to: &state)
        case "skills.programme.delivered.v1": applyDelivery(change, to: &state)
        case "action.reopened.v1": applyReopening(change, to: &state)
        case "event.retracted.v1": applyRetraction(change, to: &state)
        case "subject.retired.v1": applyRetirement(change, to: &state)
        default: break
        }
    }

    /// Counts `event` in its site's feed, and keeps the feed's last sequence number and id.
    private static func countFeed(of event: Event, in state: inout PartnershipState) {
        var feed = state.feeds[event.site.rawValue] ?? PartnershipState.Feed(events: 0, lastSeq: 0, lastID: "")
        feed.events += 1
        if event.seq.rawValue > feed.lastSeq {
            feed.lastSeq = event.seq.rawValue
            feed.lastID = event.id.hex
        }
        state.feeds[event.site.rawValue] = feed
    }

    /// Counts the event once for every stakeholder it refers to, and for its subject when that
    /// is a stakeholder.
    private static func countActivity(of change: Change, in state: inout PartnershipState) {
        let subject = change.event.subject.kind == "stakeholder" ? [change.id] : []
        for reference in change.fields.stakeholderReferences(type: change.type) + subject {
            state.activity[reference, default: 0] += 1
        }
    }
}

extension PartnershipProjection {
    /// One event as the fold reads it: upcast to the current version of its type.
    struct Change {
        /// The event as stored.
        let event: Event
        /// The current type of the event (after upcasting).
        let type: String
        /// Its data, upcast with the type.
        let data: JSONObject
        /// Typed access to ``data``.
        let fields: Fields
        /// Its place in the fold order.
        let stamp: Stamp

        init(_ event: Event) {
            self.event = event
            (type, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
            fields = Fields(data)
            stamp = Stamp(event)
        }

        /// The id of the event's subject.
        var id: String { event.subject.id }
    }
}

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
        apply(Change(event), to: &state)
    }

    private static func apply(_ change: Change, to state: inout PartnershipState) {
        countFeed(of: change.event, in: &state)
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

    /// Folds one event into `state`, and notes in `touched` every subject whose view rows the
    /// event may have changed: its own subject, the subject of the view its type folds into
    /// (`finance.*` into `funding`, `industry.project.*` and `industry.milestone.*` into
    /// `project`, and so on, in case an event names a subject of another kind), and every
    /// stakeholder it refers to (their event counts change).
    ///
    /// Used by the PostgreSQL mirror (Mirror.md §3) to rewrite only the rows of those subjects.
    /// Nothing else of the state changes: every part of ``PartnershipState`` a view shows is
    /// keyed by one of these subjects (research outputs and programme deliveries by their
    /// research project or programme).
    /// - Parameters:
    ///   - event: The event, as for ``apply(_:to:)``.
    ///   - state: The state to fold it into.
    ///   - touched: Subject kind (`stakeholder`, `funding`, …) → ids; added to, never cleared.
    /// - Complexity: that of ``apply(_:to:)``, plus the event's references.
    public static func apply(_ event: Event, to state: inout PartnershipState, touching touched: inout [String: Set<String>]) {
        let change = Change(event)
        apply(change, to: &state)
        let subject = event.subject
        touched[subject.kind, default: []].insert(subject.id)
        if let kind = viewKind(ofType: change.type), kind != subject.kind { touched[kind, default: []].insert(subject.id) }
        for reference in change.fields.stakeholderReferences(type: change.type) { touched["stakeholder", default: []].insert(reference) }
    }

    /// The kind of subject whose view an event of `type` (upcast) folds into, or nil.
    private static func viewKind(ofType type: String) -> String? {
        let prefixes: [(String, String)] = [
            ("stakeholder.", "stakeholder"), ("agreement.", "agreement"), ("action.", "action"), ("finance.", "funding"),
            ("industry.project.", "project"), ("industry.milestone.", "project"), ("industry.offtake.", "offtake"),
            ("research.", "research"), ("skills.programme.", "programme"),
        ]
        return prefixes.first { type.utf8.starts(with: $0.0.utf8) }?.1
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
            state.activity.add(reference)
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

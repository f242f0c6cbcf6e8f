import AccordModel

/// Checks new events against the current state before they are appended (Format.md §9.6):
/// an action's lifecycle (proposed → agreed → started → completed; cancelled from any open
/// state; nothing leaves completed or cancelled but `action.reopened.v1`, though either may be
/// recorded again, which resolves a conflict over it; no step recorded before the step that set
/// the current status), that disbursements and expenditure follow a commitment, that
/// referenced stakeholders, actions and projects exist, and that corrections name what they
/// correct (Decision 0011).
///
/// Only local commands are checked: events that arrive from another site by sync are never
/// refused for business reasons. The events of one batch are checked in order, each against the
/// state left by the ones before it.
public struct CommandValidator {
    private var state: PartnershipState
    private var registered: Set<String> = []
    private var statuses: [String: ActionStatus] = [:]
    private var committed: Set<String> = []
    private var projects: Set<String> = []
    private var research: Set<String> = []
    /// The time of each action's latest lifecycle step in this batch.
    private var statusTimes: [String: Timestamp] = [:]
    /// Subjects retired in this batch.
    private var retired: Set<String> = []
    /// Retractions in this batch (``Retraction/key(event:subject:)``).
    private var retractedHere: Set<String> = []

    /// A validator of drafts against `state`, the state before them.
    public init(state: PartnershipState) {
        self.state = state
    }

    /// Checks `drafts` in order.
    /// - Throws: ``AccordError`` `.badInput` naming the subject and its current state, with
    ///   `line` set to the 1-based position of the refused draft.
    public mutating func check(_ drafts: [EventDraft]) throws {
        for (index, draft) in drafts.enumerated() {
            do {
                try check(draft)
            } catch let error as AccordError {
                throw error.at(line: index + 1)
            }
        }
    }

    private func stakeholderExists(_ id: String) -> Bool {
        registered.contains(id) || state.stakeholders[id]?.registered != nil
    }

    private func status(of action: String) -> ActionStatus? {
        statuses[action] ?? state.actions[action]?.status?.value
    }

    private func statusTime(of action: String) -> Timestamp? {
        statusTimes[action] ?? state.actions[action]?.statusTime.flatMap { try? Timestamp(rfc3339: $0.value) }
    }

    /// Refuses a lifecycle step recorded (`time`) before the step that set the action's current
    /// status: it would describe the past, and the fold would not let it override that step.
    /// A draft without a time is recorded now, after everything the journal holds.
    private func checkTime(of draft: EventDraft, action id: String, becoming next: String) throws {
        guard let time = draft.time, let current = status(of: id), let since = statusTime(of: id), time < since else { return }
        throw AccordError(.badInput, "Action '\(id)' became '\(current.rawValue)' at \(since); it cannot become '\(next)' at \(time), before that. Record it with a time at or after \(since).", field: "time")
    }

    /// Checks one draft and records its effect for the drafts after it.
    public mutating func check(_ draft: EventDraft) throws {
        let (type, data) = Upcaster.upcast(type: draft.type.rawValue, data: draft.data)
        let id = draft.subject.id
        let fields = Fields(data)
        // `unspecified` in a single-stakeholder field is what an import writes when its source
        // names no organisation; a transaction of such a funding may name it too (§9.6).
        let single = Fields.singleStakeholderKeys.compactMap { key in fields.string(key).map { (key, $0) } }
            .filter { !sameBytes($0.1, Catalogue.unspecifiedStakeholder) }
        let listed = Fields.listedStakeholderKeys.flatMap { key in (fields.strings(key) ?? []).map { (key, $0) } }
        // The field named is the one that holds the reference (the web form shows the error beside it).
        for (key, reference) in single + listed where !stakeholderExists(reference) {
            throw AccordError(.badInput, "Stakeholder '\(reference)' is not registered; register it with stakeholder.registered.v1 first.", field: "data." + key)
        }
        if let action = fields.string("action"), draft.subject.kind == "funding", status(of: action) == nil {
            throw AccordError(.badInput, "Action '\(action)' does not exist; propose it with action.proposed.v1 first.", field: "data.action")
        }
        switch type {
        case "stakeholder.registered.v1":
            guard !stakeholderExists(id) else {
                throw AccordError(.badInput, "Stakeholder '\(id)' is already registered; change it with stakeholder.updated.v1.", field: "subject")
            }
            registered.insert(id)
        case "stakeholder.updated.v1":
            guard stakeholderExists(id) else {
                throw AccordError(.badInput, "Stakeholder '\(id)' is not registered; it cannot be updated.", field: "subject")
            }
        case "action.proposed.v1":
            if let current = status(of: id) {
                throw AccordError(.badInput, "Action '\(id)' already exists and is '\(current.rawValue)'; it cannot be proposed again.", field: "subject")
            }
            statuses[id] = .proposed
        case "action.agreed.v1", "action.started.v1", "action.completed.v1", "action.cancelled.v1":
            let next = ActionStatus(eventType: type) ?? .cancelled
            guard let current = status(of: id) else {
                throw AccordError(.badInput, "Action '\(id)' does not exist; it cannot become '\(next.rawValue)'. Propose it first, or, if another office proposed it, run 'accord sync' (or apply its bundle) first.", field: "subject")
            }
            let allowed: Bool = switch next {
            case .agreed: current == .proposed
            case .started: current == .agreed
            case .completed: current == .started || current == .completed
            case .cancelled: current.isOpen || current == .cancelled
            case .proposed: false
            }
            guard allowed else {
                // A step skipped forward (proposed → started) may be a step another office
                // recorded and this journal has not received yet.
                let before: ActionStatus? = switch next {
                case .agreed: .proposed
                case .started: .agreed
                case .completed: .started
                case .proposed, .cancelled: nil
                }
                if let before, current.isOpen, current < before {
                    throw AccordError(.badInput, "Action '\(id)' is '\(current.rawValue)'; it cannot become '\(next.rawValue)' before it is '\(before.rawValue)'. If another office recorded that step, run 'accord sync' (or apply its bundle) first.", field: "subject")
                }
                throw AccordError(.badInput, "Action '\(id)' is '\(current.rawValue)'; it cannot become '\(next.rawValue)'.", field: "subject")
            }
            try checkTime(of: draft, action: id, becoming: next.rawValue)
            statuses[id] = next
            if let time = draft.time { statusTimes[id] = time } else { statusTimes[id] = nil }
        case "action.reopened.v1":
            guard let current = status(of: id) else {
                throw AccordError(.badInput, "Action '\(id)' does not exist; it cannot be reopened. Propose it first.", field: "subject")
            }
            guard !current.isOpen else {
                throw AccordError(.badInput, "Action '\(id)' is '\(current.rawValue)', still open; only a completed or cancelled action can be reopened.", field: "subject")
            }
            let target = fields.string("status").flatMap(ActionStatus.init(rawValue:))
            if current == .cancelled, target == nil {
                throw AccordError(.badInput, "Action '\(id)' is 'cancelled'; say which open status it returns to with data.status (proposed, agreed or started).", field: "data.status")
            }
            let next = target ?? .started
            try checkTime(of: draft, action: id, becoming: next.rawValue)
            statuses[id] = next
            if let time = draft.time { statusTimes[id] = time } else { statusTimes[id] = nil }
        case "event.retracted.v1":
            try checkRetraction(of: fields.string("event") ?? "", subject: draft.subject)
        case "subject.retired.v1":
            let subject = draft.subject.description
            guard exists(draft.subject) else {
                throw AccordError(.badInput, "Subject '\(subject)' has no events; there is nothing to retire.", field: "subject")
            }
            guard !state.isRetired(subject), !retired.contains(subject) else {
                throw AccordError(.badInput, "Subject '\(subject)' is already retired; to bring it back, retract its retirement with event.retracted.v1.", field: "subject")
            }
            retired.insert(subject)
        case "finance.committed.v2":
            committed.insert(id)
            try checkCorrects(fields, funding: id)
        case "finance.pledged.v1", "finance.transaction.recorded.v1":
            try checkCorrects(fields, funding: id)
        case "finance.disbursed.v1", "finance.spent.v1":
            try checkCorrects(fields, funding: id)
            let hasCommitment = committed.contains(id) || (state.fundings[id]?.transactions[FinanceStage.committed.rawValue] ?? 0) > 0
            guard hasCommitment else {
                let stage = type == "finance.spent.v1" ? "expenditure" : "disbursement"
                throw AccordError(.badInput, "Funding '\(id)' has no commitment; a \(stage) needs one (record finance.committed first, or, if another office recorded it, run 'accord sync' first).", field: "subject")
            }
        case "industry.project.registered.v1":
            projects.insert(id)
        case "industry.milestone.reached.v1":
            guard projects.contains(id) || state.projects[id]?.name != nil else {
                throw AccordError(.badInput, "Project '\(id)' is not registered; it cannot reach a milestone.", field: "subject")
            }
        case "research.project.started.v1":
            research.insert(id)
        case "research.output.published.v1":
            guard research.contains(id) || state.research[id]?.title != nil else {
                throw AccordError(.badInput, "Research project '\(id)' has not started; it cannot publish an output.", field: "subject")
            }
        default:
            break
        }
    }

    /// Whether the journal (or this batch) holds an event about `subject`.
    private func exists(_ subject: Subject) -> Bool {
        let id = subject.id
        switch subject.kind {
        case "stakeholder": return stakeholderExists(id) || state.stakeholders[id] != nil
        case "action": return status(of: id) != nil
        case "funding": return committed.contains(id) || state.fundings[id] != nil
        case "agreement": return state.agreements[id] != nil
        case "project": return projects.contains(id) || state.projects[id] != nil
        case "offtake": return state.offtakes[id] != nil
        case "research": return research.contains(id) || state.research[id] != nil || state.countsOfHistory.outputs.keys.contains { sameBytes($0, id) }
        case "programme": return state.countsOfHistory.programmes.keys.contains { sameBytes($0, id) }
        default: return false
        }
    }

    /// A retraction must name an event of its own subject that can be taken out — a finance
    /// transaction, a research output, a programme delivery or a retirement — and not yet
    /// retracted.
    private mutating func checkRetraction(of target: String, subject: Subject) throws {
        let id = subject.id
        let text = subject.description
        let retractable: Bool = switch subject.kind {
        case "funding": state.fundings[id]?.ledger[target] != nil
        case "research": state.outputs[target].map { sameBytes($0.research, id) } ?? false
        case "programme": state.deliveries[target].map { sameBytes($0.programme, id) } ?? false
        default: false
        }
        let retirement = state.retirements?[text]?[target] != nil
        guard retractable || retirement else {
            throw AccordError(.badInput, "Event '\(target.prefix(64))' is not a finance transaction, research output, programme delivery or retirement of '\(text)'; only those can be retracted, with the subject of the event retracted. Correct other events with a later one (stakeholder.updated.v1, action.reopened.v1) or retire the subject (subject.retired.v1).", field: "data.event")
        }
        guard !state.isRetracted(target, subject: text), retractedHere.insert(Retraction.key(event: target, subject: text)).inserted else {
            throw AccordError(.badInput, "Event '\(target)' of '\(text)' is already retracted; a retraction cannot be taken back — record the event again instead.", field: "data.event")
        }
    }

    /// A finance event's `corrects` must name a transaction of the same funding.
    private func checkCorrects(_ fields: Fields, funding id: String) throws {
        guard let target = fields.string("corrects") else { return }
        guard state.fundings[id]?.ledger[target] != nil else {
            throw AccordError(.badInput, "Field 'data.corrects' names event '\(target.prefix(64))', which is not a finance transaction of funding '\(id)'; name the transaction this one corrects ('accord log --subject funding/\(id)' lists them).", field: "data.corrects")
        }
    }
}

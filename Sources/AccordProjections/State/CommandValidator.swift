import AccordModel

/// Checks new events against the current state before they are appended (DESIGN, Projections):
/// an action's lifecycle (proposed → agreed → started → completed; cancelled from any open
/// state; nothing leaves completed or cancelled, though either may be recorded again, which
/// resolves a conflict over it), that disbursements and expenditure follow a
/// commitment, and that referenced stakeholders, actions and projects exist.
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

    /// Checks one draft and records its effect for the drafts after it.
    public mutating func check(_ draft: EventDraft) throws {
        let (type, data) = Upcaster.upcast(type: draft.type.rawValue, data: draft.data)
        let id = draft.subject.id
        let fields = Fields(data)
        for reference in fields.stakeholderReferences(type: type) where !stakeholderExists(reference) {
            throw AccordError(.badInput, "Stakeholder '\(reference)' is not registered; register it with stakeholder.registered.v1 first.", field: "data")
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
            statuses[id] = next
        case "finance.committed.v2":
            committed.insert(id)
        case "finance.disbursed.v1", "finance.spent.v1":
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
}

import AccordModel

/// The built-in views of the state: each turns ``PartnershipState`` into tables.
public enum View: String, CaseIterable, Sendable {
    /// Headline figures (``Views/summary(_:reference:)``).
    case summary
    /// The stakeholders (``Views/stakeholders(_:)``).
    case stakeholders
    /// The roadmap actions (``Views/actions(_:reference:)``).
    case actions
    /// Finance (``Views/finance(_:)``).
    case finance
    /// Industrial projects and offtakes (``Views/industry(_:)``).
    case industry
    /// Research and skills (``Views/research(_:)``).
    case research

    /// The view's tables. `reference` is the date against which actions are overdue.
    public func tables(of state: PartnershipState, reference: CalendarDate) -> [Table] {
        switch self {
        case .summary: return [Views.summary(state, reference: reference)]
        case .stakeholders: return [Views.stakeholders(state)]
        case .actions: return Views.actions(state, reference: reference)
        case .finance: return Views.finance(state)
        case .industry: return Views.industry(state)
        case .research: return Views.research(state)
        }
    }
}

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

    /// The view's tables. `reference` is the date against which actions are overdue. Retired
    /// subjects and retracted events are left out (``Views/visible(_:)``); the corrections of
    /// the view's subjects follow, in a last table, when there are any.
    public func tables(of state: PartnershipState, reference: CalendarDate) -> [Table] {
        switch self {
        case .summary: return [Views.summary(state, reference: reference)]
        case .stakeholders: return [Views.stakeholders(state)] + [Views.corrections(state, kinds: ["stakeholder", "agreement"])].compactMap { $0 }
        case .actions: return Views.actions(state, reference: reference) + [Views.corrections(state, kinds: ["action"])].compactMap { $0 }
        case .finance:
            return Views.finance(state) + [Views.financeCorrections(state), Views.corrections(state, kinds: ["funding"])].compactMap { $0 }
        case .industry: return Views.industry(state) + [Views.corrections(state, kinds: ["project", "offtake"])].compactMap { $0 }
        case .research: return Views.research(state) + [Views.corrections(state, kinds: ["research", "programme"])].compactMap { $0 }
        }
    }
}

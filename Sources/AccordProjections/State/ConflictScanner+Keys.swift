import AccordModel

extension ConflictScanner {
    /// The event types whose fields the scanner follows.
    enum EventTypes {
        /// Lifecycle events of an action: they write its `status`.
        static let lifecycle = ["action.agreed.v1", "action.started.v1", "action.completed.v1", "action.cancelled.v1"]
        /// Events each of whose data members is a register.
        static let registers = ["stakeholder.registered.v1", "stakeholder.updated.v1", "agreement.signed.v1", "industry.project.registered.v1",
                                "industry.offtake.signed.v1", "research.project.started.v1"]
    }

    /// A field of a subject: where writes compete.
    struct FieldKey: Hashable, Comparable {
        var subject: BytewiseText
        var field: BytewiseText

        init(subject: String, field: String) {
            self.subject = BytewiseText(subject)
            self.field = BytewiseText(field)
        }

        /// By subject, then by field.
        static func < (a: Self, b: Self) -> Bool {
            a.subject == b.subject ? a.field < b.field : a.subject < b.subject
        }
    }
}

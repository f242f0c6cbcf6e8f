import AccordModel

/// One event an import wants to write, with the identity of what it came from.
public struct ImportedEvent: Sendable {
    /// The event to append.
    public var draft: EventDraft
    /// The source identity, also stored in the event's `data.source`.
    public var identity: String

    /// The event `draft`, which came from the item `identity` names.
    public init(draft: EventDraft, identity: String) {
        self.draft = draft
        self.identity = identity
    }
}

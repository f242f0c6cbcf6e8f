import AccordModel

/// What the writer expects the site's feed to hold before an append (optimistic concurrency,
/// as Eventuous's `ExpectedStreamVersion`).
public enum ExpectedSequence: Sendable, Equatable {
    /// Append whatever the feed holds.
    case any
    /// The site's feed must be empty.
    case noEvents
    /// The site's last event must have this sequence number.
    case exactly(SequenceNumber)
}

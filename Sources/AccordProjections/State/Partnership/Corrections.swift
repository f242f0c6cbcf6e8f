import AccordModel

/// A retraction of one event (`event.retracted.v1`, Decision 0011), kept in
/// ``PartnershipState/retractions`` under ``key(event:subject:)``.
public struct Retraction: Codable, Sendable, Equatable {
    /// The id (64 hex digits) of the event retracted (`data.event`).
    public var event: String
    /// The subject (`kind/id`) of the retraction, which must be that of the event it retracts for
    /// the retraction to take effect.
    public var subject: String
    /// Why (`data.reason`).
    public var reason: String
    /// The id (64 hex digits) of the `event.retracted.v1` event.
    public var by: String
    /// The date (UTC) the retraction was recorded.
    public var date: String

    /// The key of a retraction of `event` about `subject`: the event's id, a space, the subject.
    public static func key(event: String, subject: String) -> String { event + " " + subject }
}

/// A retirement of a subject (`subject.retired.v1`), kept in ``PartnershipState/retirements``.
public struct Retirement: Codable, Sendable, Equatable {
    /// Why (`data.reason`).
    public var reason: String
    /// The date (UTC) it was recorded.
    public var date: String
}

/// One finance event of a funding, as folded: what it added to the sums unless retracted.
public struct FinanceEntry: Codable, Sendable, Equatable {
    /// The key of ``Funding/totals`` it sums under (its stage, or `iati-<code>`).
    public var stage: String
    /// The amount, as written (`"-250.00"`).
    public var amount: String
    /// Its ISO 4217 currency.
    public var currency: String
    /// The date in its data (`data.date`).
    public var date: String?
    /// The id of the event it corrects (`data.corrects`), if it names one.
    public var corrects: String?
    /// The first 32 hex digits of the SHA-256 of its `data.source`, for an imported item.
    public var source: String?
}

extension PartnershipState {
    /// Whether the event `id`, of `subject` (`kind/id`), is retracted: a retraction of it with
    /// the same subject has been folded.
    public func isRetracted(_ id: String, subject: String) -> Bool {
        retractions?[Retraction.key(event: id, subject: subject)] != nil
    }

    /// Whether `subject` (`kind/id`) is retired: it has a retirement that is not retracted.
    public func isRetired(_ subject: String) -> Bool {
        !(retirements?[subject]?.isEmpty ?? true)
    }
}

import AccordModel

/// A roadmap action (`action.proposed.v1` and its lifecycle events).
public struct Action: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// Its title (`data.title`).
    public var title: Register<String>?
    /// The roadmap pillar it belongs to (`data.pillar`).
    public var pillar: Register<String>?
    /// The value chains it concerns (`data.valueChains`).
    public var valueChains: Register<[String]>?
    /// The stakeholder ids leading it (`data.leads`).
    public var leads: Register<[String]>?
    /// When it is due (`data.due`).
    public var due: Register<String>?
    /// The status set by the latest lifecycle event (fold order).
    public var status: Register<ActionStatus>?
    /// The note or reason of the latest lifecycle event.
    public var note: Register<String>?
    /// The date (UTC, of its recording) of the latest lifecycle event.
    public var statusDate: Register<String>?
    /// The time (`time`, RFC 3339 UTC) of the latest lifecycle event: a later step may not be
    /// recorded before it (Format.md §9.6).
    public var statusTime: Register<String>?
    /// The reason of the latest `action.reopened.v1`, if it was ever reopened.
    public var reopened: Register<String>?
}

/// The lifecycle of a roadmap action.
public enum ActionStatus: String, Codable, Sendable, CaseIterable, Comparable {
    /// Proposed (`action.proposed.v1`).
    case proposed
    /// Agreed (`action.agreed.v1`).
    case agreed
    /// Started (`action.started.v1`).
    case started
    /// Completed (`action.completed.v1`).
    case completed
    /// Cancelled (`action.cancelled.v1`).
    case cancelled

    /// Whether the action is neither completed nor cancelled.
    public var isOpen: Bool { self != .completed && self != .cancelled }

    /// The status a lifecycle event type sets (`action.agreed.v1` → agreed), or nil.
    /// - Parameter eventType: An event type, with its version.
    public init?(eventType: String) {
        switch eventType {
        case "action.proposed.v1": self = .proposed
        case "action.agreed.v1": self = .agreed
        case "action.started.v1": self = .started
        case "action.completed.v1": self = .completed
        case "action.cancelled.v1": self = .cancelled
        default: return nil
        }
    }

    /// Lifecycle order: proposed < agreed < started < completed < cancelled.
    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

import AccordModel

/// The fold order of events (Format.md §9): hybrid logical clock, then site name (by bytes), then
/// sequence number. Where two events set the same value, the one with the greater stamp wins,
/// whatever order they arrived in — so every site computes the same state from the same events.
public struct Stamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The hybrid logical clock's milliseconds since 1970 (UTC).
    public var milliseconds: Int64
    /// The hybrid logical clock's counter within the millisecond.
    public var counter: UInt32
    /// The site that recorded the event.
    public var site: String
    /// The event's sequence number in its site's feed.
    public var seq: UInt64

    /// The stamp of `event`.
    public init(_ event: Event) {
        milliseconds = event.hlc.milliseconds
        counter = event.hlc.counter
        site = event.site.rawValue
        seq = event.seq.rawValue
    }

    /// Fold order: clock, then site (by UTF-8 bytes), then sequence number.
    public static func < (a: Stamp, b: Stamp) -> Bool {
        if a.milliseconds != b.milliseconds { return a.milliseconds < b.milliseconds }
        if a.counter != b.counter { return a.counter < b.counter }
        if !sameBytes(a.site, b.site) { return a.site.utf8.lexicographicallyPrecedes(b.site.utf8) }
        return a.seq < b.seq
    }

    /// `SITE:SEQ@MILLISECONDS:COUNTER`.
    public var description: String { "\(site):\(seq)@\(milliseconds):\(counter)" }
}

/// A last-writer-wins register: keeps the value set by the event with the greatest ``Stamp``.
public struct Register<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The value of the greatest stamp offered.
    public private(set) var value: Value
    /// The stamp that set ``value``.
    public private(set) var stamp: Stamp

    /// A register holding `value`, set at `stamp`.
    public init(_ value: Value, _ stamp: Stamp) {
        self.value = value
        self.stamp = stamp
    }

    /// Sets `value` if `stamp` is greater than the current one.
    public mutating func offer(_ value: Value, _ stamp: Stamp) {
        if stamp > self.stamp {
            self.value = value
            self.stamp = stamp
        }
    }
}

extension Optional {
    /// Offers a value to an optional register, creating it if absent.
    mutating func offer<V>(_ value: V, _ stamp: Stamp) where Wrapped == Register<V> {
        if var register = self {
            register.offer(value, stamp)
            self = register
        } else {
            self = Register(value, stamp)
        }
    }
}

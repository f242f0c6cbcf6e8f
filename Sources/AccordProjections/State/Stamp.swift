import AccordModel

/// The fold order of events (Format.md §9.1): the date an event speaks for, then its hybrid
/// logical clock, then site name (by bytes), then sequence number. Where two events set the same
/// value, the one with the greater stamp wins, whatever order they arrived in — so every site
/// computes the same state from the same events.
///
/// An event speaks for the moment of its `hlc` — which is greater than every reading its writer
/// had seen, so a change always sorts after what it was written after seeing, even from an
/// office whose clock is slow — unless it is **back-filled**: its `time` is more than
/// ``Timestamp/clockTolerance`` seconds before its `hlc`, which only `--time` in the past makes
/// happen. A back-filled event describes the past, so it speaks for its `time` (``dated``) and
/// does not override a change dated after it. Each stamp is one tuple of numbers and bytes, so
/// the order is a strict total order and the greatest of a set of writes does not depend on the
/// order they are offered in.
public struct Stamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The hybrid logical clock's milliseconds since 1970 (UTC).
    public var milliseconds: Int64
    /// The hybrid logical clock's counter within the millisecond.
    public var counter: UInt32
    /// The site that recorded the event.
    public var site: String
    /// The event's sequence number in its site's feed.
    public var seq: UInt64
    /// For a back-filled event only: the milliseconds since 1970 of its `time`, which it is
    /// ordered by; nil (and absent from the state's JSON) otherwise.
    public var dated: Int64?

    /// The stamp of `event`.
    public init(_ event: Event) {
        milliseconds = event.hlc.milliseconds
        counter = event.hlc.counter
        site = event.site.rawValue
        seq = event.seq.rawValue
        let time = event.time.milliseconds
        dated = Self.isBackFilled(time: time, hlc: milliseconds) ? time : nil
    }

    /// Whether an event recorded with `time` and an `hlc` of `hlc` milliseconds is back-filled:
    /// its time is more than ``Timestamp/clockTolerance`` seconds before its clock reading.
    public static func isBackFilled(time: Int64, hlc: Int64) -> Bool {
        hlc > time && hlc - time > Timestamp.clockTolerance * 1000
    }

    /// Whether the event is back-filled (``dated`` is set).
    public var isBackFilled: Bool { dated != nil }

    /// The milliseconds the event speaks for: ``dated`` when back-filled, else the clock's.
    public var effectiveMilliseconds: Int64 { dated ?? milliseconds }

    /// Fold order: ``effectiveMilliseconds``, then clock, then site (by UTF-8 bytes), then
    /// sequence number.
    public static func < (a: Stamp, b: Stamp) -> Bool {
        if a.effectiveMilliseconds != b.effectiveMilliseconds { return a.effectiveMilliseconds < b.effectiveMilliseconds }
        return a.isRecorded(before: b)
    }

    /// Recording order, without regard to back-filling: clock, then site (by UTF-8 bytes), then
    /// sequence number. `accord state --at` selects by it (Format.md §9.5).
    public func isRecorded(before other: Stamp) -> Bool {
        if milliseconds != other.milliseconds { return milliseconds < other.milliseconds }
        if counter != other.counter { return counter < other.counter }
        if !sameBytes(site, other.site) { return site.utf8.lexicographicallyPrecedes(other.site.utf8) }
        return seq < other.seq
    }

    /// `SITE:SEQ@MILLISECONDS:COUNTER`, with `~DATED` for a back-filled event.
    public var description: String { "\(site):\(seq)@\(milliseconds):\(counter)" + (dated.map { "~\($0)" } ?? "") }
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

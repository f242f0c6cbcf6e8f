/// A hybrid logical clock reading (Kulkarni et al., "Logical Physical Clocks", 2014): physical
/// milliseconds since the epoch plus a logical counter. It orders events causally even when the
/// offices' clocks disagree. Stored as the string `"<milliseconds>:<counter>"` (Format.md §7.1).
public struct HybridTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Physical part: milliseconds since 1970-01-01T00:00:00Z.
    public let milliseconds: Int64
    /// Logical part: counts events within one millisecond.
    public let counter: UInt32

    /// A reading from its two parts (not checked against ``latestMilliseconds``).
    public init(milliseconds: Int64, counter: UInt32) {
        self.milliseconds = milliseconds
        self.counter = counter
    }

    /// Parses `"<milliseconds>:<counter>"`, both canonical non-negative decimal integers.
    /// - Throws: ``AccordError`` `.badInput` naming the field `hlc`.
    public init(parsing text: String) throws {
        let colon = text.utf8.firstIndex(of: 0x3A)
        let parts = colon.map { [text[..<$0], text[text.utf8.index(after: $0)...]] } ?? [Substring(text)]
        // (A second ':' is refused by the integer check of the counter.)
        guard parts.count == 2, CanonicalJSON.isCanonicalInteger(String(parts[0])), CanonicalJSON.isCanonicalInteger(String(parts[1])),
              let ms = Int64(parts[0]), ms >= 0, ms <= Self.latestMilliseconds, let counter = UInt32(parts[1])
        else {
            throw AccordError(.badInput, "Field 'hlc' is '\(text.prefix(40))', not a hybrid logical clock reading 'milliseconds:counter'.", field: "hlc")
        }
        self.init(milliseconds: ms, counter: counter)
    }

    /// The greatest physical part a reading may have, shared by every writer and reader
    /// (Format.md §7.1): 999,999,999,999,999,999, the greatest integer of 18 digits (Format.md
    /// §7.2) — far beyond the year 9999 (the latest time an event may carry), and far from
    /// `Int64.max`, so nothing overflows. Readers refuse a greater one; ``HybridClock/tick(physical:)``
    /// refuses to make one.
    public static let latestMilliseconds: Int64 = 999_999_999_999_999_999

    /// The greatest reading there is: ``latestMilliseconds`` with a full counter.
    public static let latest = HybridTimestamp(milliseconds: latestMilliseconds, counter: UInt32.max)

    /// The stored form, `"<milliseconds>:<counter>"` (Format.md §7.1).
    public var text: String { "\(milliseconds):\(counter)" }
    /// The stored form, as ``text``.
    public var description: String { text }

    /// Orders by milliseconds, then by counter.
    public static func < (a: Self, b: Self) -> Bool { (a.milliseconds, a.counter) < (b.milliseconds, b.counter) }
}

/// The clock a site stamps its events with (Format.md §7.1): each reading is greater than every
/// reading the site has made or seen.
public struct HybridClock: Sendable {
    /// The greatest reading made or seen so far.
    public private(set) var latest: HybridTimestamp

    /// A clock whose readings will all be greater than `latest`.
    public init(latest: HybridTimestamp = HybridTimestamp(milliseconds: 0, counter: 0)) {
        self.latest = latest
    }

    /// Records a reading seen on another event (on replay or sync).
    public mutating func observe(_ reading: HybridTimestamp) {
        if reading > latest { latest = reading }
    }

    /// A new reading for an event recorded at physical time `milliseconds` (Format.md §7.1).
    /// - Throws: ``AccordError`` `.damaged` (field `hlc`) when the reading would pass
    ///   ``HybridTimestamp/latestMilliseconds``, which no reader accepts: the clock has seen the
    ///   greatest reading there is (``HybridTimestamp/latest``). The clock is left unchanged.
    public mutating func tick(physical milliseconds: Int64) throws -> HybridTimestamp {
        let next: HybridTimestamp
        if milliseconds > HybridTimestamp.latestMilliseconds || latest == HybridTimestamp.latest {
            throw AccordError(.damaged, "The next clock reading would pass \(HybridTimestamp.latestMilliseconds):\(UInt32.max), the latest one a reader accepts (Format.md §7.1): this journal holds an event with a reading at that bound (clock seen: \(latest)), so no event can follow it. Nothing was appended; restore the journal from a backup taken before that event.", field: "hlc")
        }
        if milliseconds > latest.milliseconds {
            next = HybridTimestamp(milliseconds: milliseconds, counter: 0)
        } else if latest.counter == UInt32.max {
            next = HybridTimestamp(milliseconds: latest.milliseconds + 1, counter: 0)  // the counter is full: move on a millisecond
        } else {
            next = HybridTimestamp(milliseconds: latest.milliseconds, counter: latest.counter + 1)
        }
        latest = next
        return next
    }
}

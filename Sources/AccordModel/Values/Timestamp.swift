import Glibc

/// A UTC instant with up to nanosecond precision, stored as RFC 3339 text in UTC.
///
/// Parsing accepts RFC 3339 (§5.6) `date-time`: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of
/// 1–9 digits, and `Z` or a numeric offset `±HH:MM`; `T` and `Z` may be lower case. The stored
/// form (Format.md §7.1) is UTC with `Z`, the fraction's trailing zeros removed:
/// `2022-11-07T10:00:00+03:00` → `2022-11-07T07:00:00Z`, `…:00.500Z` → `…:00.5Z`.
/// Leap seconds (`:60`) are refused: UTC instants here are POSIX seconds.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (POSIX time).
    public let seconds: Int64
    /// Nanoseconds within the second, 0 ..< 1_000_000_000.
    public let nanoseconds: Int32
    /// The canonical UTC text.
    public let text: String

    /// Parses RFC 3339 text.
    /// - Throws: ``AccordError`` `.badInput` naming `field`.
    public init(rfc3339 input: String, field: String = "time") throws {
        func bad(_ why: String) -> AccordError {
            AccordError(.badInput, "Field '\(field)' is '\(input.prefix(40))', not an RFC 3339 time: \(why); e.g. 2022-11-07T10:00:00Z or 2022-11-07T15:00:00+05:00.", field: field)
        }
        let b = Array(input.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard b.count >= 20, let year = number(0..<4), b[4] == 0x2D, let month = number(5..<7), b[7] == 0x2D,
              let day = number(8..<10), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = number(11..<13), b[13] == 0x3A, let minute = number(14..<16), b[16] == 0x3A,
              let second = number(17..<19)
        else { throw bad("expected YYYY-MM-DDTHH:MM:SS") }
        guard (1...12).contains(month), day >= 1, day <= CalendarDate.daysInMonth(year: year, month: month) else {
            throw bad("there is no such date")
        }
        guard hour < 24, minute < 60 else { throw bad("the time of day is out of range") }
        guard second < 60 else { throw bad("leap seconds and seconds above 59 are not accepted") }
        var index = 19
        var nanos = 0
        var fractionDigits: [UInt8] = []
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                fractionDigits.append(b[index])
                index += 1
            }
            guard !fractionDigits.isEmpty else { throw bad("a '.' must be followed by digits") }
            guard fractionDigits.count <= 9 else { throw bad("at most 9 fractional digits (nanoseconds) are kept") }
            for digit in fractionDigits { nanos = nanos * 10 + Int(digit - 0x30) }
            for _ in fractionDigits.count..<9 { nanos *= 10 }
        }
        var offsetSeconds = 0
        guard index < b.count else { throw bad("the offset is missing: end with Z or ±HH:MM") }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard let offsetHour = number((index + 1)..<(index + 3)), index + 3 < b.count, b[index + 3] == 0x3A,
                  let offsetMinute = number((index + 4)..<(index + 6)), offsetHour < 24, offsetMinute < 60
            else { throw bad("the offset must be ±HH:MM") }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            throw bad("the offset must be Z or ±HH:MM")
        }
        guard index == b.count else { throw bad("unexpected text after the offset") }
        let days = CalendarDate.daysFromCivil(year: year, month: month, day: day)
        let local = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let utc = local - Int64(offsetSeconds)
        guard utc >= Self.earliest, utc <= Self.latest else { throw bad("in UTC it falls outside the years 0000–9999") }
        self.init(seconds: utc, nanoseconds: Int32(nanos))
    }

    /// Parses the stored form only (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, upper-case `T` and `Z`,
    /// the fraction without trailing zeros): the text that ``text`` would give back. Nil for
    /// anything else, including valid RFC 3339 text in another form.
    init?(canonical text: String) {
        var text = text
        let parsed = text.withUTF8 { b -> (seconds: Int64, nanoseconds: Int32)? in
            func number(_ range: Range<Int>) -> Int? {
                var value = 0
                for i in range {
                    guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                    value = value * 10 + Int(b[i] - 0x30)
                }
                return value
            }
            guard b.count >= 20, b.count <= 30, b[b.count - 1] == UInt8(ascii: "Z"),
                  let year = number(0..<4), b[4] == 0x2D, let month = number(5..<7), b[7] == 0x2D,
                  let day = number(8..<10), b[10] == UInt8(ascii: "T"),
                  let hour = number(11..<13), b[13] == 0x3A, let minute = number(14..<16), b[16] == 0x3A,
                  let second = number(17..<19),
                  (1...12).contains(month), day >= 1, day <= CalendarDate.daysInMonth(year: year, month: month),
                  hour < 24, minute < 60, second < 60
            else { return nil }
            var nanos = 0
            if b.count > 20 {
                // `.` then 1–9 digits, the last not 0.
                let digits = b.count - 21
                guard b[19] == UInt8(ascii: "."), digits >= 1, digits <= 9, b[b.count - 2] != 0x30,
                      let fraction = number(20..<(b.count - 1))
                else { return nil }
                nanos = fraction
                for _ in digits..<9 { nanos *= 10 }
            }
            let days = CalendarDate.daysFromCivil(year: year, month: month, day: day)
            return (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second), Int32(nanos))
        }
        guard let parsed else { return nil }
        self.seconds = parsed.seconds
        self.nanoseconds = parsed.nanoseconds
        self.text = text
    }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in POSIX seconds: the range RFC 3339 can write.
    static let earliest: Int64 = -62_167_219_200
    static let latest: Int64 = 253_402_300_799

    /// An instant from POSIX seconds and nanoseconds, clamped to the years 0000–9999.
    public init(seconds: Int64, nanoseconds: Int32) {
        let seconds = min(max(seconds, Self.earliest), Self.latest)
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.text = Self.format(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// How far, in seconds, the offices' clocks are taken to disagree at most: one day. An event
    /// may not be recorded more than this far in the future (Format.md §7.1), and an event whose
    /// `time` is more than this far before its `hlc` is back-filled (Format.md §9.1).
    public static let clockTolerance: Int64 = 86_400
    /// How far ahead of the writer's clock an event's `time` may be, in seconds: the clock
    /// tolerance (one day). An event records what has happened, and a future time would drag
    /// every office's clock ahead. Checked by the writer on every append and by importers before
    /// anything is written.
    public static let maxFutureSeconds: Int64 = clockTolerance

    /// Now, from `clock_gettime(CLOCK_REALTIME)`.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// Milliseconds since the epoch, the physical part of a hybrid logical clock.
    public var milliseconds: Int64 { seconds * 1000 + Int64(nanoseconds / 1_000_000) }

    /// The calendar date (UTC) of this instant.
    public var date: CalendarDate {
        let days = Int(floorDiv(seconds, 86_400))
        let (y, m, d) = CalendarDate.civil(fromDays: days)
        return CalendarDate(year: y, month: m, day: d)
    }

    /// The stored RFC 3339 form, as ``text``.
    public var description: String { text }

    /// Orders by time: seconds, then nanoseconds.
    public static func < (a: Self, b: Self) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }

    private static func format(seconds: Int64, nanoseconds: Int32) -> String {
        let days = Int(floorDiv(seconds, 86_400))
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = CalendarDate.civil(fromDays: days)
        // Written into one buffer (this runs for every event read): YYYY-MM-DDTHH:MM:SS[.f]Z.
        var text: [UInt8] = []
        text.reserveCapacity(30)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                text.append(0x30 + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(y, 4)
        text.append(0x2D)
        digits(m, 2)
        text.append(0x2D)
        digits(d, 2)
        text.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        text.append(0x3A)
        digits(secondOfDay / 60 % 60, 2)
        text.append(0x3A)
        digits(secondOfDay % 60, 2)
        if nanoseconds > 0 {
            text.append(UInt8(ascii: "."))
            var fraction = Int(nanoseconds)
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            digits(fraction, width)
        }
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }
}

func pad(_ value: Int, _ width: Int = 2) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// A calendar date `YYYY-MM-DD` (proleptic Gregorian, as ISO 8601 and RFC 3339 `full-date`).
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The year, 0 to 9999 (Format.md §7.5, `date`: year 0000 is 1 BC, as in ISO 8601).
    public let year: Int
    /// The month, 1 to 12.
    public let month: Int
    /// The day of the month, 1 to 31 (valid for the month and year).
    public let day: Int

    /// A date from parts the caller already knows to be valid (a day number converted back, the
    /// first of a month between two valid dates); not checked.
    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    /// - Throws: ``AccordError`` `.badInput` naming `field`.
    public init(parsing text: String, field: String = "date") throws {
        let parts = text.utf8.withContiguousStorageIfAvailable { Self.components(of: $0) } ?? Array(text.utf8).withUnsafeBufferPointer { Self.components(of: $0) }
        guard let (y, m, d) = parts else {
            throw AccordError(.badInput, "Field '\(field)' is '\(text.prefix(40))', not a date: write YYYY-MM-DD (e.g. 2022-11-07).", field: field)
        }
        self.init(year: y, month: m, day: d)
    }

    /// The year, month and day of `YYYY-MM-DD` written in `b`, or nil unless it is a valid date
    /// (``init(parsing:field:)``; the catalogue's byte check).
    package static func components(of b: UnsafeBufferPointer<UInt8>) -> (year: Int, month: Int, day: Int)? {
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D, let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10),
              (1...12).contains(m), d >= 1, d <= Self.daysInMonth(year: y, month: m)
        else { return nil }
        return (y, m, d)
    }

    /// The date as `YYYY-MM-DD` (ISO 8601 calendar date).
    public var text: String { pad(year, 4) + "-" + pad(month) + "-" + pad(day) }
    /// The date as `YYYY-MM-DD`, as ``text``.
    public var description: String { text }
    /// Orders by calendar date.
    public static func < (a: Self, b: Self) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

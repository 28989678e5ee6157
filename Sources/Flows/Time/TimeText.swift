import Foundation

/// Durations and points in time as people write them: in a flow (`within: 24h`), on the
/// command line (`replyflow traces --since 1d`) and in the panel's filter forms. One reader,
/// so `7d` means the same everywhere.
public enum TimeText {
    private static let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// A duration such as `30m`, `24h`, `7d`, `2w` (or `45s`), in seconds; nil for anything
    /// else, zero, a negative amount, or one too large to be a number of seconds.
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let factor = units[unit], let amount = Double(text.dropLast()), amount > 0 else { return nil }
        let seconds = amount * factor
        return seconds.isFinite ? seconds : nil
    }

    /// A point in time: a duration back from `now` (`30m`, `1d`: "the last day"), an RFC 3339
    /// time with its offset (`2026-11-20T10:00:00Z`), or a local date and time in `zone`
    /// (`2026-11-20T10:00`, as a `datetime-local` field sends it, `2026-11-20 10:00:30`, or a
    /// day alone, `2026-11-20`, meaning its midnight). Nil for anything else.
    public static func pointInTime(_ text: String, now: Date, zone: TimeZone) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = seconds(text) { return now.addingTimeInterval(-seconds) }
        if let date = Timestamp.parse(text) { return date }
        return localDateTime(text, zone: zone)
    }

    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM` or `HH:MM:SS`, in `zone`.
    static func localDateTime(_ text: String, zone: TimeZone) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10 || bytes.count == 16 || bytes.count == 19 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for byte in bytes[start..<(start + length)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = number(8, 2), (1...12).contains(month), (1...Timestamp.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0
        if bytes.count > 10 {
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), let h = number(11, 2), bytes[13] == UInt8(ascii: ":"),
                let m = number(14, 2), h < 24, m < 60
            else { return nil }
            (hour, minute) = (h, m)
            if bytes.count == 19 {
                guard bytes[16] == UInt8(ascii: ":"), let s = number(17, 2), s < 60 else { return nil }
                second = s
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }
}

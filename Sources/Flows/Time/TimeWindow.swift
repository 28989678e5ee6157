import Foundation

/// A business-hours window: `{ between: "09:00-18:00", days: mon-fri, timezone: Europe/Moscow }`.
public struct TimeWindow: Sendable {
    /// Minutes since midnight; when `end <= start` the window runs past midnight.
    public var startMinute: Int
    public var endMinute: Int
    /// Allowed weekdays, 0 = Monday; all seven when `days` is left out.
    public var days: Set<Int>
    /// nil means the runtime's configured zone.
    public var zone: TimeZone?
    /// As written, for traces.
    public var description: String

    public init(startMinute: Int, endMinute: Int, days: Set<Int>, zone: TimeZone?, description: String) {
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.days = days
        self.zone = zone
        self.description = description
    }

    /// Whether `date` falls in the window. For an overnight window, the early-morning part
    /// belongs to the day the window started (Friday 22:00-06:00 includes Saturday 02:00).
    public func contains(_ date: Date, defaultZone: TimeZone) -> Bool {
        let local = LocalTime(date, in: zone ?? defaultZone)
        let minute = local.minuteOfDay
        if startMinute < endMinute {
            return minute >= startMinute && minute < endMinute && days.contains(local.weekday)
        }
        if minute >= startMinute { return days.contains(local.weekday) }
        if minute < endMinute { return days.contains(LocalTime.weekday(ofDay: local.dayNumber - 1)) }
        return false
    }

    /// Parses `HH:MM-HH:MM`; nil when malformed.
    static func parseBetween(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let start = parseClock(parts[0]), let end = parseClock(parts[1]), start != end else { return nil }
        return (start, end)
    }

    /// Why `between` did not parse, in words: a long dash autocorrect put in, an empty window.
    static func explainBetween(_ text: String) -> (message: String, hint: String) {
        let dashes: [Character] = ["\u{2013}", "\u{2014}", "\u{2012}", "\u{2212}"]
        if let dash = text.first(where: { dashes.contains($0) }) {
            let fixed = String(text.map { dashes.contains($0) ? "-" : $0 })
            return (
                "'\(text)' has a long dash '\(dash)' between the times, not a hyphen (autocorrect often puts one there)",
                "did you mean \"\(fixed)\"? type a plain '-' (the minus key)"
            )
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, let start = parseClock(parts[0]), let end = parseClock(parts[1]), start == end {
            return (
                "'\(text)' is an empty window: it starts and ends at the same time",
                "to allow any time of day leave out 'time'; a window past midnight is written like 22:00-06:00"
            )
        }
        return ("'\(text)' is not a time window", "write HH:MM-HH:MM, such as 09:00-18:00 (22:00-06:00 runs past midnight)")
    }

    static func parseClock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, (1...2).contains(parts[0].count),
            let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0
        else { return nil }
        return hour * 60 + minute
    }

    /// Parses `mon-fri`, `sat,sun`, `mon`, `fri-mon` (wrapping); nil with the bad part otherwise.
    static func parseDays(_ items: [String]) -> Result<Set<Int>, DaysError> {
        var days: Set<Int> = []
        for item in items {
            for piece in item.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
                let bounds = piece.split(separator: "-").map(String.init)
                guard (1...2).contains(bounds.count) else { return .failure(DaysError(part: piece)) }
                guard let first = Vocabulary.dayNames.firstIndex(of: bounds[0]) else { return .failure(DaysError(part: bounds[0])) }
                guard let last = Vocabulary.dayNames.firstIndex(of: bounds.last!) else { return .failure(DaysError(part: bounds.last!)) }
                var day = first
                while true {
                    days.insert(day)
                    if day == last { break }
                    day = (day + 1) % 7
                }
            }
        }
        return .success(days)
    }

    struct DaysError: Error { var part: String }
}

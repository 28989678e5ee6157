import Foundation

/// How the panel writes times: in the server's `TIMEZONE`, short in lists ("14:05" today,
/// "3 Dec" this year, "3 Dec 2025" before), in full in tooltips, and waits as "5 min",
/// "2 h 10 min", "3 d".
struct DisplayTime: Sendable {
    let timeZone: TimeZone
    let now: Date
    private let calendar: Calendar

    init(timeZone: TimeZone, now: Date) {
        self.timeZone = timeZone
        self.now = now
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    func short(_ date: Date) -> String {
        let fields = calendarFields(of: date)
        let today = calendarFields(of: now)
        if (fields.year, fields.month, fields.day) == (today.year, today.month, today.day) { return clock(fields) }
        let dayMonth = "\(fields.day ?? 0) \(Self.months[(fields.month ?? 1) - 1])"
        return fields.year == today.year ? dayMonth : "\(dayMonth) \(fields.year ?? 0)"
    }

    func full(_ date: Date) -> String {
        let fields = calendarFields(of: date)
        let day = "\(fields.year ?? 0)-\(Self.twoDigits(fields.month))-\(Self.twoDigits(fields.day))"
        return "\(day) \(clock(fields)):\(Self.twoDigits(fields.second)) " + (timeZone.abbreviation(for: date) ?? timeZone.identifier)
    }

    /// For `<time datetime=...>`.
    func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// How long since `date`, in at most two units.
    func wait(since date: Date) -> String {
        let minutes = max(0, Int(now.timeIntervalSince(date) / 60))
        if minutes < 1 { return "under a minute" }
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 24 { return minutes % 60 == 0 ? "\(hours) h" : "\(hours) h \(minutes % 60) min" }
        let days = hours / 24
        return hours % 24 == 0 ? "\(days) d" : "\(days) d \(hours % 24) h"
    }

    // Written from calendar fields rather than with a DateFormatter: a formatter costs
    // about 0.1 ms to make, and a page shows a hundred times or more.
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private func calendarFields(of date: Date) -> DateComponents {
        calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    private func clock(_ parts: DateComponents) -> String {
        "\(Self.twoDigits(parts.hour)):\(Self.twoDigits(parts.minute))"
    }

    private static func twoDigits(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : "\(value)"
    }
}

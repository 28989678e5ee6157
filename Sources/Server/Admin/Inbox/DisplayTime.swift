import Foundation

/// How the panel writes times: in the server's `TIMEZONE`, short in lists ("14:05" today,
/// "3 Dec" this year, "3 Dec 2025" before), in full in tooltips, and waits as "5 min",
/// "2 h 10 min", "3 d".
struct DisplayTime: Sendable {
    let timeZone: TimeZone
    let now: Date

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    func short(_ date: Date) -> String {
        let calendar = calendar
        if calendar.isDate(date, inSameDayAs: now) { return format(date, "HH:mm") }
        if calendar.component(.year, from: date) == calendar.component(.year, from: now) { return format(date, "d MMM") }
        return format(date, "d MMM yyyy")
    }

    func full(_ date: Date) -> String {
        format(date, "yyyy-MM-dd HH:mm:ss") + " " + (timeZone.abbreviation(for: date) ?? timeZone.identifier)
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

    private func format(_ date: Date, _ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = timeZone
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}

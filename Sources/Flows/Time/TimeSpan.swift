import Foundation

/// How far back a command looks (`--since 7d`): minutes, hours, days or weeks before now
/// (`30m`, `12h`, `7d`, `2w`), or a moment written as RFC 3339 (`2026-11-21T09:00:00+03:00`).
public enum TimeSpan {
    /// The moment `text` names, counted back from `now`; nil when it names none.
    public static func start(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let moment = Timestamp.parse(trimmed) { return moment }
        guard let unit = trimmed.last, let amount = Int(trimmed.dropLast()), amount >= 0, amount <= 100_000 else { return nil }
        let seconds: Int
        switch unit {
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        default: return nil
        }
        return now.addingTimeInterval(-Double(amount * seconds))
    }

    /// What `start` accepts, for error messages.
    public static let accepted = "a span back from now such as 30m, 12h, 7d or 2w, or a moment such as 2026-11-21T09:00:00+03:00"
}

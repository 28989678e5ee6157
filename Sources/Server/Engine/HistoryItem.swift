import Foundation
import Flows
import Storage

/// A message as the seed server's API and socket.io show it: `message`, `photo_url`,
/// `direction` (`user` or `support`) and `created_at` (`YYYY-MM-DD HH:MM:SS`, UTC).
public struct HistoryItem: Sendable, Equatable, Codable {
    public var message: String
    public var photoURL: String?
    public var direction: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case message
        case photoURL = "photo_url"
        case direction
        case createdAt = "created_at"
    }

    /// `photo_url` is always present, null when there is no photo, as the seed sends it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message, forKey: .message)
        try container.encode(photoURL, forKey: .photoURL)
        try container.encode(direction, forKey: .direction)
        try container.encode(createdAt, forKey: .createdAt)
    }

    public init(message: String, photoURL: String?, direction: String, createdAt: Date) {
        self.message = message
        self.photoURL = photoURL
        self.direction = direction
        self.createdAt = Self.format(createdAt)
    }

    init(_ stored: HistoryMessage) {
        self.init(message: stored.text, photoURL: stored.photoURL, direction: stored.direction, createdAt: stored.createdAt)
    }

    /// The seed stored SQLite's `CURRENT_TIMESTAMP`: UTC, second precision. Computed
    /// from the day number (the proleptic Gregorian calendar, as SQLite's own date
    /// functions): Foundation's Calendar costs microseconds per call, and a history page
    /// formats fifty of these.
    static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 1970-01-01 to year, month, day (Howard Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))"
    }
}

/// A message to show live in a user's open chat (socket.io `new_message`).
public struct Broadcast: Sendable, Equatable {
    public var userID: String
    public var item: HistoryItem
}

/// A chat by channel and the channel's own id for it.
public struct ChatRef: Sendable, Hashable {
    public var source: ChatSource
    public var platformChatID: String
}

/// What one commit changed, for the live stream.
struct Committed: Sendable {
    var messages: [(id: Int64, message: StoredMessage)]
    var chats: [ChatRef]
}

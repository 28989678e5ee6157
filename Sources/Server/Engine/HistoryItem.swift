import Foundation
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

    public init(message: String, photoURL: String?, direction: String, createdAt: Date) {
        self.message = message
        self.photoURL = photoURL
        self.direction = direction
        self.createdAt = Self.format(createdAt)
    }

    init(_ stored: HistoryMessage) {
        self.init(message: stored.text, photoURL: stored.photoURL, direction: stored.direction, createdAt: stored.createdAt)
    }

    /// The seed stored SQLite's `CURRENT_TIMESTAMP`: UTC, second precision.
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { let v = value ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }
}

/// A message to show live in a user's open chat (socket.io `new_message`).
public struct Broadcast: Sendable, Equatable {
    public var userID: String
    public var item: HistoryItem
}

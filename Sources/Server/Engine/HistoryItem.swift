import Flows
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

    /// A message a run stores, as the history will show it once committed.
    init(_ stored: StoredMessage) {
        self.init(message: stored.text, photoURL: stored.photoURL, direction: stored.direction.rawValue, createdAt: stored.at)
    }

    /// The seed stored SQLite's `CURRENT_TIMESTAMP`: UTC, second precision. Built on the
    /// runtime's `LocalTime` (no `Calendar`: a history page formats fifty of these).
    static func format(_ date: Date) -> String {
        let day = LocalTime(date, in: utc)
        let second = (Int(date.timeIntervalSince1970.rounded(.down)) % 60 + 60) % 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day.dayString) \(two(day.minuteOfDay / 60)):\(two(day.minuteOfDay % 60)):\(two(second))"
    }

    private static let utc = TimeZone(identifier: "UTC")!
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

/// A staff reply in the group to an Instagram or Telegram chat's forward.
struct StaffRelay: Sendable {
    var chat: ChatRef
    var text: String
    var at: Date
    /// A photo staff sent with it: Telegram's file id, and where it is kept in uploads
    /// (nil when it could not be downloaded).
    var photo: (fileID: String, url: String?)?
    /// The staff message in the group, for a notice when part of it cannot be sent.
    var groupChatID: Int64
    var groupMessageID: Int64
    /// The staff member who wrote it (their Telegram name), stored as its `senderName`.
    var staffName: String? = nil
}

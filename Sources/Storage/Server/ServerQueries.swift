import Flows
import Foundation

/// A message of a user's history as the seed server's API shows it.
public struct HistoryMessage: Sendable, Equatable {
    public var id: Int64
    public var text: String
    public var photoURL: String?
    /// `user` or `support`.
    public var direction: String
    public var createdAt: Date

    public init(id: Int64, text: String, photoURL: String?, direction: String, createdAt: Date) {
        self.id = id
        self.text = text
        self.photoURL = photoURL
        self.direction = direction
        self.createdAt = createdAt
    }
}

/// A registered FCM device.
public struct Device: Sendable, Equatable {
    public var token: String
    public var userID: String
    public var platform: String?
    public var deviceID: String?

    public init(token: String, userID: String, platform: String?, deviceID: String?) {
        self.token = token
        self.userID = userID
        self.platform = platform
        self.deviceID = deviceID
    }
}

/// The server's reads and writes outside the runtime: history, devices, Telegram update
/// ids and forum topics. Each call is one short transaction. `SQLiteServerQueries` and
/// `PostgresServerQueries` answer alike (the storage tests run both).
public protocol ServerQueries: Sendable {
    /// The newest `limit` messages of a user's app chat, oldest first.
    func history(userID: String, limit: Int) async throws -> [HistoryMessage]
    /// Registers (or moves) a token and returns how many devices the user now has. A token
    /// registered again with the same device id replaces that device's older tokens (a
    /// reinstalled app).
    func registerDevice(_ device: Device, at: Date) async throws -> Int
    /// The user's devices, oldest registration first.
    func devices(userID: String) async throws -> [Device]
    /// Forgets a token FCM no longer accepts.
    func removeDevice(token: String) async throws
    /// The highest update id seen, to resume long polling after a restart.
    func lastUpdateID() async throws -> Int64?
    /// The chat (user or chat id, and channel) a staff-group message was forwarded for.
    func chatForGroupMessage(_ groupMessageID: Int64) async throws -> (userID: String, source: ChatSource)?
    /// The staff group's forum topic of a user.
    func forumTopic(userID: String) async throws -> Int64?
    /// The user a forum topic belongs to.
    func user(forumTopic threadID: Int64) async throws -> String?
    /// Records (or moves) a user's forum topic.
    func saveForumTopic(userID: String, threadID: Int64, at: Date) async throws
}

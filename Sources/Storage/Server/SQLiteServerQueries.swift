import Flows
import Foundation
import GRDB

/// `ServerQueries` on the SQLite file.
public struct SQLiteServerQueries: ServerQueries {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    // MARK: History

    /// The newest `limit` messages of a user's app chat, oldest first.
    public func history(userID: String, limit: Int) async throws -> [HistoryMessage] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, text, photo_url, direction, created_at FROM messages
                    WHERE user_id = ? AND source = 'app' ORDER BY id DESC LIMIT ?
                    """, arguments: [userID, limit])
            return rows.reversed().map { row in
                HistoryMessage(id: row[0], text: row[1], photoURL: row[2], direction: row[3], createdAt: Date(timeIntervalSince1970: row[4]))
            }
        }
    }

    // MARK: Devices

    /// Registers (or moves) a token and returns how many devices the user now has.
    public func registerDevice(_ device: Device, at: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO devices (fcm_token, user_id, platform, device_id, registered_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                    ON CONFLICT (fcm_token) DO UPDATE SET user_id = ?2, platform = coalesce(?3, platform), device_id = coalesce(?4, device_id), updated_at = ?5
                    """, arguments: [device.token, device.userID, device.platform, device.deviceID, at.timeIntervalSince1970])
            if let deviceID = device.deviceID {
                // A reinstalled app gets a new token on the same device: keep only the newest.
                try db.execute(
                    sql: "DELETE FROM devices WHERE user_id = ? AND device_id = ? AND fcm_token <> ?", arguments: [device.userID, deviceID, device.token])
            }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM devices WHERE user_id = ?", arguments: [device.userID]) ?? 0
        }
    }

    public func devices(userID: String) async throws -> [Device] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT fcm_token, user_id, platform, device_id FROM devices WHERE user_id = ? ORDER BY registered_at", arguments: [userID]
            )
            .map { Device(token: $0[0], userID: $0[1], platform: $0[2], deviceID: $0[3]) }
        }
    }

    /// Forgets a token FCM no longer accepts.
    public func removeDevice(token: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM devices WHERE fcm_token = ?", arguments: [token])
        }
    }

    // MARK: Telegram

    /// The highest update id seen, to resume long polling after a restart.
    public func lastUpdateID() async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(update_id) FROM telegram_updates") }
    }

    /// The chat (user or chat id, and channel) a staff-group message was forwarded for.
    public func chatForGroupMessage(_ groupMessageID: Int64) async throws -> (userID: String, source: ChatSource)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT user_id, source FROM group_forwards WHERE group_message_id = ?", arguments: [groupMessageID])
                .map { (userID: $0[0], source: ChatSource(rawValue: $0[1]) ?? .app) }
        }
    }

    public func forumTopic(userID: String) async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT thread_id FROM forum_topics WHERE user_id = ?", arguments: [userID]) }
    }

    public func user(forumTopic threadID: Int64) async throws -> String? {
        try await writer.read { db in try String.fetchOne(db, sql: "SELECT user_id FROM forum_topics WHERE thread_id = ?", arguments: [threadID]) }
    }

    public func saveForumTopic(userID: String, threadID: Int64, at: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO forum_topics (user_id, thread_id, created_at) VALUES (?, ?, ?)",
                arguments: [userID, threadID, at.timeIntervalSince1970])
        }
    }
}

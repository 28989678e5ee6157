import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// `ServerQueries` on PostgreSQL: the same reads and writes as `SQLiteServerQueries`, each
/// one statement or one short transaction on a pooled connection.
public struct PostgresServerQueries: ServerQueries {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    public func history(userID: String, limit: Int) async throws -> [HistoryMessage] {
        let rows = try await client.query(
            """
            SELECT id, text, photo_url, direction, created_at FROM messages
            WHERE user_id = \(userID) AND source = 'app' ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var newestFirst: [HistoryMessage] = []
        for try await (id, text, photoURL, direction, createdAt) in rows.decode((Int64, String, String?, String, Double).self) {
            newestFirst.append(HistoryMessage(id: id, text: text, photoURL: photoURL, direction: direction, createdAt: Date(timeIntervalSince1970: createdAt)))
        }
        return newestFirst.reversed()
    }

    public func registerDevice(_ device: Device, at: Date) async throws -> Int {
        let time = at.timeIntervalSince1970
        return try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.queryIfOpen(
                    """
                    INSERT INTO devices (fcm_token, user_id, platform, device_id, registered_at, updated_at)
                    VALUES (\(device.token), \(device.userID), \(device.platform), \(device.deviceID), \(time), \(time))
                    ON CONFLICT (fcm_token) DO UPDATE SET user_id = excluded.user_id, platform = coalesce(excluded.platform, devices.platform),
                        device_id = coalesce(excluded.device_id, devices.device_id), updated_at = excluded.updated_at
                    """, logger: logger
                ).collect()
                if let deviceID = device.deviceID {
                    // A reinstalled app gets a new token on the same device: keep only the newest.
                    _ = try await connection.queryIfOpen(
                        "DELETE FROM devices WHERE user_id = \(device.userID) AND device_id = \(deviceID) AND fcm_token <> \(device.token)",
                        logger: logger
                    ).collect()
                }
                let count = try await connection.queryIfOpen("SELECT count(*) FROM devices WHERE user_id = \(device.userID)", logger: logger)
                    .decode(Int64.self).first { _ in true }
                return Int(count ?? 0)
            }
        }
    }

    public func devices(userID: String) async throws -> [Device] {
        let rows = try await client.query(
            "SELECT fcm_token, user_id, platform, device_id FROM devices WHERE user_id = \(userID) ORDER BY registered_at", logger: logger)
        var devices: [Device] = []
        for try await (token, userID, platform, deviceID) in rows.decode((String, String, String?, String?).self) {
            devices.append(Device(token: token, userID: userID, platform: platform, deviceID: deviceID))
        }
        return devices
    }

    public func removeDevice(token: String) async throws {
        _ = try await client.query("DELETE FROM devices WHERE fcm_token = \(token)", logger: logger).collect()
    }

    public func lastUpdateID() async throws -> Int64? {
        try await client.query("SELECT max(update_id) FROM telegram_updates", logger: logger).decode(Int64?.self).first { _ in true } ?? nil
    }

    public func chatForGroupMessage(_ groupMessageID: Int64) async throws -> (userID: String, source: ChatSource)? {
        let rows = try await client.query("SELECT user_id, source FROM group_forwards WHERE group_message_id = \(groupMessageID)", logger: logger)
        return try await rows.decode((String, String).self).first { _ in true }.map { (userID: $0.0, source: ChatSource(rawValue: $0.1) ?? .app) }
    }

    public func forumTopic(userID: String) async throws -> Int64? {
        try await client.query("SELECT thread_id FROM forum_topics WHERE user_id = \(userID)", logger: logger).decode(Int64.self).first { _ in true }
    }

    public func user(forumTopic threadID: Int64) async throws -> String? {
        try await client.query("SELECT user_id FROM forum_topics WHERE thread_id = \(threadID)", logger: logger).decode(String.self).first { _ in true }
    }

    public func saveForumTopic(userID: String, threadID: Int64, at: Date) async throws {
        // As SQLite's INSERT OR REPLACE: the row of the user, or of the topic, is replaced.
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.queryIfOpen(
                    "DELETE FROM forum_topics WHERE user_id = \(userID) OR thread_id = \(threadID)", logger: logger
                ).collect()
                _ = try await connection.queryIfOpen(
                    "INSERT INTO forum_topics (user_id, thread_id, created_at) VALUES (\(userID), \(threadID), \(at.timeIntervalSince1970))",
                    logger: logger
                ).collect()
            }
        }
    }
}

import Foundation
import Logging
import PostgresNIO
import Storage

/// `TelegramInbox` on PostgreSQL (`telegram_inbox`), shared by the instances: the leader's
/// poller adds what `getUpdates` returned, and an update kept by an instance that then died
/// is still here for the next leader. Each row keeps its chat (migration 6), the lane
/// `PostgresTelegramChatLanes` claims.
public struct PostgresTelegramInbox: TelegramInbox {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    public func add(_ updates: [KeptUpdate], at: Date) async throws {
        guard !updates.isEmpty else { return }
        _ = try await client.query(
            """
            INSERT INTO telegram_inbox (update_id, chat_id, body, received_at)
            SELECT unnest(\(updates.map(\.updateID))::bigint[]), unnest(\(updates.map(\.chatID))::bigint[]),
                unnest(\(updates.map(\.body))::text[]), \(at.timeIntervalSince1970)
            ON CONFLICT (update_id) DO NOTHING
            """, logger: logger
        ).collect()
    }

    public func pending(receivedBefore: Date?) async throws -> [(updateID: Int64, body: String)] {
        let before = receivedBefore?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude
        let rows = try await client.query(
            "SELECT update_id, body FROM telegram_inbox WHERE status = 'pending' AND received_at < \(before) ORDER BY update_id", logger: logger)
        var updates: [(updateID: Int64, body: String)] = []
        for try await (updateID, body) in rows.decode((Int64, String).self) {
            updates.append((updateID, body))
        }
        return updates
    }

    public func remove(_ updateID: Int64) async throws {
        _ = try await client.query("DELETE FROM telegram_inbox WHERE update_id = \(updateID)", logger: logger).collect()
    }

    public func markFailed(_ updateID: Int64, error: String) async throws {
        _ = try await client.query(
            "UPDATE telegram_inbox SET status = 'failed', last_error = \(error) WHERE update_id = \(updateID)", logger: logger
        ).collect()
    }

    public func lastUpdateID() async throws -> Int64? {
        try await client.query("SELECT max(update_id) FROM telegram_inbox", logger: logger).decode(Int64?.self).first { _ in true } ?? nil
    }
}

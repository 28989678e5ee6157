import Foundation
import Logging
import PostgresNIO
import Storage

/// `TelegramChatLanes` on PostgreSQL: a chat's lane is a `PostgresLaneLocks` claim named
/// `telegram-inbox:<chat>`, its updates the chat's pending rows of `telegram_inbox`
/// (migration 6 keeps each row's chat). A server that dies drops its claims with its
/// session, and another claims the chat when its updates are next looked for.
public struct PostgresTelegramChatLanes: TelegramChatLanes {
    private let locks: PostgresLaneLocks
    private let client: PostgresClient
    private let logger: Logger

    /// Throws when `database.url` asks for TLS and no TLS context can be made.
    public init(_ database: ReplyflowPostgres, checkInterval: Duration = .seconds(1), checkTimeout: Duration = .seconds(5)) throws {
        client = database.client
        logger = database.logger
        let logger = database.logger
        locks = try PostgresLaneLocks(url: database.url, logger: database.logger, checkInterval: checkInterval, checkTimeout: checkTimeout) { lanes in
            logger.warning("lost the claims of Telegram chats; another instance takes them over", metadata: ["chats": "\(lanes.count)"])
        }
    }

    public func tryClaim(_ chat: Int64) async throws -> Bool {
        try await locks.tryClaim(Self.lane(chat))
    }

    public func holds(_ chat: Int64) async -> Bool {
        await locks.claimed.contains(Self.lane(chat))
    }

    public func release(_ chat: Int64) async {
        await locks.release(Self.lane(chat))
    }

    public func chatsWithPending(receivedBefore: Date?) async throws -> [Int64] {
        let before = receivedBefore?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude
        let rows = try await client.query(
            """
            SELECT chat_id FROM telegram_inbox WHERE status = 'pending' AND received_at < \(before)
            GROUP BY chat_id ORDER BY min(update_id)
            """, logger: logger)
        var chats: [Int64] = []
        for try await chat in rows.decode(Int64.self) { chats.append(chat) }
        return chats
    }

    public func pendingCount() async throws -> Int {
        Int(
            try await client.query("SELECT count(*) FROM telegram_inbox WHERE status = 'pending'", logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0)
    }

    public func pending(chat: Int64, limit: Int) async throws -> [(updateID: Int64, body: String)] {
        let rows = try await client.query(
            "SELECT update_id, body FROM telegram_inbox WHERE chat_id = \(chat) AND status = 'pending' ORDER BY update_id LIMIT \(limit)",
            logger: logger)
        var updates: [(updateID: Int64, body: String)] = []
        for try await (updateID, body) in rows.decode((Int64, String).self) {
            updates.append((updateID, body))
        }
        return updates
    }

    public func close() async {
        await locks.close()
    }

    /// Distinct from the outbox's `telegram:<chat>` delivery lanes.
    static func lane(_ chat: Int64) -> String { "telegram-inbox:\(chat)" }
}

import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// `ConversationQueries` on PostgreSQL: the same pages and lookups as
/// `SQLiteConversationQueries`, over the same activity indexes and `conversation_counts`
/// (kept by triggers, whichever instance wrote the message).
public struct PostgresConversationQueries: ConversationQueries {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    /// A conversation as the queries below select it: id, source, chat id, name, activity,
    /// auto mode.
    private typealias Row = (Int64, String, String, String?, Double, Int64?)

    /// As SQLite's: the page's ids from the activity index alone, then only those rows
    /// joined; a page in the older half read from the oldest end; the total from
    /// `conversation_counts` in the same snapshot.
    public func conversations(source: ChatSource?, page: Int, perPage: Int) async throws -> (items: [Conversation], total: Int) {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.queryIfOpen("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger).collect()
                let counted =
                    try await connection.queryIfOpen(
                        "SELECT sum(total)::bigint FROM conversation_counts WHERE \(source?.rawValue)::text IS NULL OR source = \(source?.rawValue)",
                        logger: logger
                    ).decode(Int64?.self).first { _ in true } ?? nil
                let total = Int(counted ?? 0)
                guard let window = ConversationPageWindow(total: total, page: page, perPage: perPage) else { return ([], total) }
                let rows = try await connection.queryIfOpen(
                    """
                    SELECT c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode
                    FROM (
                        SELECT id FROM conversations WHERE \(source?.rawValue)::text IS NULL OR source = \(source?.rawValue)
                        ORDER BY updated_at \(unescaped: window.order), id \(unescaped: window.order) LIMIT \(window.limit) OFFSET \(window.skip)
                    ) page
                    JOIN conversations c ON c.id = page.id
                    LEFT JOIN users u ON u.id = c.platform_chat_id
                    LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
                    ORDER BY c.updated_at DESC, c.id DESC
                    """, logger: logger)
                var items: [Conversation] = []
                for try await row in rows.decode(Row.self) { items.append(Self.conversation(row)) }
                return (items, total)
            }
        }
    }

    public func conversation(id: Int64) async throws -> Conversation? {
        let rows = try await client.query(
            """
            SELECT c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode
            FROM conversations c
            LEFT JOIN users u ON u.id = c.platform_chat_id
            LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
            WHERE c.id = \(id)
            """, logger: logger)
        return try await rows.decode(Row.self).first { _ in true }.map(Self.conversation)
    }

    public func conversations(of chats: [(source: ChatSource, platformChatID: String)]) async throws -> [Conversation] {
        guard !chats.isEmpty else { return [] }
        // One round trip for the lot, in the order asked.
        let rows = try await client.query(
            """
            SELECT c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode
            FROM unnest(\(chats.map(\.source.rawValue))::text[], \(chats.map(\.platformChatID))::text[]) WITH ORDINALITY AS wanted (source, chat, n)
            JOIN conversations c ON c.source = wanted.source AND c.platform_chat_id = wanted.chat
            LEFT JOIN users u ON u.id = c.platform_chat_id
            LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
            ORDER BY wanted.n
            """, logger: logger)
        var found: [Conversation] = []
        for try await row in rows.decode(Row.self) { found.append(Self.conversation(row)) }
        return found
    }

    public func messages(of conversation: Conversation, page: Int, perPage: Int) async throws -> (items: [ConversationMessage], total: Int) {
        let chat = conversation.platformChatID, source = conversation.source.rawValue
        return try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.queryIfOpen("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger).collect()
                let rows = try await connection.queryIfOpen(
                    """
                    SELECT m.id, m.direction, m.text, m.media, m.photo_url, m.created_at, m.flow, u.name, m.sender_name, m.platform_message_id,
                        o.status
                    FROM messages m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN outbox o ON o.message_id = m.id
                    WHERE m.user_id = \(chat) AND m.source = \(source) ORDER BY m.id DESC LIMIT \(perPage) OFFSET \((page - 1) * perPage)
                    """, logger: logger)
                var newestFirst: [ConversationMessage] = []
                let columns = (Int64, String, String, String, String?, Double, String?, String?, String?, String?, String?).self
                for try await row in rows.decode(columns) {
                    newestFirst.append(
                        ConversationMessage(
                            id: row.0, source: conversation.source, conversationID: conversation.id, direction: row.1, text: row.2, media: row.3,
                            photoURL: row.4, createdAt: Date(timeIntervalSince1970: row.5), userID: chat, userName: row.7, flow: row.6,
                            senderName: row.8, platformMessageID: row.9, delivery: row.10.flatMap(OutboxItem.Status.init(rawValue:))))
                }
                let total = try await connection.queryIfOpen(
                    "SELECT count(*) FROM messages WHERE user_id = \(chat) AND source = \(source)", logger: logger
                ).decode(Int64.self).first { _ in true }
                return (newestFirst.reversed(), Int(total ?? 0))
            }
        }
    }

    public func recentTexts(source: ChatSource, platformChatID: String, limit: Int) async throws -> [(incoming: Bool, text: String)] {
        guard limit > 0 else { return [] }
        let rows = try await client.query(
            """
            SELECT direction, text FROM messages
            WHERE user_id = \(platformChatID) AND source = \(source.rawValue) AND text <> '' ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var newestFirst: [(incoming: Bool, text: String)] = []
        for try await (direction, text) in rows.decode((String, String).self) { newestFirst.append((direction == "user", text)) }
        return newestFirst.reversed()
    }

    private static func conversation(_ row: Row) -> Conversation {
        Conversation(
            // Only the server writes chats, with a known source; the app's is the fallback.
            id: row.0, source: ChatSource(rawValue: row.1) ?? .app, platformChatID: row.2, name: row.3,
            updatedAt: Date(timeIntervalSince1970: row.4), autoMode: row.5.map { $0 != 0 })
    }
}

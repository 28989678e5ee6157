import Flows
import Foundation
import GRDB

/// `ConversationQueries` on the SQLite file.
public struct SQLiteConversationQueries: ConversationQueries {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    private static let conversationColumns = """
        c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode
        FROM conversations c
        LEFT JOIN users u ON u.id = c.platform_chat_id
        LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
        """

    /// One page of chats, newest activity first, optionally of one source.
    ///
    /// The page's ids are found on the activity index alone (it covers the id), and only
    /// those rows are joined with their user and auto mode: skipping 100,000 chats to a deep
    /// page then costs an index scan, not 100,000 joins. A page in the older half is read
    /// from the oldest end, so no page skips more than half the chats. The total comes from
    /// `conversation_counts`, in the same read, so both ends agree.
    ///
    /// Async: a deep page takes milliseconds, which must not hold one of the few threads
    /// every request shares.
    public func conversations(source: ChatSource?, page: Int, perPage: Int) async throws -> (items: [Conversation], total: Int) {
        try await writer.read { db in
            let counted =
                try source.map { try Int.fetchOne(db, sql: "SELECT total FROM conversation_counts WHERE source = ?", arguments: [$0.rawValue]) }
                ?? Int.fetchOne(db, sql: "SELECT sum(total) FROM conversation_counts")
            let total = counted ?? 0
            guard let window = ConversationPageWindow(total: total, page: page, perPage: perPage) else { return ([], total) }
            let filter = source == nil ? "" : "WHERE source = ?"
            let statement = try db.cachedStatement(
                sql: """
                    SELECT \(Self.pageColumns)
                    FROM (SELECT id FROM conversations \(filter) ORDER BY updated_at \(window.order), id \(window.order) LIMIT ? OFFSET ?) page
                    JOIN conversations c ON c.id = page.id
                    LEFT JOIN users u ON u.id = c.platform_chat_id
                    LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
                    ORDER BY c.updated_at DESC, c.id DESC
                    """)
            let arguments: StatementArguments = source.map { [$0.rawValue, window.limit, window.skip] } ?? [window.limit, window.skip]
            return (try Row.fetchAll(statement, arguments: arguments).map(Self.conversation), total)
        }
    }

    private static let pageColumns = "c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode"

    public func conversation(id: Int64) async throws -> Conversation? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.conversationColumns) WHERE c.id = ?", arguments: [id]).map(Self.conversation)
        }
    }

    /// Several chats in one read (the live stream looks up every new chat of a batch of
    /// commits at once); chats that do not exist are left out.
    public func conversations(of chats: [(source: ChatSource, platformChatID: String)]) async throws -> [Conversation] {
        guard !chats.isEmpty else { return [] }
        return try await writer.read { db in
            // Cached: preparing the join costs more than running it.
            let statement = try db.cachedStatement(sql: "SELECT \(Self.conversationColumns) WHERE c.source = ? AND c.platform_chat_id = ?")
            return try chats.compactMap { chat in
                try Row.fetchOne(statement, arguments: [chat.source.rawValue, chat.platformChatID]).map(Self.conversation)
            }
        }
    }

    /// One page of a chat's messages: page 1 is the newest `perPage`, each page oldest first.
    public func messages(of conversation: Conversation, page: Int, perPage: Int) async throws -> (items: [ConversationMessage], total: Int) {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.direction, m.text, m.media, m.photo_url, m.created_at, m.flow, u.name, m.sender_name, m.platform_message_id,
                        o.status
                    FROM messages m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN outbox o ON o.message_id = m.id
                    WHERE m.user_id = ? AND m.source = ? ORDER BY m.id DESC LIMIT ? OFFSET ?
                    """, arguments: [conversation.platformChatID, conversation.source.rawValue, perPage, (page - 1) * perPage])
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM messages WHERE user_id = ? AND source = ?",
                    arguments: [conversation.platformChatID, conversation.source.rawValue]) ?? 0
            let items = rows.reversed().map { row in
                ConversationMessage(
                    id: row[0], source: conversation.source, conversationID: conversation.id, direction: row[1], text: row[2], media: row[3],
                    photoURL: row[4], createdAt: Date(timeIntervalSince1970: row[5]), userID: conversation.platformChatID, userName: row[7], flow: row[6],
                    senderName: row[8], platformMessageID: row[9], delivery: (row[10] as String?).flatMap(OutboxItem.Status.init(rawValue:)))
            }
            return (items, total)
        }
    }

    /// A chat's latest messages with text, oldest first: the history an AI without memory
    /// of its own is sent. `incoming` is true for the customer's messages.
    public func recentTexts(source: ChatSource, platformChatID: String, limit: Int) async throws -> [(incoming: Bool, text: String)] {
        guard limit > 0 else { return [] }
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT direction, text FROM messages
                    WHERE user_id = ? AND source = ? AND text != '' ORDER BY id DESC LIMIT ?
                    """, arguments: [platformChatID, source.rawValue, limit]
            )
            .reversed().map { row in (incoming: (row[0] as String) == "user", text: row[1]) }
        }
    }

    private static func conversation(_ row: Row) -> Conversation {
        Conversation(
            // Only the server writes chats, with a known source; the app's is the fallback.
            id: row[0], source: ChatSource(rawValue: row[1]) ?? .app, platformChatID: row[2], name: row[3],
            updatedAt: Date(timeIntervalSince1970: row[4]), autoMode: row[5])
    }
}

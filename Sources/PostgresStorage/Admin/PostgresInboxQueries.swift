import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// `InboxReading` on PostgreSQL: SQLite's `InboxQueries`, the same chat list query
/// (`InboxChatListSQL`: filters, keyset pages, bounded search, unread rules), over the
/// same columns migration 2's triggers keep on `conversations` and the same partial indexes. Search is case-insensitive for every
/// alphabet here (`ILIKE`); SQLite's `LIKE` folds ASCII letters only.
public struct PostgresInboxQueries: InboxReading {
    private let client: PostgresClient
    private let logger: Logger
    /// How many of the newest messages a text search reads.
    public var searchScanLimit: Int

    public init(_ database: ReplyflowPostgres, searchScanLimit: Int = InboxQueries.defaultSearchScanLimit) {
        client = database.client
        logger = database.logger
        self.searchScanLimit = searchScanLimit
    }

    public func chats(_ query: InboxQuery) async throws -> InboxPage {
        let list = try InboxChatListSQL(query, searchScanLimit: searchScanLimit, dialect: .postgres)
        var bindings = PostgresBindings(capacity: list.arguments.count)
        for argument in list.arguments {
            switch argument {
            case .text(let text): bindings.append(text)
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            }
        }
        let sql = list.sql
        var chats: [InboxChat] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).decode(
            (Int64, String, String, String?, Double, Int64?, Bool?, Double?, Int64?, String?, String?, String?, Double?).self)
        {
            let preview = row.8.map { id in
                InboxPreview(
                    id: id, text: row.9 ?? "", media: MediaKind(rawValue: row.10 ?? "") ?? .none, author: StoredMessage.Author(rawValue: row.11 ?? "") ?? .customer,
                    at: Date(timeIntervalSince1970: row.12 ?? 0))
            }
            chats.append(
                InboxChat(
                    id: row.0, source: ChatSource(rawValue: row.1) ?? .app, platformChatID: row.2, name: row.3, lastMessage: preview,
                    updatedAt: Date(timeIntervalSince1970: row.4), autoMode: row.5.map { $0 != 0 }, unread: row.6 ?? false,
                    waitingSince: row.7.map(Date.init(timeIntervalSince1970:))))
        }
        return InboxPage(fetched: chats, limit: list.limit, sort: query.sort)
    }

    public func unreadCount() async throws -> Int {
        Int(
            try await client.query("SELECT count(*) FROM conversations WHERE last_customer_message_id > read_message_id", logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0)
    }

    public func markRead(conversationID: Int64, upTo messageID: Int64) async throws {
        let updated = try await client.query(
            """
            UPDATE conversations SET read_message_id = greatest(read_message_id, least(\(messageID), coalesce(last_message_id, 0)))
            WHERE id = \(conversationID) RETURNING id
            """, logger: logger
        ).collect()
        if updated.isEmpty { throw InboxError.conversationNotFound(conversationID) }
    }

    public func audioLocation(of messageID: Int64, in conversationID: Int64) async throws -> String? {
        try await client.query(
            """
            SELECT m.audio_location FROM messages m JOIN conversations c ON c.source = m.source AND c.platform_chat_id = m.user_id
            WHERE m.id = \(messageID) AND c.id = \(conversationID)
            """, logger: logger
        ).decode(String?.self).first { _ in true } ?? nil
    }

    public func messages(of conversationID: Int64, before messageID: Int64?, limit: Int) async throws -> [InboxMessage] {
        let limit = min(max(limit, 1), InboxQuery.maxLimit)
        return try await snapshot { connection in
            let (source, chatID) = try await Self.chat(conversationID, on: connection, logger: logger)
            // The newest outbox item of each message: a message is sent by one item.
            let rows = try await connection.query(
                """
                SELECT m.id, m.direction, m.author, m.sender_name, m.flow, m.text, m.media, m.photo_url, m.created_at,
                    o.id, o.status, o.last_error, m.transcript, m.audio_location
                FROM messages m
                LEFT JOIN outbox o ON o.id = (SELECT max(id) FROM outbox WHERE message_id = m.id)
                WHERE m.user_id = \(chatID) AND m.source = \(source) AND m.id < \(messageID ?? Int64.max)
                ORDER BY m.id DESC LIMIT \(limit)
                """, logger: logger)
            var newestFirst: [InboxMessage] = []
            for try await row in rows.decode(
                (Int64, String, String, String?, String?, String, String, String?, Double, Int64?, String?, String?, String?, String?).self)
            {
                let delivery = row.9.map { itemID in
                    InboxDelivery(itemID: itemID, status: OutboxItem.Status(rawValue: row.10 ?? "") ?? .pending, lastError: row.11)
                }
                newestFirst.append(
                    InboxMessage(
                        id: row.0, direction: StoredMessage.Direction(rawValue: row.1) ?? .user, author: StoredMessage.Author(rawValue: row.2) ?? .customer,
                        senderName: row.3, flow: row.4, text: row.5, media: MediaKind(rawValue: row.6) ?? .none, photoURL: row.7,
                        createdAt: Date(timeIntervalSince1970: row.8), delivery: delivery, transcript: row.12, audioLocation: row.13))
            }
            return newestFirst.reversed()
        }
    }

    public func recentRuns(of conversationID: Int64, limit: Int) async throws -> [ChatRunTrace] {
        let limit = min(max(limit, 1), 50)
        return try await snapshot { connection in
            let (source, chatID) = try await Self.chat(conversationID, on: connection, logger: logger)
            // Traces name the user, not the channel: the channel is the event's.
            let kinds = EventKind.allCases.filter { $0.source.rawValue == source }.map(\.rawValue)
            let rows = try await connection.query(
                """
                SELECT id, at, event_kind, trigger, note, flow, result, reason, variant, actions FROM run_traces
                WHERE user_id = \(chatID) AND event_kind = ANY(\(kinds)) ORDER BY id DESC
                """, logger: logger)
            var runs = ChatRunGrouping(limit: limit)
            for try await row in rows.decode((Int64, Double, String, String?, String?, String?, String?, String?, String?, String?).self) {
                let more = runs.add(
                    id: row.0, at: row.1, eventKind: row.2, trigger: row.3, note: row.4, flow: row.5, result: row.6, reason: row.7, variant: row.8,
                    actions: row.9)
                if !more { break }
            }
            return runs.traces
        }
    }

    /// One read-only snapshot (the conversation and its rows read together); the body's
    /// own error (`InboxError`) comes out as it is.
    private func snapshot<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.queryIfOpen("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger).collect()
                return try await body(connection)
            }
        }
    }

    /// The conversation's source and platform chat id; throws when there is none.
    private static func chat(_ conversationID: Int64, on connection: PostgresConnection, logger: Logger) async throws -> (String, String) {
        guard
            let chat = try await connection.query(
                "SELECT source, platform_chat_id FROM conversations WHERE id = \(conversationID)", logger: logger
            ).decode((String, String).self).first(where: { _ in true })
        else { throw InboxError.conversationNotFound(conversationID) }
        return chat
    }
}

import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// `SharedLiveFeed` on PostgreSQL: `live_events`, written in each run's commit
/// (`PostgresRunCommit`), numbered after it (`number`, migration 5), read back by
/// position joined to the message and chat; `LISTEN` on a connection of its own (outside
/// the pool, whose connections come and go) for the doorbell each such commit rings.
public struct PostgresLiveFeed: SharedLiveFeed {
    private let client: PostgresClient
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let reconnectDelay: Duration

    /// Throws when the URL asks for TLS and no TLS context can be made.
    public init(_ database: ReplyflowPostgres, reconnectDelay: Duration = .seconds(1)) throws {
        client = database.client
        configuration = try database.url.connectionConfiguration()
        logger = database.logger
        self.reconnectDelay = reconnectDelay
    }

    /// Numbers the committed entries that have no position yet, in id order, after the
    /// highest position given; one pass at a time across the instances (a transaction
    /// advisory lock: a pass that finds another under way leaves the work to it). Rings the
    /// doorbell when it numbered any, for the other instances to read them.
    @discardableResult
    public func number() async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                let numbering = try await connection.query(
                    "SELECT pg_try_advisory_xact_lock(hashtextextended('replyflow.live_events.numbering', 0))", logger: logger
                ).decode(Bool.self).first { _ in true }
                guard numbering == true else { return false }
                var ids: [Int64] = []
                for try await id in try await connection.query(
                    "SELECT id FROM live_events WHERE position IS NULL ORDER BY id LIMIT 10000", logger: logger
                ).decode(Int64.self) {
                    ids.append(id)
                }
                guard !ids.isEmpty else { return true }
                let top =
                    try await connection.query(
                        "UPDATE live_events_numbering SET top = top + \(Int64(ids.count)) RETURNING top", logger: logger
                    ).decode(Int64.self).first { _ in true } ?? Int64(ids.count)
                let first = top - Int64(ids.count) + 1
                _ = try await connection.query(
                    """
                    UPDATE live_events e SET position = \(first) + numbered.n - 1
                    FROM unnest(\(ids)::bigint[]) WITH ORDINALITY AS numbered (id, n) WHERE e.id = numbered.id
                    """, logger: logger
                ).collect()
                _ = try await connection.query("SELECT pg_notify(\(PostgresRunCommit.doorbell), '')", logger: logger).collect()
                return true
            }
        }
    }

    public func events(after id: Int64, limit: Int) async throws -> [LiveFeedEvent] {
        // A message's delivery as the `/api` shows it: its outbox item's status now.
        let rows = try await client.query(
            """
            SELECT e.position, e.kind, e.source, e.chat_id, e.payload,
                c.id, u.name, c.updated_at, ch.auto_mode,
                m.id, m.direction, m.text, m.media, m.photo_url, m.created_at, m.flow, m.sender_name, m.platform_message_id,
                (SELECT o.status FROM outbox o WHERE o.message_id = m.id ORDER BY o.id LIMIT 1)
            FROM live_events e
            LEFT JOIN conversations c ON c.source = e.source AND c.platform_chat_id = e.chat_id
            LEFT JOIN users u ON u.id = e.chat_id
            LEFT JOIN chats ch ON ch.source = e.source AND ch.user_id = e.chat_id
            LEFT JOIN messages m ON m.id = e.message_id
            WHERE e.position > \(id)
            ORDER BY e.position
            LIMIT \(limit)
            """, logger: logger)
        typealias Columns = (
            Int64, String, String?, String, String?, Int64?, String?, Double?, Int64?, Int64?, String?, String?, String?, String?, Double?,
            String?, String?, String?, String?
        )
        var events: [LiveFeedEvent] = []
        for try await row in rows.decode(Columns.self) {
            let (id, kind, source, chatID, payload) = (row.0, row.1, row.2.flatMap(ChatSource.init(rawValue:)), row.3, row.4)
            let conversation = row.5.flatMap { conversationID -> Conversation? in
                guard let source, let updatedAt = row.7 else { return nil }
                return Conversation(
                    id: conversationID, source: source, platformChatID: chatID, name: row.6, updatedAt: Date(timeIntervalSince1970: updatedAt),
                    autoMode: row.8.map { $0 != 0 })
            }
            let body: LiveFeedEvent.Body
            switch kind {
            case "message":
                if let conversation, let messageID = row.9, let direction = row.10, let text = row.11, let media = row.12, let at = row.14 {
                    body = .message(
                        ConversationMessage(
                            id: messageID, source: conversation.source, conversationID: conversation.id, direction: direction, text: text,
                            media: media, photoURL: row.13, createdAt: Date(timeIntervalSince1970: at), userID: chatID, userName: row.6, flow: row.15,
                            senderName: row.16, platformMessageID: row.17, delivery: row.18.flatMap(OutboxItem.Status.init(rawValue:))),
                        conversation)
                } else {
                    body = .gone
                }
            case "chat":
                body = conversation.map(LiveFeedEvent.Body.chat) ?? .gone
            default:
                body = payload.map { .room(userID: chatID, item: $0) } ?? .gone
            }
            events.append(LiveFeedEvent(id: id, body: body))
        }
        return events
    }

    public func newestID() async throws -> Int64 {
        try await client.query("SELECT top FROM live_events_numbering", logger: logger).decode(Int64.self).first { _ in true } ?? 0
    }

    public func oldestID() async throws -> Int64? {
        try await client.query("SELECT min(position) FROM live_events", logger: logger).decode(Int64?.self).first { _ in true } ?? nil
    }

    public func trim(before date: Date) async throws -> Int {
        let rows = try await client.query(
            "WITH gone AS (DELETE FROM live_events WHERE created_at < \(date.timeIntervalSince1970) RETURNING 1) SELECT count(*) FROM gone",
            logger: logger)
        return Int(try await rows.decode(Int64.self).first { _ in true } ?? 0)
    }

    public func listen(_ ring: @escaping @Sendable () -> Void) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
                do {
                    try await connection.listen(on: PostgresRunCommit.doorbell) { doorbells in
                        if failures > 0 { logger.notice("live events: listening again") }
                        failures = 0
                        // Commits made while nobody listened rang nobody.
                        ring()
                        try await Self.ringUntilClosed(connection, doorbells: doorbells, ring)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                failures += 1
                // Once per outage, not once per second.
                if failures == 1 {
                    logger.warning("live events: cannot listen; reading every second until it can", metadata: ["error": "\(PostgresErrorText.describe(error))"])
                }
            }
            do { try await Task.sleep(for: reconnectDelay) } catch { return }
        }
    }

    /// Rings at each notification until the connection closes or the task is cancelled
    /// (which ends the notifications; the connection is then closed, ending the wait for it).
    private static func ringUntilClosed(
        _ connection: PostgresConnection, doorbells: PostgresNotificationSequence, _ ring: @escaping @Sendable () -> Void
    ) async throws {
        let closed = connection.closeFuture
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await _ in doorbells { ring() }
            }
            group.addTask { try await closed.get() }
            defer { group.cancelAll() }
            do {
                _ = try await group.next()
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        }
    }
}

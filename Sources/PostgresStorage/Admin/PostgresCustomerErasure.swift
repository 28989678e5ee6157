import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// `CustomerErasing` on PostgreSQL: SQLite's `eraseCustomer`, the same rows in one
/// transaction with the same counts and audit entry, and the customer's live events
/// (`live_events`, which only PostgreSQL keeps) too. JSON payloads are read in Swift
/// rather than by SQL, so a payload that is not JSON never fails the erasure.
public struct PostgresCustomerErasure: CustomerErasing {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    /// Tables PostgreSQL has besides SQLite's: the migrations, the live events (the chat's are
    /// deleted below) and their numbering (a counter).
    static let ownTables: Set<String> = ["schema_migrations", "live_events", "live_events_numbering"]

    public func eraseCustomer(
        source: ChatSource, id: String, actor: String, address: String?, uploadsDirectory: String?, at now: Date
    ) async throws -> CustomerErasure {
        try ReplyflowDatabase.validateCustomerID(id, source: source)
        let logger = logger
        let (counts, photos) = try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                try await Self.checkTablesConsidered(connection, logger)
                guard try await Self.isKnown(source: source, id: id, connection, logger) else {
                    throw CustomerErasureError.notFound(source: source, id: id)
                }
                let (counts, photos) = try await Self.eraseRows(source: source, id: id, connection, logger)
                let summary = CustomerErasure(counts: counts, uploadsNotRemoved: []).summary
                _ = try await connection.query(
                    """
                    INSERT INTO audit_log (at, actor, action, detail, address)
                    VALUES (\(now.timeIntervalSince1970), \(actor), 'customer erased', \("\(source.rawValue) customer: \(summary)"), \(address))
                    """, logger: logger
                ).collect()
                return (counts, photos)
            }
        }
        var erasure = CustomerErasure(counts: counts, uploadsNotRemoved: [])
        if let uploadsDirectory {
            // Files no message left refers to (a client may send an upload's address again).
            var stillUsed: Set<String> = []
            if !photos.isEmpty {
                for try await path in try await client.query(
                    "SELECT DISTINCT photo_url FROM messages WHERE photo_url = ANY(\(Array(photos)))", logger: logger
                ).decode(String.self) {
                    stillUsed.insert(path)
                }
            }
            let (removed, failed) = UploadFiles.remove(photos.subtracting(stillUsed), from: uploadsDirectory)
            if let index = erasure.counts.firstIndex(where: { $0.kind == "uploads" }) { erasure.counts[index].count = removed }
            erasure.uploadsNotRemoved = failed
        }
        return erasure
    }

    private static func checkTablesConsidered(_ connection: PostgresConnection, _ logger: Logger) async throws {
        var unknown: [String] = []
        for try await table in try await connection.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name", logger: logger
        ).decode(String.self) where !CustomerTables.isConsidered(table) && !ownTables.contains(table) {
            unknown.append(table)
        }
        if !unknown.isEmpty { throw CustomerErasureError.tablesNotConsidered(unknown) }
    }

    private static func isKnown(source: ChatSource, id: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        let source = source.rawValue
        return try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM conversations WHERE source = \(source) AND platform_chat_id = \(id))
                OR EXISTS (SELECT 1 FROM messages WHERE user_id = \(id) AND source = \(source))
                OR EXISTS (SELECT 1 FROM chats WHERE source = \(source) AND user_id = \(id))
                OR (\(source) = 'app' AND EXISTS (SELECT 1 FROM devices WHERE user_id = \(id)))
            """, logger: logger
        ).decode(Bool.self).first { _ in true } ?? false
    }

    private static func eraseRows(source: ChatSource, id: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> (
        [CustomerErasure.Count], Set<String>
    ) {
        var counts: [String: Int] = [:]
        func delete(_ kind: String, _ query: PostgresQuery) async throws {
            let rows = try await connection.query(query, logger: logger).collect()
            counts[kind, default: 0] += rows.count
        }
        let sourceName = source.rawValue

        var photos: Set<String> = []
        for try await path in try await connection.query(
            "SELECT DISTINCT photo_url FROM messages WHERE source = \(sourceName) AND user_id = \(id) AND photo_url IS NOT NULL", logger: logger
        ).decode(String.self) where UploadFiles.name(ofPublicPath: path) != nil {
            photos.insert(path)
        }
        counts["uploads"] = photos.count

        // Deliveries first: some find the chat through its messages. Forwards and copies
        // to the staff group name the chat in their JSON payload, read here.
        var aboutTheChat: [Int64] = []
        for try await (itemID, payload) in try await connection.query(
            "SELECT id, payload FROM outbox WHERE kind IN ('telegram.forward', 'telegram.copy') AND strpos(payload, \(id)) > 0", logger: logger
        ).decode((Int64, String).self) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
            if object["user_id"] as? String == id && (object["source"] as? String ?? "app") == sourceName { aboutTheChat.append(itemID) }
        }
        try await delete(
            "outbox items",
            """
            DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE source = \(sourceName) AND user_id = \(id))
                OR lane = \(ReplyflowDatabase.deliveryLane(source: source, id: id)) OR id = ANY(\(aboutTheChat))
            RETURNING 1
            """)
        try await delete("messages", "DELETE FROM messages WHERE source = \(sourceName) AND user_id = \(id) RETURNING 1")
        try await delete("conversations", "DELETE FROM conversations WHERE source = \(sourceName) AND platform_chat_id = \(id) RETURNING 1")
        if let removed = counts["conversations"], removed > 0 {
            _ = try await connection.query(
                "UPDATE conversation_counts SET total = greatest(0, total - \(Int64(removed))) WHERE source = \(sourceName)", logger: logger
            ).collect()
        }
        try await delete("chat settings", "DELETE FROM chats WHERE source = \(sourceName) AND user_id = \(id) RETURNING 1")
        try await delete("staff-group links", "DELETE FROM group_forwards WHERE source = \(sourceName) AND user_id = \(id) RETURNING 1")
        try await delete("AI memory", "DELETE FROM assistant_memory WHERE source = \(sourceName) AND platform_chat_id = \(id) RETURNING 1")
        if source == .app {
            try await delete("devices", "DELETE FROM devices WHERE user_id = \(id) RETURNING 1")
        }
        if source == .telegram, let chatID = Int64(id) {
            var updates: [Int64] = []
            for try await (updateID, body) in try await connection.query(
                "SELECT update_id, body FROM telegram_inbox WHERE strpos(body, \(id)) > 0", logger: logger
            ).decode((Int64, String).self) {
                guard let update = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { continue }
                let message = (update["message"] ?? update["edited_message"]) as? [String: Any]
                if let chat = message?["chat"] as? [String: Any], (chat["id"] as? NSNumber)?.int64Value == chatID { updates.append(updateID) }
            }
            try await delete("pending Telegram updates", "DELETE FROM telegram_inbox WHERE update_id = ANY(\(updates)) RETURNING 1")
        }
        // The runtime's state of the id.
        try await delete("markers", "DELETE FROM markers WHERE user_id = \(id) RETURNING 1")
        try await delete("traces", "DELETE FROM run_traces WHERE user_id = \(id) RETURNING 1")
        try await delete("experiment records", "DELETE FROM experiment_assignments WHERE user_id = \(id) RETURNING 1")
        try await delete("experiment records", "DELETE FROM experiment_exposures WHERE user_id = \(id) RETURNING 1")
        try await delete("experiment records", "DELETE FROM experiment_conversions WHERE user_id = \(id) RETURNING 1")
        try await delete("user profiles", "DELETE FROM users WHERE id = \(id) RETURNING 1")
        try await delete("forum topics", "DELETE FROM forum_topics WHERE user_id = \(id) RETURNING 1")
        // Live events of the chat (socket.io messages to the id's room hold texts); not a
        // kind of its own: they are the messages' and chat's shadows.
        _ = try await connection.query(
            "DELETE FROM live_events WHERE chat_id = \(id) AND (source = \(sourceName) OR (kind = 'room' AND \(sourceName) = 'app'))", logger: logger
        ).collect()

        // The panel's audit entries end with "<source> chat <id>": the id goes, the entry stays.
        let named = "\(sourceName) chat \(id)", erased = "\(sourceName) chat [erased]"
        try await delete("audit entries anonymised", "UPDATE audit_log SET detail = \(erased) WHERE detail = \(named) RETURNING 1")
        let suffix = " " + named, replacement = " " + erased
        try await delete(
            "audit entries anonymised",
            """
            UPDATE audit_log SET detail = left(detail, length(detail) - length(\(suffix))) || \(replacement)
            WHERE length(detail) > length(\(suffix)) AND right(detail, length(\(suffix))) = \(suffix) RETURNING 1
            """)
        return (ReplyflowDatabase.erasureKinds.map { CustomerErasure.Count(kind: $0, count: counts[$0] ?? 0) }, photos)
    }
}

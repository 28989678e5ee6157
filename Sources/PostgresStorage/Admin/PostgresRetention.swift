import Foundation
import Logging
import PostgresNIO
import Storage

/// `RetentionStore` on PostgreSQL: SQLite's batches, the same rows (the oldest ids whose
/// time has passed), each batch one short transaction. Run by the instance leading
/// housekeeping, so instances do not delete the same rows side by side.
public struct PostgresRetention: RetentionStore {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    public func deleteTraces(olderThan cutoff: Date, limit: Int) async throws -> RetentionBatch {
        try await transaction { connection in
            var batch = RetentionBatch()
            let ids = try await Self.oldestIDs(
                "SELECT id, at FROM run_traces ORDER BY id LIMIT \(max(1, limit))", before: cutoff, connection, logger)
            guard !ids.isEmpty else { return batch }
            batch.traces = try await connection.query("DELETE FROM run_traces WHERE id = ANY(\(ids)) RETURNING 1", logger: logger).collect().count
            return batch
        }
    }

    public func deleteMessages(olderThan cutoff: Date, limit: Int, uploadsDirectory: String?) async throws -> RetentionBatch {
        let logger = logger
        let (batch, photos) = try await transaction { connection -> (RetentionBatch, Set<String>) in
            var batch = RetentionBatch()
            var photos: Set<String> = []
            let ids = try await Self.oldestIDs("SELECT id, created_at FROM messages ORDER BY id LIMIT \(max(1, limit))", before: cutoff, connection, logger)
            if !ids.isEmpty {
                var chats = Set<[String]>()
                for try await (source, user, photo) in try await connection.query(
                    "SELECT DISTINCT source, user_id, photo_url FROM messages WHERE id = ANY(\(ids))", logger: logger
                ).decode((String, String, String?).self) {
                    chats.insert([source, user])
                    if let photo, UploadFiles.name(ofPublicPath: photo) != nil { photos.insert(photo) }
                }
                batch.messages = try await connection.query("DELETE FROM messages WHERE id = ANY(\(ids)) RETURNING 1", logger: logger).collect().count
                // A chat with no message left leaves the inbox (its settings stay).
                for chat in chats {
                    let (source, user) = (chat[0], chat[1])
                    // Locked first, in a statement of its own: a run committing a message to
                    // the chat meanwhile is waited for, and the delete's own snapshot, taken
                    // after, sees that message (one statement would check an older one).
                    _ = try await connection.query(
                        "SELECT id FROM conversations WHERE source = \(source) AND platform_chat_id = \(user) FOR UPDATE", logger: logger
                    ).collect()
                    let removed = try await connection.query(
                        """
                        DELETE FROM conversations WHERE source = \(source) AND platform_chat_id = \(user)
                            AND NOT EXISTS (SELECT 1 FROM messages WHERE user_id = \(user) AND source = \(source))
                        RETURNING 1
                        """, logger: logger
                    ).collect().count
                    if removed > 0 {
                        batch.conversations += 1
                        _ = try await connection.query(
                            "UPDATE conversation_counts SET total = greatest(0, total - 1) WHERE source = \(source)", logger: logger
                        ).collect()
                    }
                }
            }
            let items = try await Self.oldestIDs(
                "SELECT id, created_at FROM outbox WHERE status <> 'pending' ORDER BY id LIMIT \(max(1, limit))", before: cutoff, connection, logger)
            if !items.isEmpty {
                batch.outboxItems = try await connection.query(
                    "DELETE FROM outbox WHERE status <> 'pending' AND id = ANY(\(items)) RETURNING 1", logger: logger
                ).collect().count
            }
            return (batch, photos)
        }
        var result = batch
        if let uploadsDirectory, !photos.isEmpty {
            var stillUsed: Set<String> = []
            for try await path in try await client.query(
                "SELECT DISTINCT photo_url FROM messages WHERE photo_url = ANY(\(Array(photos)))", logger: logger
            ).decode(String.self) {
                stillUsed.insert(path)
            }
            result.uploads = UploadFiles.remove(photos.subtracting(stillUsed), from: uploadsDirectory).removed
        }
        return result
    }

    /// One transaction whose errors come out as they are (a cancellation stays one).
    private func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) { try await body(connection) }
        }
    }

    /// Of the rows `query` reads (id and time, oldest id first), the ids whose time is
    /// before `cutoff`.
    private static func oldestIDs(_ query: PostgresQuery, before cutoff: Date, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [Int64]
    {
        var ids: [Int64] = []
        for try await (id, at) in try await connection.query(query, logger: logger).decode((Int64, Double).self)
        where at < cutoff.timeIntervalSince1970 {
            ids.append(id)
        }
        return ids
    }
}

import Foundation
import GRDB

/// What one retention batch deleted.
public struct RetentionBatch: Sendable, Equatable {
    public var messages = 0
    /// Conversations left without a message, removed from the inbox.
    public var conversations = 0
    public var outboxItems = 0
    public var traces = 0
    /// Upload files of the deleted messages, deleted after the commit.
    public var uploads = 0

    public init() {}

    /// Whether the batch deleted any row.
    public var isEmpty: Bool { messages == 0 && conversations == 0 && outboxItems == 0 && traces == 0 }
}

/// Deletes old rows in small batches, on SQLite (`ReplyflowDatabase`) or PostgreSQL
/// (`PostgresRetention`); both delete the same rows (`RetentionParityTests`).
public protocol RetentionStore: Sendable {
    /// Deletes up to `limit` flow-run traces older than `cutoff`.
    func deleteTraces(olderThan cutoff: Date, limit: Int) async throws -> RetentionBatch
    /// Deletes up to `limit` messages older than `cutoff`, the inbox rows of chats left with
    /// none, and up to `limit` finished deliveries older than `cutoff`; then the upload files
    /// no message left refers to.
    func deleteMessages(olderThan cutoff: Date, limit: Int, uploadsDirectory: String?) async throws -> RetentionBatch
}

// MARK: - Retention: deleting old rows in small batches

/// Each batch is one short write transaction over at most `limit` rows, so the server's
/// own commits wait for it no more than a few milliseconds. Rows are taken oldest id first:
/// ids grow with time, so the oldest rows are at the start of each table and a batch reads
/// only the rows it looks at (no index on the times is needed, and none is kept up on
/// every commit for it). A row written with an older time after newer ones waits until
/// the rows before it are old enough too.
extension ReplyflowDatabase: RetentionStore {
    /// Deletes up to `limit` flow-run traces older than `cutoff`.
    public func deleteTraces(olderThan cutoff: Date, limit: Int) async throws -> RetentionBatch {
        try await writer.write { db in
            var batch = RetentionBatch()
            let ids = try Self.oldestIDs(table: "run_traces", time: "at", before: cutoff, limit: limit, db)
            guard !ids.isEmpty else { return batch }
            try db.execute(sql: "DELETE FROM run_traces WHERE id IN (\(databaseQuestionMarks(count: ids.count)))", arguments: StatementArguments(ids))
            batch.traces = db.changesCount
            return batch
        }
    }

    /// Deletes up to `limit` messages older than `cutoff`, the inbox rows of chats left with
    /// none, and up to `limit` finished deliveries (delivered, failed or recorded: pending
    /// ones are never dropped) older than `cutoff`. Then the upload files the messages
    /// referred to, when no message left refers to them, from `uploadsDirectory`.
    public func deleteMessages(olderThan cutoff: Date, limit: Int, uploadsDirectory: String?) async throws -> RetentionBatch {
        let (batch, photos) = try await writer.write { db -> (RetentionBatch, Set<String>) in
            var batch = RetentionBatch()
            var photos: Set<String> = []
            let ids = try Self.oldestIDs(table: "messages", time: "created_at", before: cutoff, limit: limit, db)
            if !ids.isEmpty {
                let marks = databaseQuestionMarks(count: ids.count)
                let rows = try Row.fetchAll(
                    db, sql: "SELECT DISTINCT source, user_id, photo_url FROM messages WHERE id IN (\(marks))", arguments: StatementArguments(ids))
                photos = Set(rows.compactMap { $0[2] as String? }.filter { UploadFiles.name(ofPublicPath: $0) != nil })
                try db.execute(sql: "DELETE FROM messages WHERE id IN (\(marks))", arguments: StatementArguments(ids))
                batch.messages = db.changesCount
                // A chat with no message left leaves the inbox (its settings stay).
                var chats = Set<[String]>()
                for row in rows { chats.insert([row[0], row[1]]) }
                for chat in chats {
                    try db.execute(
                        sql: """
                            DELETE FROM conversations WHERE source = ?1 AND platform_chat_id = ?2
                                AND NOT EXISTS (SELECT 1 FROM messages WHERE user_id = ?2 AND source = ?1)
                            """, arguments: [chat[0], chat[1]])
                    if db.changesCount > 0 {
                        batch.conversations += 1
                        try db.execute(sql: "UPDATE conversation_counts SET total = max(0, total - 1) WHERE source = ?", arguments: [chat[0]])
                    }
                }
            }
            let items = try Self.oldestIDs(table: "outbox", time: "created_at", before: cutoff, limit: limit, where: "status != 'pending'", db)
            if !items.isEmpty {
                try db.execute(
                    sql: "DELETE FROM outbox WHERE status != 'pending' AND id IN (\(databaseQuestionMarks(count: items.count)))",
                    arguments: StatementArguments(items))
                batch.outboxItems = db.changesCount
            }
            return (batch, photos)
        }
        var result = batch
        if let uploadsDirectory, !photos.isEmpty {
            result.uploads = UploadFiles.remove(try await UploadFiles.unreferenced(photos, in: writer), from: uploadsDirectory).removed
        }
        return result
    }

    /// The ids of the first `limit` rows of `table` (by id) whose `time` is before `cutoff`.
    /// `filter` (SQL) leaves out rows that are never deleted, so they do not fill every batch.
    private static func oldestIDs(
        table: String, time: String, before cutoff: Date, limit: Int, where filter: String = "1", _ db: Database
    ) throws -> [Int64] {
        let rows = try Row.fetchAll(db, sql: "SELECT id, \(time) FROM \(table) WHERE \(filter) ORDER BY id LIMIT ?", arguments: [max(1, limit)])
        return rows.filter { ($0[1] as Double) < cutoff.timeIntervalSince1970 }.map { $0[0] }
    }
}

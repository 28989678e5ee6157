import Foundation
import GRDB

/// `TelegramInbox` on the SQLite file.
public struct SQLiteTelegramInbox: TelegramInbox {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    /// Keeps updates (raw JSON by update id); one already kept is left as it is. The one
    /// server orders each chat's updates in memory: the chat is not kept.
    public func add(_ updates: [KeptUpdate], at: Date) async throws {
        guard !updates.isEmpty else { return }
        try await writer.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO telegram_inbox (update_id, body, received_at) VALUES (?, ?, ?)")
            for update in updates {
                try insert.execute(arguments: [update.updateID, update.body, at.timeIntervalSince1970])
            }
        }
    }

    public func pending(receivedBefore: Date?) async throws -> [(updateID: Int64, body: String)] {
        let before = receivedBefore?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT update_id, body FROM telegram_inbox WHERE status = 'pending' AND received_at < ? ORDER BY update_id", arguments: [before]
            ).map { (updateID: $0[0], body: $0[1]) }
        }
    }

    /// The update was handled (or seen before): it leaves the inbox.
    public func remove(_ updateID: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM telegram_inbox WHERE update_id = ?", arguments: [updateID])
        }
    }

    /// Handling kept failing: the row stays, marked, with its error, for someone to look at.
    public func markFailed(_ updateID: Int64, error: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE telegram_inbox SET status = 'failed', last_error = ? WHERE update_id = ?", arguments: [error, updateID])
        }
    }

    /// The highest update id kept here (handled or not), to resume polling after it.
    public func lastUpdateID() async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(update_id) FROM telegram_inbox") }
    }
}

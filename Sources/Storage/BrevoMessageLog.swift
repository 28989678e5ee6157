import Foundation
import GRDB

/// Brevo message ids already handled: visitor messages received (a webhook delivered
/// again is ignored) and messages this service sent (an echo of one is not answered).
public struct BrevoMessageLog: Sendable {
    public enum Direction: String, Sendable { case received, sent }

    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    public func contains(_ messageID: String) throws -> Bool {
        try writer.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM brevo_messages WHERE message_id = ?", arguments: [messageID]) ?? false }
    }

    /// A write recording a message id: a received one with the run it started, a sent one
    /// with the delivery's result.
    public static func record(_ messageID: String, _ direction: Direction, at: Date) -> QueuedWrite {
        { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO brevo_messages (message_id, direction, at) VALUES (?, ?, ?)",
                arguments: [messageID, direction.rawValue, at.timeIntervalSince1970])
        }
    }
}

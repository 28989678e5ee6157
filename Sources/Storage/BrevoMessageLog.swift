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

    /// Records a message this service sent, right after Brevo accepted it.
    public func recordSent(_ messageID: String, at: Date) throws {
        try writer.write { db in try Self.record(messageID, .sent, at: at)(db) }
    }

    /// A write recording a message id; queue a received one with the run it started.
    public static func record(_ messageID: String, _ direction: Direction, at: Date) -> QueuedWrite {
        { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO brevo_messages (message_id, direction, at) VALUES (?, ?, ?)",
                arguments: [messageID, direction.rawValue, at.timeIntervalSince1970])
        }
    }
}

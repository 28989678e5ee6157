import Foundation
import GRDB

/// Brevo message ids already handled: visitor messages received (committed with the run
/// they started, as its idempotency key) and messages this service sent (an echo of one is
/// not answered). `ReplyflowDatabase.isHandled` reads them.
public enum BrevoMessageLog {
    public enum Direction: String, Sendable { case received, sent }

    /// A write recording a message id, queued with a delivery's result.
    public static func record(_ messageID: String, _ direction: Direction, at: Date) -> QueuedWrite {
        { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO brevo_messages (message_id, direction, at) VALUES (?, ?, ?)",
                arguments: [messageID, direction.rawValue, at.timeIntervalSince1970])
        }
    }
}

import Foundation
import GRDB

/// A write a caller queues with a run (`BufferedStateStore.enqueueWrite`), so that it
/// commits with the run it belongs to.
public typealias QueuedWrite = @Sendable (Database) throws -> Void

/// Each chat's memory with the AI under the Responses API: the id of the chat's latest
/// response, sent as `previous_response_id` with the next message.
public struct AssistantMemory: Sendable {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    /// The chat's latest response id, as committed.
    public func previousResponseID(source: String, platformChatID: String) throws -> String? {
        try writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT previous_response_id FROM assistant_memory WHERE source = ? AND platform_chat_id = ?",
                arguments: [source, platformChatID])
        }
    }

    /// A write that remembers the chat's latest response id; queue it with the run that
    /// asked, so it commits with the answer it belongs to.
    public static func remember(_ responseID: String, source: String, platformChatID: String, at: Date) -> QueuedWrite {
        { db in
            try db.execute(
                sql: """
                    INSERT INTO assistant_memory (source, platform_chat_id, previous_response_id, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (source, platform_chat_id) DO UPDATE SET previous_response_id = excluded.previous_response_id, updated_at = excluded.updated_at
                    """,
                arguments: [source, platformChatID, responseID, at.timeIntervalSince1970])
        }
    }
}

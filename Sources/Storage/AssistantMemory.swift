import Flows
import Foundation
import GRDB

/// A write a caller queues with the outbox worker's results (`OutboxStore.recordLater`).
public typealias QueuedWrite = @Sendable (Database) throws -> Void

/// Each chat's memory with the AI under the Responses API: the id of the chat's latest
/// response, sent as `previous_response_id` with the next message. Written inside the
/// commit of the run that asked (`RunRecord`); read here.
public protocol AssistantMemory: Sendable {
    /// The chat's latest response id, as committed.
    func previousResponseID(source: ChatSource, platformChatID: String) async throws -> String?
}

/// `AssistantMemory` on the SQLite file.
public struct SQLiteAssistantMemory: AssistantMemory {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    /// The chat's latest response id, as committed.
    public func previousResponseID(source: ChatSource, platformChatID: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT previous_response_id FROM assistant_memory WHERE source = ? AND platform_chat_id = ?",
                arguments: [source.rawValue, platformChatID])
        }
    }

    /// Keeps the chat's latest response id (inside the commit of the run that asked).
    static func remember(_ update: AssistantMemoryUpdate, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO assistant_memory (source, platform_chat_id, previous_response_id, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (source, platform_chat_id) DO UPDATE SET previous_response_id = excluded.previous_response_id, updated_at = excluded.updated_at
                """
        ).execute(arguments: [update.source.rawValue, update.platformChatID, update.responseID, update.at.timeIntervalSince1970])
    }
}

import Flows
import Logging
import PostgresNIO
import Storage

/// `AssistantMemory` on PostgreSQL: what the run that last asked the AI committed, on
/// whichever instance it ran.
public struct PostgresAssistantMemory: AssistantMemory {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    public func previousResponseID(source: ChatSource, platformChatID: String) async throws -> String? {
        try await client.query(
            "SELECT previous_response_id FROM assistant_memory WHERE source = \(source.rawValue) AND platform_chat_id = \(platformChatID)",
            logger: logger
        ).decode(String.self).first { _ in true }
    }
}

import Foundation
import Logging
import PostgresStorage
import Storage

/// The database `replyflow serve` runs on, and the seams the server is built from: the
/// SQLite file of one instance (the default), or the PostgreSQL database several instances
/// share (`DATABASE_URL`, docs/scaling.md).
public struct ServerStorage: Sendable {
    /// Which database, for what is not behind a seam yet (backups run on SQLite only).
    public enum Database: Sendable {
        case sqlite(ReplyflowDatabase)
        case postgres(ReplyflowPostgres)
    }

    public let database: Database
    let runs: any RunStore
    let queries: any ServerQueries
    let conversations: any ConversationQueries
    let telegramInbox: any TelegramInbox
    /// Each Telegram chat's updates claimed by one instance at a time, when instances share
    /// the database; nil for one instance alone, which orders them in memory.
    var telegramLanes: (any TelegramChatLanes)? = nil
    let outbox: any OutboxLanes
    let memory: any AssistantMemory
    let status: any ServerDatabaseStatus
    /// Who among the instances polls Telegram.
    let leadership: any Leadership
    /// The admin panel's accounts, inbox, flow history and reads of past runs.
    let admin: AdminStores
    /// Deletes what `RETENTION_DAYS_*` no longer keeps.
    let retention: any RetentionStore
    /// What the runs of every instance show live, when instances share the database; nil
    /// for one instance alone on its file, which publishes from memory.
    var liveFeed: (any SharedLiveFeed)? = nil
    /// Whether the shared database answers now, watched apart from the pool; nil on SQLite.
    var reachability: PostgresReachability? = nil

    /// The SQLite file, when that is the database.
    public var sqlite: ReplyflowDatabase? {
        if case .sqlite(let database) = database { return database }
        return nil
    }

    /// One instance on a SQLite file; `leadership` is `SoleServer` unless a test says
    /// otherwise.
    public static func sqlite(_ database: ReplyflowDatabase, leadership: any Leadership = SoleServer(), logger: Logger) -> ServerStorage {
        let outbox = SQLiteOutboxLanes(
            store: OutboxStore(database: database) { error in
                logger.error("could not record a delivery's result; it will be delivered again", metadata: ["error": "\(error)"])
            })
        return ServerStorage(
            database: .sqlite(database), runs: database, queries: SQLiteServerQueries(database: database),
            conversations: SQLiteConversationQueries(database: database), telegramInbox: SQLiteTelegramInbox(database: database), outbox: outbox,
            memory: SQLiteAssistantMemory(database: database), status: database, leadership: leadership, admin: .sqlite(database), retention: database)
    }

    /// One of several instances on a PostgreSQL database (migrated, its pool running):
    /// runs held per chat, outbox lanes and Telegram chats claimed and the Telegram poller
    /// elected across the instances.
    public static func postgres(_ database: ReplyflowPostgres, logger: Logger) throws -> ServerStorage {
        ServerStorage(
            database: .postgres(database), runs: PostgresRunStore(database), queries: PostgresServerQueries(database),
            conversations: PostgresConversationQueries(database), telegramInbox: PostgresTelegramInbox(database),
            telegramLanes: try PostgresTelegramChatLanes(database), outbox: try PostgresOutboxLanes(database), memory: PostgresAssistantMemory(database), status: database,
            leadership: try PostgresLeadership(url: database.url, logger: logger), admin: .postgres(database), retention: PostgresRetention(database), liveFeed: try PostgresLiveFeed(database),
            reachability: try PostgresReachability(url: database.url, logger: logger))
    }
}

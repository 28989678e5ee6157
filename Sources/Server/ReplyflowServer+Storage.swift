import Foundation
import Logging
import PostgresStorage
import Storage

extension ReplyflowServer {
    /// The SQLite file at DATABASE_PATH, opened (and migrated) for one instance.
    static func openSQLite(_ configuration: ServerConfiguration, leadership: any Leadership = SoleServer(), logger: Logger) throws -> ServerStorage {
        // DATABASE_URL is opened by its caller (`ServerStorage.postgres`), never passed over.
        if configuration.databaseURL != nil {
            throw StartupError("DATABASE_URL is set: open it with ServerStorage.postgres and pass it as storage")
        }
        do {
            return .sqlite(try ReplyflowDatabase(path: configuration.databasePath), leadership: leadership, logger: logger)
        } catch {
            throw StartupError("DATABASE_PATH=\(configuration.databasePath): \(error)")
        }
    }

    /// Settings that cannot work on the database chosen: one line each, before anything
    /// listens.
    static func checkSupported(_ configuration: ServerConfiguration, on storage: ServerStorage) throws {
        guard case .postgres = storage.database else { return }
        if configuration.telegramWebhookURL != nil && configuration.telegramWebhookSecret == nil {
            throw StartupError(
                "TELEGRAM_WEBHOOK_SECRET is required with DATABASE_URL and TELEGRAM_WEBHOOK_URL: every instance registers the webhook, and without a shared secret each would set its own and refuse the updates Telegram sends to the others"
            )
        }
    }
}

import Logging
import PostgresNIO

/// Replyflow's PostgreSQL database: the connection pool for a `DatabaseURL` and what is
/// done through it (migrations, the import); the server's stores on it (`PostgresRunStore`,
/// `PostgresServerQueries` and the others) take it in their initialisers.
///
/// The pool works only while `run()` runs (postgres-nio's `PostgresClient` does its
/// background work in that task): run it in a task group or a ServiceLifecycle service
/// group, or use `withDatabase`, which does both the start-up check and the running.
public final class ReplyflowPostgres: Sendable {
    public let url: DatabaseURL
    /// The pool. Leased connections must not outlive the closure they are lent to.
    public let client: PostgresClient
    let logger: Logger

    public init(url: DatabaseURL, logger: Logger) {
        self.url = url
        self.logger = logger
        client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger)
    }

    /// Runs the pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Checks that `url` leads to a database (one line on failure: `PostgresStartupCheck`),
    /// then runs the pool for `body`'s duration and closes it.
    public static func withDatabase<Result: Sendable>(
        _ url: DatabaseURL, setting: String = "DATABASE_URL", logger: Logger, _ body: (ReplyflowPostgres) async throws -> Result
    ) async throws -> Result {
        try await PostgresStartupCheck.check(url, setting: setting, logger: logger)
        let database = ReplyflowPostgres(url: url, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    /// Applies the migrations this database lacks (see `PostgresMigrator`).
    @discardableResult
    public func migrate() async throws(PostgresMigrator.Failure) -> [PostgresMigration] {
        try await PostgresMigrator.migrate(client, logger: logger)
    }
}

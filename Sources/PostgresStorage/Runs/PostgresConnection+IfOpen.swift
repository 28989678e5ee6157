import Logging
import PostgresNIO

/// A held connection PostgreSQL closed (a restart, `pg_terminate_backend`, a dropped
/// network): the run fails, and nothing of it was committed.
public struct PostgresConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the connection to PostgreSQL was closed" }
}

extension PostgresConnection {
    /// `query`, refused at once on a connection already closed. postgres-nio 1.33 writes a
    /// query to a closed channel without ever failing it (`PostgresConnection.query` passes
    /// no promise to the write), so the caller would wait forever: a run holding a chat
    /// whose connection died while it waited for the AI would never end.
    func queryIfOpen(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw PostgresConnectionLost() }
        return try await self.query(query, logger: logger)
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws. As postgres-nio's
    /// `withTransaction`, through `queryIfOpen`.
    func inTransaction<Result>(logger: Logger, _ body: () async throws -> Result) async throws -> Result {
        _ = try await queryIfOpen("BEGIN", logger: logger).collect()
        let result: Result
        do {
            result = try await body()
        } catch {
            _ = try? await queryIfOpen("ROLLBACK", logger: logger).collect()
            throw error
        }
        _ = try await queryIfOpen("COMMIT", logger: logger).collect()
        return result
    }
}

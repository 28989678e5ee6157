import Logging
import PostgresNIO
import Testing
import PostgresStorage
import TestSupport

/// A fresh database on the process's private cluster (`PostgresCluster`), for one test.
struct PostgresTestDatabase {
    let cluster: PostgresCluster
    let name: String
    var url: DatabaseURL

    static func make() async throws -> PostgresTestDatabase {
        let cluster = try await PostgresCluster.shared()
        let name = try await cluster.makeDatabase()
        return PostgresTestDatabase(cluster: cluster, name: name, url: try DatabaseURL.parse(cluster.url(database: name)))
    }

    /// Migrates the database and runs `body` with two pools on it: two instances.
    func withTwoInstances(_ body: (ReplyflowPostgres, ReplyflowPostgres) async throws -> Void) async throws {
        try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { first in
            try await first.migrate()
            try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { second in try await body(first, second) }
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "replyflow.postgres-tests")
        logger.logLevel = .error
        return logger
    }()
}

/// What the PostgreSQL suites say when they are skipped (see `PostgresCluster.skipReason`).
let postgresMissing = PostgresCluster.skipReason != nil

/// Runs `body`, failing the test with `message` if it takes longer than `seconds`.
func withTimeLimit(seconds: Double, _ message: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return false
        }
        let finished = try await group.next() ?? false
        group.cancelAll()
        #expect(finished, "\(message)")
    }
}

/// Ends the sessions of `client`'s database (other than the asking one) that hold an
/// advisory lock, or with `waiting` that wait for one: as when their processes are killed.
func endAdvisoryLockSessions(_ client: PostgresClient, waiting: Bool = false, logger: Logger) async throws {
    let sql = """
        SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND granted = \(waiting ? "false" : "true") AND pid <> pg_backend_pid()
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
}

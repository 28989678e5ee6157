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
/// Waits (up to 20 s) until there is at least one such session: on a loaded machine a
/// waiter may still be connecting when the test is ready to end it.
func endAdvisoryLockSessions(_ client: PostgresClient, waiting: Bool = false, logger: Logger) async throws {
    struct NoSuchSession: Error, CustomStringConvertible {
        let waiting: Bool
        var description: String { "no session \(waiting ? "waited for" : "held") an advisory lock within 20 s" }
    }
    let sql = """
        SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND granted = \(waiting ? "false" : "true") AND pid <> pg_backend_pid()
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
        do {
            if try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().count > 0 { return }
        } catch where ContinuousClock.now < deadline {
            // The pool may lend a connection whose own backend an earlier call ended
            // before it has noticed: the next attempt gets a live one.
        }
        guard ContinuousClock.now < deadline else { throw NoSuchSession(waiting: waiting) }
        try await Task.sleep(for: .milliseconds(50))
    }
}

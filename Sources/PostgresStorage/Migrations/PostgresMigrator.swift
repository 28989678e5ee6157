import Logging
import PostgresNIO

/// Brings a PostgreSQL database up to `PostgresMigrations.all`.
///
/// Several instances may start at once on one database: the whole run is one transaction
/// that first takes `pg_advisory_xact_lock(lockKey)`, so the others wait, then find the
/// migrations recorded and apply none. The lock goes with the transaction (commit,
/// rollback, or a dropped connection), so a crashed instance never leaves it held.
public enum PostgresMigrator {
    /// The advisory lock of migrations: any constant of Replyflow's own ("rflowmig" in ASCII).
    static let lockKey: Int64 = 0x7266_6C6F_776D_6967

    /// Migrations could not be applied: one line with the server's reason.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Applies the migrations `client`'s database lacks, in order; returns those applied
    /// (none when another instance got there first).
    @discardableResult
    public static func migrate(
        _ client: PostgresClient, migrations: [PostgresMigration] = PostgresMigrations.all, logger: Logger
    ) async throws(Failure) -> [PostgresMigration] {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await migrate(connection, migrations: migrations, logger: logger)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            if let failure = (error as? PostgresTransactionError)?.closureError as? Failure { throw failure }
            throw Failure(description: "could not apply the PostgreSQL migrations: \(PostgresErrorText.describe(error))")
        }
    }

    /// The migration run inside an open transaction.
    static func migrate(_ connection: PostgresConnection, migrations: [PostgresMigration], logger: Logger) async throws -> [PostgresMigration] {
        _ = try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger).collect()
        _ = try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """, logger: logger
        ).collect()
        var recorded: [Int: String] = [:]
        for try await (version, name) in try await connection.query("SELECT version, name FROM schema_migrations", logger: logger)
            .decode((Int, String).self)
        {
            recorded[version] = name
        }
        let known = try Dictionary(migrations.map { ($0.version, $0.name) }) { first, second in
            throw Failure(description: "two PostgreSQL migrations have one version: \"\(first)\" and \"\(second)\"")
        }
        if let newest = recorded.keys.filter({ known[$0] == nil }).max() {
            throw Failure(
                description:
                    "the PostgreSQL database has schema version \(newest) (\(recorded[newest] ?? "")), which this replyflow does not know; run a newer replyflow"
            )
        }
        for (version, name) in recorded where known[version] != name {
            throw Failure(
                description:
                    "the PostgreSQL database recorded migration \(version) as \"\(name)\", this replyflow names it \"\(known[version] ?? "")\"; a shipped migration was edited"
            )
        }
        var applied: [PostgresMigration] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where recorded[migration.version] == nil {
            for statement in migration.statements {
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
            }
            _ = try await connection.query(
                "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger
            ).collect()
            applied.append(migration)
        }
        return applied
    }
}

import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStorage

/// The migration runner on the private cluster: applied once, recorded once, also when
/// several instances start together; a database from a newer or edited schema is refused.
@Suite(
    "PostgreSQL migrations", .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresMigratorTests {
    private let logger = PostgresTestDatabase.logger

    /// The recorded migrations, as (version, name).
    private func recorded(_ postgres: ReplyflowPostgres) async throws -> [(Int, String)] {
        var rows: [(Int, String)] = []
        for try await row in try await postgres.client.query("SELECT version, name FROM schema_migrations ORDER BY version").decode((Int, String).self) {
            rows.append(row)
        }
        return rows
    }

    @Test("the migrations make every Replyflow table; a second run applies nothing")
    func appliesOnce() async throws {
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            let first = try await postgres.migrate()
            #expect(first.map(\.version) == PostgresMigrations.all.map(\.version))
            #expect(try await postgres.migrate().isEmpty)
            #expect(try await recorded(postgres).map(\.0) == PostgresMigrations.all.map(\.version))

            var tables: [String] = []
            for try await name in try await postgres.client.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
            ).decode(String.self) {
                tables.append(name)
            }
            // Every table SQLite has, and PostgreSQL's own: the migrations, and the live
            // events the instances share.
            #expect(tables == (ReplyflowTable.all.map(\.name) + ["schema_migrations", "live_events", "live_events_numbering"]).sorted())
        }
    }

    @Test("three runners started at once: each migration recorded once, none fails")
    func concurrentRunners() async throws {
        let database = try await PostgresTestDatabase.make()
        let url = database.url
        let logger = self.logger
        // Three instances: three pools, as three `replyflow serve` would have.
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await ReplyflowPostgres.withDatabase(url, logger: logger) { postgres in
                        try await postgres.migrate().map(\.version)
                    }
                }
            }
            var all: [[Int]] = []
            for try await versions in group { all.append(versions) }
            return all
        }
        // Exactly one runner applied each migration; the others found it done.
        #expect(applied.flatMap { $0 }.sorted() == PostgresMigrations.all.map(\.version))
        #expect(applied.filter { $0.isEmpty }.count == 2)
        let versions = try await ReplyflowPostgres.withDatabase(url, logger: logger) { postgres in
            try await recorded(postgres).map(\.0)
        }
        #expect(versions == PostgresMigrations.all.map(\.version))
    }

    @Test("later migrations apply in order on top of the recorded ones")
    func appliesNewOnes() async throws {
        let database = try await PostgresTestDatabase.make()
        let extra = PostgresMigration(
            version: PostgresMigrations.all.count + 1, name: "test: notes", statements: ["CREATE TABLE notes (id BIGINT PRIMARY KEY)", "CREATE INDEX notes_by_id ON notes (id)"])
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            let applied = try await PostgresMigrator.migrate(postgres.client, migrations: PostgresMigrations.all + [extra], logger: logger)
            #expect(applied == [extra])
            #expect(try await recorded(postgres).map(\.1) == PostgresMigrations.all.map(\.name) + ["test: notes"])
        }
    }

    @Test("a failing migration leaves nothing behind: not recorded, its tables rolled back")
    func failingMigrationRollsBack() async throws {
        let database = try await PostgresTestDatabase.make()
        let broken = PostgresMigration(version: PostgresMigrations.all.count + 1, name: "test: broken", statements: ["CREATE TABLE half (id BIGINT)", "CREATE TABLE oops (id NOTATYPE)"])
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            let error = await #expect(throws: PostgresMigrator.Failure.self) {
                try await PostgresMigrator.migrate(postgres.client, migrations: PostgresMigrations.all + [broken], logger: logger)
            }
            #expect(error?.description == "could not apply the PostgreSQL migrations: type \"notatype\" does not exist (SQLSTATE 42704)")
            // All or nothing: not even migration 1 stayed.
            var exists = true
            for try await found in try await postgres.client.query("SELECT to_regclass('schema_migrations') IS NOT NULL").decode(Bool.self) {
                exists = found
            }
            #expect(!exists)
        }
    }

    @Test("a database migrated by a newer replyflow is refused, with what to do")
    func newerDatabase() async throws {
        let database = try await PostgresTestDatabase.make()
        let newer = PostgresMigration(version: 99, name: "from the future", statements: [])
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await PostgresMigrator.migrate(postgres.client, migrations: PostgresMigrations.all + [newer], logger: logger)
            let error = await #expect(throws: PostgresMigrator.Failure.self) { try await postgres.migrate() }
            #expect(
                error?.description
                    == "the PostgreSQL database has schema version 99 (from the future), which this replyflow does not know; run a newer replyflow")
        }
    }

    @Test("an edited migration (same version, other name) is refused")
    func editedMigration() async throws {
        let database = try await PostgresTestDatabase.make()
        let edited = PostgresMigrations.all.map { PostgresMigration(version: $0.version, name: $0.name + " (edited)", statements: $0.statements) }
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await PostgresMigrator.migrate(postgres.client, migrations: edited, logger: logger)
            let error = await #expect(throws: PostgresMigrator.Failure.self) { try await postgres.migrate() }
            #expect(error?.description.contains("a shipped migration was edited") == true)
        }
    }
}

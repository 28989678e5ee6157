import Flows
import Foundation
import PostgresStorage
import TestSupport
import Testing

@testable import ReplyflowCLI
@testable import Storage

/// `replyflow experiments report --db postgres://...`: the same report from the database
/// several instances share as from the SQLite file it was copied from.
@Suite(
    "experiments report on PostgreSQL",
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct ExperimentsReportPostgresTests {
    @Test("the report on PostgreSQL is the report on the SQLite file it was migrated from")
    func sameReport() async throws {
        let flows = try makeDirectory(["greeting.yaml": ReplayCommandTests.experimentFlow])
        let path = flows + "/replyflow.sqlite"
        let database = try ReplyflowDatabase(path: path)
        let at = RunFixtures.start
        for index in 0..<40 {
            var record = RunRecord()
            let variant = index % 3 == 0 ? "warm" : "formal"
            record.writes = [.recordExposure(experiment: "greeting-cli-test", userID: "user-\(index)", variant: variant, at: at)]
            if index % 4 == 0 {
                record.writes.append(.recordConversion(experiment: "greeting-cli-test", userID: "user-\(index)", variant: variant, at: at + 60))
            }
            _ = try await database.commit(record)
        }
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let (quiet, _) = Console.capturing()
        _ = try await MigrateToPostgresCommand.migrate(databasePath: path, to: url, console: quiet)

        let (onSQLite, sqliteOutput) = Console.capturing()
        #expect(try await ExperimentsCommand.ReportCommand.report(flowsDirectory: flows, database: .sqlite(path), console: onSQLite) == 0)
        let (onPostgres, postgresOutput) = Console.capturing()
        #expect(
            try await ExperimentsCommand.ReportCommand.report(flowsDirectory: flows, database: .postgres(url, setting: "--db"), console: onPostgres) == 0)
        #expect(sqliteOutput.out.contains("formal"), "\(sqliteOutput.out)")
        #expect(postgresOutput.out == sqliteOutput.out)
    }

    @Test("--db takes a file or a postgres:// URL; DATABASE_URL counts as serve reads it, and with DATABASE_PATH too it is one line")
    func whereTheDataIs() throws {
        func location(_ arguments: [String], _ environment: [String: String]) throws -> ServerDatabaseLocation {
            try ServerDatabaseOptions.parse(arguments + ["--env-file", "/nonexistent/.env"]).location(environment: environment)
        }
        guard case .sqlite("data/x.sqlite") = try location(["--db", "data/x.sqlite"], ["DATABASE_URL": "postgres://a@h/d"]) else {
            Issue.record("--db wins over DATABASE_URL")
            return
        }
        guard case .postgres(let url, "--db") = try location(["--db", "postgres://rf:secret@db:5433/replyflow"], [:]) else {
            Issue.record("a postgres:// --db is PostgreSQL")
            return
        }
        #expect(url.database == "replyflow")
        guard case .postgres(_, "DATABASE_URL") = try location([], ["DATABASE_URL": "postgresql://rf@db/replyflow"]) else {
            Issue.record("DATABASE_URL is PostgreSQL")
            return
        }
        #expect(throws: CommandFailure.self) { try location(["--db", "mysql://rf@db/replyflow"], [:]) }
        do {
            _ = try location([], ["DATABASE_URL": "postgres://rf@db/replyflow", "DATABASE_PATH": "data/replyflow.sqlite"])
            Issue.record("both set must be refused")
        } catch let failure as CommandFailure {
            #expect(failure.description == "DATABASE_URL and DATABASE_PATH are both set: keep DATABASE_URL for PostgreSQL or DATABASE_PATH for SQLite")
        }
    }
}

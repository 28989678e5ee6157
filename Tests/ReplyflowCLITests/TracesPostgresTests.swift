import Flows
import Foundation
import PostgresStorage
import TestSupport
import Testing

@testable import ReplyflowCLI
@testable import Storage

/// `replyflow traces` and `replyflow events export` with `--db postgres://...`: the same
/// output from the database several instances share as from the SQLite file it was
/// copied from.
@Suite(
    "traces and events export on PostgreSQL",
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct TracesPostgresTests {
    @Test("every filter, page and bound gives the same traces on PostgreSQL as on the SQLite file it was migrated from")
    func samePages() async throws {
        let files = try await TracesCommandTests.Files()
        defer { files.remove() }
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let (quiet, _) = Console.capturing()
        _ = try await MigrateToPostgresCommand.migrate(databasePath: files.database, to: url, console: quiet)

        let at = { (text: String) in Timestamp.parse(text) }
        let queries = [
            TraceQuery(), TraceQuery(limit: 2), TraceQuery(before: 4, limit: 2), TraceQuery(flow: "Gate"), TraceQuery(userID: "2"),
            TraceQuery(result: .noFlow), TraceQuery(flow: "Gate", result: .skipped), TraceQuery(result: .ran), TraceQuery(trigger: .historyFirstFetchToday),
            TraceQuery(since: at("2026-11-20T10:01:00Z")), TraceQuery(until: at("2026-11-20T10:01:00Z")),
            TraceQuery(userID: "1", since: at("2026-11-20T10:00:00Z"), until: at("2026-11-20T12:00:00Z")), TraceQuery(flow: "Nobody"),
            TraceQuery(since: at("2026-11-21T00:00:00Z")),
        ]
        for query in queries {
            let onSQLite = try await TracesCommand.page(query, from: .sqlite(files.database))
            let onPostgres = try await TracesCommand.page(query, from: .postgres(url, setting: "--db"))
            #expect(onPostgres == onSQLite, "\(query)")
        }
        let all = try await TracesCommand.page(TraceQuery(), from: .postgres(url, setting: "--db"))
        #expect(all.rows.count == 5 && all.rows.contains { $0.chatID != nil }, "the rows link to their chats")
        #expect(try await TracesCommand.page(TraceQuery(limit: 2), from: .postgres(url, setting: "--db")).older == 4)
    }

    @Test("events export writes the same lines from PostgreSQL as from the SQLite file it was migrated from, in every period")
    func sameEvents() async throws {
        let database = try await CompareCommandTests.storedDatabase(CompareCommandTests.storedEvents)
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let (quiet, _) = Console.capturing()
        _ = try await MigrateToPostgresCommand.migrate(databasePath: database, to: url, console: quiet)
        for (since, until) in [("2026-11-01T00:00:00Z", nil), ("2026-11-20T07:30:00Z", nil), ("2026-11-20T06:00:00Z", "2026-11-20T07:01:00Z"), ("1d", nil)] {
            let onSQLite = try await CompareCommandTests.exportText(from: .sqlite(database), since: since, until: until)
            let onPostgres = try await CompareCommandTests.exportText(from: .postgres(url, setting: "--db"), since: since, until: until)
            #expect(onPostgres == onSQLite, "since \(since) until \(until ?? "now")")
        }
        let all = try await CompareCommandTests.exportText(from: .postgres(url, setting: "--db"))
        #expect(all.split(separator: "\n").count == 5, "\(all)")
    }

    @Test("a database that does not answer is one line naming --db")
    func noDatabase() async throws {
        let url = try DatabaseURL.parse("postgres://nobody@127.0.0.1:\(try PostgresCluster.freePort())/none?sslmode=disable")
        do {
            _ = try await TracesCommand.page(TraceQuery(), from: .postgres(url, setting: "--db"))
            Issue.record("an unreachable database was read")
        } catch let failure as CommandFailure {
            #expect(failure.description.hasPrefix("cannot reach PostgreSQL") && failure.description.contains("in --db"), "\(failure.description)")
            #expect(!failure.description.contains("\n"))
        }
    }
}

import ArgumentParser
import Foundation
import Logging
import PostgresStorage
import Storage
import TestSupport
import Testing

@testable import ReplyflowCLI

/// `replyflow users` and `replyflow customers erase` on PostgreSQL (`--db postgres://...`):
/// the accounts and customers of every instance, the database migrated for the first admin.
@Suite(
    "CLI: users and customers on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct AdminCommandsPostgresTests {
    private func run(_ arguments: [String]) async throws {
        var command = try ReplyflowCommand.parseAsRoot(arguments)
        if var asynchronous = command as? any AsyncParsableCommand {
            try await asynchronous.run()
        } else {
            try command.run()
        }
    }

    @Test("users on a new database migrates it; role changes and disabling are stored, audited and keep one admin; erasing an unknown customer is one line")
    func usersAndErasure() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = cluster.url(database: try await cluster.makeDatabase())
        var logger = Logger(label: "cli-test")
        logger.logLevel = .critical
        // Nothing there yet: listing migrates the database (no tables before).
        try await run(["users", "list", "--db", url])
        try await ReplyflowPostgres.withDatabase(try DatabaseURL.parse(url), logger: logger) { postgres in
            #expect(try await postgres.migrate().isEmpty, "users list applied the migrations")
            let store = PostgresStaffStore(postgres)
            _ = try await store.addAccount(username: "anna", role: .admin, passwordHash: "h")
            _ = try await store.addAccount(username: "bob", role: .agent, passwordHash: "h")

            let refused = await #expect(throws: CommandFailure.self) { try await run(["users", "disable", "anna", "--db", url]) }
            #expect(refused?.description.contains("last enabled admin") == true, "\(refused?.description ?? "")")
            try await run(["users", "set-role", "bob", "admin", "--db", url])
            try await run(["users", "disable", "ANNA", "--db", url])
            #expect(try await store.account(named: "anna")?.disabled == true)
            #expect(try await store.account(named: "bob")?.role == .admin)
            let audit = try await store.auditEntries(page: 1, limit: 10)
            #expect(audit.map(\.action) == ["user disabled", "role changed"])
            #expect(audit.allSatisfy { $0.actor == "command line" })

            let unknown = await #expect(throws: CommandFailure.self) {
                try await run(["customers", "erase", "--source", "app", "--id", "nobody", "--uploads-dir", NSTemporaryDirectory(), "--db", url])
            }
            #expect(unknown?.description.contains("nothing is stored for the app customer nobody") == true, "\(unknown?.description ?? "")")
        }
        let unreachable = await #expect(throws: CommandFailure.self) {
            try await run(["users", "list", "--db", "postgres://rf@127.0.0.1:\(try PostgresCluster.freePort())/none?sslmode=disable"])
        }
        #expect(unreachable?.description.contains("--db") == true, "\(unreachable?.description ?? "")")
    }
}

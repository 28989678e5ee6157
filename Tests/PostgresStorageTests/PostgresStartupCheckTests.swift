import Foundation
import Logging
import TestSupport
import Testing

@testable import PostgresStorage

/// The start-up check against the private cluster: one clear line for each way of not
/// getting in, and never the password.
@Suite(
    "PostgreSQL start-up check",
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresStartupCheckTests {
    private func failure(_ url: DatabaseURL) async -> String? {
        do {
            try await PostgresStartupCheck.check(url, logger: PostgresTestDatabase.logger)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("a database that is there passes")
    func passes() async throws {
        let database = try await PostgresTestDatabase.make()
        #expect(await failure(database.url) == nil)
    }

    @Test("a wrong password: one line that says so, without the password")
    func wrongPassword() async throws {
        let database = try await PostgresTestDatabase.make()
        var url = database.url
        url.user = PostgresCluster.passwordUser
        url.password = "not-the-password-42"
        let message = try #require(await failure(url))
        #expect(message.contains("refused the password of user \(PostgresCluster.passwordUser)"), "\(message)")
        #expect(message.contains("DATABASE_URL"))
        #expect(!message.contains("not-the-password-42"))
        #expect(!message.contains("\n"))
        // The right one gets in.
        url.password = PostgresCluster.password
        #expect(await failure(url) == nil)
    }

    @Test("no password where one is asked for")
    func missingPassword() async throws {
        let database = try await PostgresTestDatabase.make()
        var url = database.url
        url.user = PostgresCluster.passwordUser
        url.password = nil
        let message = try #require(await failure(url))
        #expect(message.contains("asks user \(PostgresCluster.passwordUser) for a password"), "\(message)")
    }

    @Test("a port where nothing listens: cannot reach, connection refused")
    func unreachable() async throws {
        let port = try PostgresCluster.freePort()
        let url = try DatabaseURL.parse("postgres://rf:secret-pw@127.0.0.1:\(port)/replyflow?sslmode=disable")
        let started = ContinuousClock.now
        let message = try #require(await failure(url))
        #expect(
            message
                == "cannot reach PostgreSQL at 127.0.0.1:\(port) (connection refused); check that it runs and that the host and port in DATABASE_URL are right")
        // The message already says it was refused, not timed out; the bound only says it
        // never hangs (it took 12 s once beside the browser story on two busy cores).
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("a socket folder with no server in it")
    func missingSocket() async throws {
        let url = try DatabaseURL.parse("postgres://rf@/replyflow?host=/nonexistent-replyflow-socket-folder")
        let message = try #require(await failure(url))
        #expect(message.hasPrefix("cannot reach PostgreSQL at /nonexistent-replyflow-socket-folder/.s.PGSQL.5432"), "\(message)")
    }

    @Test("a database that does not exist: says how to create it")
    func missingDatabase() async throws {
        let database = try await PostgresTestDatabase.make()
        var url = database.url
        url.database = "no_such_database"
        let message = try #require(await failure(url))
        #expect(
            message
                == "the database no_such_database does not exist at 127.0.0.1:\(database.cluster.port); create it (createdb -O replyflow no_such_database) or correct the name in DATABASE_URL"
        )
    }

    @Test("the Unix socket of the cluster works as ?host=")
    func socket() async throws {
        let database = try await PostgresTestDatabase.make()
        let url = try DatabaseURL.parse("postgres://replyflow@:\(database.cluster.port)/\(database.name)?host=\(database.cluster.directory)")
        #expect(await failure(url) == nil)
    }
}

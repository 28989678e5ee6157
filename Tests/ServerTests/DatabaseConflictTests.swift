import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import PostgresStorage
import TestSupport
import Testing

@testable import Server

/// A request whose transaction loses a race with another on PostgreSQL (a serialization
/// failure, a deadlock, a lock not granted) is told to send it again, 503 with
/// `Retry-After`, by the API and by the admin panel: it is nobody's mistake, not a 500.
@Suite(
    "A transaction that lost a race", .timeLimit(.minutes(2)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct DatabaseConflictTests {
    private let logger = ServerHarness.quietLogger

    /// The error PostgreSQL gives a `REPEATABLE READ` transaction that updates a row another
    /// transaction changed after its snapshot (40001), and one for a query that is wrong.
    private func realErrors() async throws -> (conflict: any Error, mistake: any Error) {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let logger = self.logger
        return try await ReplyflowPostgres.withDatabase(url, logger: logger) { postgres in
            _ = try await postgres.client.query("CREATE TABLE counter (n bigint NOT NULL)", logger: logger).collect()
            _ = try await postgres.client.query("INSERT INTO counter VALUES (1)", logger: logger).collect()
            let conflict = try await postgres.client.withConnection { stale in
                _ = try await stale.query("BEGIN ISOLATION LEVEL REPEATABLE READ", logger: logger).collect()
                _ = try await stale.query("SELECT n FROM counter", logger: logger).collect()
                _ = try await postgres.client.query("UPDATE counter SET n = 2", logger: logger).collect()
                do {
                    _ = try await stale.query("UPDATE counter SET n = 3", logger: logger).collect()
                    Issue.record("the stale transaction's update went through")
                    return CancellationError() as any Error
                } catch {
                    _ = try? await stale.query("ROLLBACK", logger: logger).collect()
                    return error
                }
            }
            do {
                _ = try await postgres.client.query("SELEC 1", logger: logger).collect()
                return (conflict, CancellationError())
            } catch {
                return (conflict, error)
            }
        }
    }

    @Test("a serialization failure is a conflict; a wrong query is not; the API and the panel answer it 503 with Retry-After")
    func conflictIsRetryable() async throws {
        let (conflict, mistake) = try await realErrors()
        #expect(PostgresConflict.matches(conflict), "\(String(reflecting: conflict))")
        #expect(!PostgresConflict.matches(mistake))
        #expect(!PostgresUnavailable.matches(conflict))
        #expect(RetryableDatabaseError.message(for: mistake) == nil)

        let router = Router()
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.add(middleware: AdminResponseMiddleware(pages: AdminPages(), logger: logger))
        router.post("/api/counter") { _, _ -> Response in throw conflict }
        router.post("/admin/counter") { _, _ -> Response in throw conflict }
        router.post("/api/mistake") { _, _ -> Response in throw mistake }
        try await Application(router: router).test(.router) { client in
            let api = try await client.execute(uri: "/api/counter", method: .post)
            #expect(api.status == .serviceUnavailable)
            #expect(api.headers[.retryAfter] == "1")
            let body = try JSONSerialization.jsonObject(with: Data(buffer: api.body)) as? [String: Any]
            #expect((body?["error"] as? String ?? body?["message"] as? String)?.contains("send it again") == true, "\(String(buffer: api.body))")

            let page = try await client.execute(uri: "/admin/counter", method: .post)
            #expect(page.status == .serviceUnavailable)
            #expect(page.headers[.retryAfter] == "1")
            #expect(String(buffer: page.body).contains("send it again"))

            // Anything else from the database is still the server's fault, and says nothing of it.
            let other = try await client.execute(uri: "/api/mistake", method: .post)
            #expect(other.status == .internalServerError)
            #expect(!String(buffer: other.body).contains("SELEC"))
        }
    }
}

import Foundation
import Logging
import PostgresNIO
import Synchronization
import TestSupport
import Testing

@testable import PostgresStorage

/// A query on a held connection that has closed ends with `PostgresConnectionLost`. A
/// query sent in the moment the connection closes (its close not yet noticed, so
/// `isClosed` still false) reaches a closed channel, where postgres-nio drops it without
/// an answer: a run would wait forever (seen under load in the full suite).
@Suite(
    "Queries on a connection that closes", .timeLimit(.minutes(3)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct ConnectionCloseWatchTests {
    private let logger = PostgresTestDatabase.logger

    /// How `query` ended within `seconds`: "answered", "failed", or nil for not at all.
    private func outcome(within seconds: Int, _ query: @escaping @Sendable () async throws -> Void) async throws -> String? {
        let outcome = Mutex<String?>(nil)
        // Unstructured: a query that never ends must not hold the test up.
        Task {
            do {
                try await query()
                outcome.withLock { $0 = "answered" }
            } catch {
                outcome.withLock { $0 = error is PostgresConnectionLost ? "failed" : "\(error)" }
            }
        }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return outcome.withLock { $0 }
    }

    @Test("a query that reaches a closed channel never hears back from postgres-nio; through the close watch it fails within a second")
    func queryOnAClosedChannel() async throws {
        let database = try await PostgresTestDatabase.make()
        let logger = self.logger
        let configuration = try database.url.connectionConfiguration()
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        try await connection.close()
        #expect(connection.isClosed)

        // Why the watch exists: if postgres-nio ever answers this, the watch can go.
        let plain = try await outcome(within: 2) { _ = try await connection.query("SELECT 1", logger: logger).collect() }
        #expect(plain == nil, "postgres-nio now answers a query on a closed channel: \(plain ?? "")")

        // What `queryIfOpen` does past its `isClosed` check, as when the close comes
        // between the check and the write.
        let watched = try await outcome(within: 5) {
            _ = try await ConnectionCloseWatch.of(connection).answer { try await connection.query("SELECT 1", logger: logger) }.collect()
        }
        #expect(watched == "failed")
        #expect(try await outcome(within: 5) { _ = try await connection.queryIfOpen("SELECT 1", logger: logger).collect() } == "failed")
    }

    @Test("on an open connection the watch passes answers and errors through, and keeps no waiter after them")
    func answersPassThrough() async throws {
        let database = try await PostgresTestDatabase.make()
        let logger = self.logger
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.client.withConnection { connection in
                for value in 1...50 {
                    let answer = try await connection.queryIfOpen("SELECT \(Int64(value))::bigint", logger: logger).decode(Int64.self).first { _ in true }
                    #expect(answer == Int64(value))
                }
                await #expect(throws: PSQLError.self) { try await connection.queryIfOpen("SELEC 1", logger: logger).collect() }
                #expect(ConnectionCloseWatch.of(connection).waitingCount == 0)
            }
        }
    }
}

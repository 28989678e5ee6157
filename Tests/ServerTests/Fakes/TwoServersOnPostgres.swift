import Hummingbird
import HummingbirdTesting
import PostgresStorage
import Server
import TestSupport

extension ServerHarness {
    /// Two servers on one new database of the private cluster, as two `replyflow serve`
    /// behind a load balancer: migrated once, each server with its own pool, fakes
    /// (`ports`) and clients. `prepare` runs on the migrated database before the servers
    /// are built (accounts, rows an instance left behind); `body` gets A's client, B's
    /// client and a pool for reading the database.
    func withTwoServers(
        ports: (a: TestPorts, b: TestPorts) = (TestPorts(), TestPorts()), testing: TestingSetup = .router,
        prepare: (ReplyflowPostgres) async throws -> Void = { _ in },
        _ body: @escaping @Sendable (_ a: any TestClientProtocol, _ b: any TestClientProtocol, _ database: ReplyflowPostgres) async throws -> Void
    ) async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let logger = Self.quietLogger
        try await ReplyflowPostgres.withDatabase(url, logger: logger) { first in
            try await first.migrate()
            try await prepare(first)
            try await ReplyflowPostgres.withDatabase(url, logger: logger) { second in
                let a = try build(ports: ports.a, storage: try .postgres(first, logger: logger))
                let b = try build(ports: ports.b, storage: try .postgres(second, logger: logger))
                try await a.application.test(testing) { clientA in
                    try await b.application.test(testing) { clientB in
                        try await body(clientA, clientB, first)
                    }
                }
            }
        }
    }
}

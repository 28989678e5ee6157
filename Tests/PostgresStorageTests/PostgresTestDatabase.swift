import Logging
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

    static let logger: Logger = {
        var logger = Logger(label: "replyflow.postgres-tests")
        logger.logLevel = .error
        return logger
    }()
}

/// What the PostgreSQL suites say when they are skipped (see `PostgresCluster.skipReason`).
let postgresMissing = PostgresCluster.skipReason != nil

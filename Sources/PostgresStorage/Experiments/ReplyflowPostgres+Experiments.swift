import PostgresNIO

extension ReplyflowPostgres {
    /// Experiments with stored exposures, and each one's counts per variant: the same
    /// numbers as SQLite's `ReplyflowDatabase.experimentCounts()`, for `experiments report`.
    /// One transaction, so the counts belong together.
    public func experimentCounts() async throws -> (keys: [String], counts: [String: [String: (exposures: Int, conversions: Int)]]) {
        try await client.withTransaction(logger: logger) { connection in
            var counts: [String: [String: (exposures: Int, conversions: Int)]] = [:]
            for try await (experiment, variant, exposures) in try await connection.query(
                "SELECT experiment, variant, count(*) FROM experiment_exposures GROUP BY experiment, variant", logger: logger
            ).decode((String, String, Int64).self) {
                counts[experiment, default: [:]][variant, default: (0, 0)].exposures = Int(exposures)
            }
            for try await (experiment, variant, conversions) in try await connection.query(
                "SELECT experiment, variant, count(*) FROM experiment_conversions GROUP BY experiment, variant", logger: logger
            ).decode((String, String, Int64).self) {
                counts[experiment, default: [:]][variant, default: (0, 0)].conversions = Int(conversions)
            }
            var keys: [String] = []
            for try await experiment in try await connection.query(
                "SELECT DISTINCT experiment FROM experiment_exposures ORDER BY experiment", logger: logger
            ).decode(String.self) {
                keys.append(experiment)
            }
            return (keys, counts)
        }
    }
}

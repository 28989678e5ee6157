import Flows
import Foundation
import PostgresNIO
import Storage

/// The admin panel's reads of past runs on PostgreSQL; the traces and experiment counts
/// are those the command line reads (`ReplyflowPostgres+Traces`, `+Experiments`).
extension ReplyflowPostgres: PanelReads {
    public func dailyExposures(experiment: String, timeZone: TimeZone) async throws -> DailyExposures? {
        var exposures: [(variant: String, at: Date)] = []
        for try await (variant, at) in try await client.query(
            "SELECT variant, first_at FROM experiment_exposures WHERE experiment = \(experiment) ORDER BY first_at", logger: logger
        ).decode((String, Double).self) {
            exposures.append((variant, Date(timeIntervalSince1970: at)))
        }
        return DailyExposures(exposures: exposures, timeZone: timeZone)
    }

    /// As SQLite's: the first trace id at or after `since` bounds the scan to the period.
    public func flowRunCounts(since: Date) async throws -> [String: (ran: Int, skipped: Int)] {
        try await client.withConnection { connection in
            let newest = try await connection.query("SELECT max(id) FROM run_traces", logger: logger).decode(Int64?.self).first { _ in true }.flatMap { $0 } ?? 0
            let low = try await Self.firstTraceID(atOrAfter: since, newest: newest, connection, logger)
            var counts: [String: (ran: Int, skipped: Int)] = [:]
            for try await (flow, result, n) in try await connection.query(
                """
                SELECT flow, result, count(*) FROM run_traces WHERE id >= \(low) AND at >= \(since.timeIntervalSince1970) AND flow IS NOT NULL
                GROUP BY flow, result
                """, logger: logger
            ).decode((String, String?, Int64).self) {
                var entry = counts[flow] ?? (0, 0)
                if result == "ran" { entry.ran += Int(n) } else if result == "skipped" { entry.skipped += Int(n) }
                counts[flow] = entry
            }
            return counts
        }
    }

    public func inboundEvents(since: Date, until: Date?, limit: Int?) async throws -> [EventRecord] {
        var records: [EventRecord] = []
        try await forEachInboundEvent(since: since, until: until, limit: limit) { records.append($0) }
        return records
    }
}

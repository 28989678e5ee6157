import Foundation
import PostgresNIO
import Storage

extension ReplyflowPostgres: ServerDatabaseStatus {
    /// Whether the database takes writes now: a connection answers, and the server is not
    /// a standby in recovery (which would refuse every write). Throws the reason otherwise.
    public func probeWrites() async throws {
        let inRecovery = try await client.query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self).first { _ in true }
        if inRecovery == true {
            throw ReadinessFailure(description: "the PostgreSQL server is a standby in recovery (read-only)")
        }
    }

    public func probeReads() async throws {
        _ = try await client.query("SELECT 1", logger: logger).collect()
    }

    /// As SQLite's: pending and failed items by kind, and the oldest pending item's age.
    public func outboxStatistics(now: Date) async throws -> OutboxStatistics {
        var statistics = OutboxStatistics()
        let rows = try await client.query(
            "SELECT kind, status, count(*) FROM outbox WHERE status IN ('pending', 'failed') GROUP BY kind, status", logger: logger)
        for try await (kind, status, count) in rows.decode((String, String, Int64).self) {
            // A kind a newer version wrote is not this version's to count.
            guard let kind = OutboxKind(rawValue: kind), let status = OutboxItem.Status(rawValue: status) else { continue }
            statistics.counts[kind, default: [:]][status] = Int(count)
        }
        let queued = try await client.query(
            "SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1", logger: logger
        ).decode(Double.self).first { _ in true }
        if let queued { statistics.oldestPendingAge = max(0, now.timeIntervalSince1970 - queued) }
        return statistics
    }
}

import Foundation
import GRDB

/// How the outbox stands: items by kind and status (pending and failed; delivered ones only
/// grow) and how long the oldest pending item has waited. Read for the server's metrics
/// at each scrape, so an operator sees a backlog build up.
public struct OutboxStatistics: Sendable, Equatable {
    /// Items by kind and status; a pair that is absent has none.
    public var counts: [OutboxKind: [OutboxItem.Status: Int]]
    /// Seconds since the oldest pending item was queued; nil when nothing is pending.
    public var oldestPendingAge: Double?

    public init(counts: [OutboxKind: [OutboxItem.Status: Int]] = [:], oldestPendingAge: Double? = nil) {
        self.counts = counts
        self.oldestPendingAge = oldestPendingAge
    }

    public func count(kind: OutboxKind, status: OutboxItem.Status) -> Int {
        counts[kind]?[status] ?? 0
    }
}

extension ReplyflowDatabase {
    /// The outbox's pending and failed items by kind, and the oldest pending item's age at
    /// `now`: one read transaction over the `(status, id)` index, off the writer, so a
    /// scrape never waits behind a commit.
    public func outboxStatistics(now: Date = Date()) async throws -> OutboxStatistics {
        try await writer.read { db in
            var statistics = OutboxStatistics()
            let rows = try Row.fetchAll(
                db, sql: "SELECT kind, status, COUNT(*) FROM outbox WHERE status IN ('pending', 'failed') GROUP BY kind, status")
            for row in rows {
                // A kind a newer version wrote is not this version's to count.
                guard let kind = OutboxKind(rawValue: row[0]), let status = OutboxItem.Status(rawValue: row[1]) else { continue }
                statistics.counts[kind, default: [:]][status] = row[2]
            }
            // Ids grow with time, so the smallest pending id is the oldest pending item.
            if let queued = try Double.fetchOne(db, sql: "SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1") {
                statistics.oldestPendingAge = max(0, now.timeIntervalSince1970 - queued)
            }
            return statistics
        }
    }
}

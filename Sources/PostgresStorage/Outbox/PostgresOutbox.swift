import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// The outbox on PostgreSQL, worked lane by lane by whichever instance holds the lane
/// (`PostgresLaneLocks`).
///
/// Unlike SQLite's `OutboxStore`, which hands the engine's items to its worker in memory
/// and group-commits their results, every instance here reads a lane's head from the table
/// (another instance may have committed the lane's items) and records each attempt's
/// result before the lane's next item: a lane taken over after a crash starts from what
/// was recorded, repeating at most the one item that was in flight.
public struct PostgresOutbox: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    /// The lanes with pending items, the lane of the oldest item first, at most `limit`.
    public func pendingLanes(limit: Int = 1_000) async throws -> [PendingLane] {
        let rows = try await client.query(
            """
            SELECT lane, min(next_attempt_at) FROM outbox WHERE status = 'pending'
            GROUP BY lane ORDER BY min(id) LIMIT \(limit)
            """, logger: logger)
        var lanes: [PendingLane] = []
        for try await (lane, due) in rows.decode((String, Double).self) {
            lanes.append(PendingLane(lane: lane, due: Date(timeIntervalSince1970: due)))
        }
        return lanes
    }

    /// The lane's first pending item, or nil when the lane is empty. An item of a kind this
    /// version does not know (written by a newer one) is marked failed, with the reason,
    /// and the next is read: it must not hold up the lane.
    public func head(of lane: String) async throws -> OutboxItem? {
        while true {
            let rows = try await client.query(
                """
                SELECT id, kind, lane, payload, status, attempts, next_attempt_at, last_error, parts_sent, parts_plan, message_id
                FROM outbox WHERE lane = \(lane) AND status = 'pending' ORDER BY id LIMIT 1
                """, logger: logger)
            guard let row = try await rows.decode(Row.self).first(where: { _ in true }) else { return nil }
            if let item = Self.item(row) { return item }
            _ = try await client.query(
                "UPDATE outbox SET status = 'failed', last_error = 'unknown kind: ' || kind WHERE id = \(row.0) AND status = 'pending'",
                logger: logger)
        }
    }

    /// Puts a failed item back to be delivered now, in one transaction, as SQLite's
    /// `OutboxStore.retry` does (its error stays until it is delivered or fails again; parts
    /// already sent stay counted). Throws `OutboxRetryError`.
    public func retry(itemID: Int64, at: Date) async throws -> OutboxItem {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                let rows = try await connection.queryIfOpen(
                    """
                    SELECT id, kind, lane, payload, status, attempts, next_attempt_at, last_error, parts_sent, parts_plan, message_id
                    FROM outbox WHERE id = \(itemID) FOR UPDATE
                    """, logger: logger)
                guard let row = try await rows.decode(Row.self).first(where: { _ in true }) else { throw OutboxRetryError.notFound(itemID) }
                let status = OutboxItem.Status(rawValue: row.4)
                guard status == .failed else { throw OutboxRetryError.notFailed(itemID, status: status) }
                guard var item = Self.item(row) else { throw OutboxRetryError.unknownKind(itemID, kind: row.1) }
                let time = at.timeIntervalSince1970
                _ = try await connection.queryIfOpen(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = \(time), updated_at = \(time) WHERE id = \(itemID)",
                    logger: logger
                ).collect()
                item.status = .pending
                item.attempts = 0
                item.nextAttemptAt = at
                return item
            }
        }
    }

    /// An outbox row as `head` and `retry` select it.
    private typealias Row = (Int64, String, String, String, String, Int64, Double, String?, Int64, String?, Int64?)

    /// The row as an item; nil for a kind this version does not know.
    private static func item(_ row: Row) -> OutboxItem? {
        guard let kind = OutboxKind(rawValue: row.1) else { return nil }
        return OutboxItem(
            id: row.0, kind: kind, lane: row.2, payload: row.3, status: OutboxItem.Status(rawValue: row.4) ?? .pending,
            attempts: Int(row.5), nextAttemptAt: Date(timeIntervalSince1970: row.6), lastError: row.7, partsSent: Int(row.8),
            partsPlan: row.9, messageID: row.10)
    }

    /// Records an attempt's result (`.delivered`, `.failed`, or `.pending` with the next
    /// attempt's time) if the item is still pending. False when it is not: a customer's
    /// erasure deleted it, or an instance that held the lane before recorded it; the caller
    /// drops the item.
    @discardableResult
    public func record(
        _ status: OutboxItem.Status, id: Int64, attempts: Int, next: Date, error: String?, at: Date
    ) async throws -> Bool {
        let rows = try await client.query(
            """
            UPDATE outbox SET status = \(status.rawValue), attempts = \(attempts), next_attempt_at = \(next.timeIntervalSince1970),
                last_error = \(error), updated_at = \(at.timeIntervalSince1970)
            WHERE id = \(id) AND status = 'pending' RETURNING id
            """, logger: logger)
        return try await rows.decode(Int64.self).first(where: { _ in true }) != nil
    }

    /// Whether the item is still pending: a retry long after an erasure looks first.
    public func stillPending(id: Int64) async throws -> Bool {
        try await client.query("SELECT 1 FROM outbox WHERE id = \(id) AND status = 'pending'", logger: logger)
            .decode(Int32.self).first(where: { _ in true }) != nil
    }

    /// Notes that the first `count` parts of a delivery (fingerprinted `plan`) went out,
    /// before the next part is sent: a lane taken over resumes after them.
    public func recordPartsSent(id: Int64, count: Int, plan: String) async throws {
        _ = try await client.query(
            "UPDATE outbox SET parts_sent = \(count), parts_plan = \(plan) WHERE id = \(id) AND status = 'pending'", logger: logger)
    }

    /// Notes on a stored message the id its channel gave it.
    public func recordChannelID(_ channelID: String, ofMessage messageID: Int64) async throws {
        _ = try await client.query("UPDATE messages SET platform_message_id = \(channelID) WHERE id = \(messageID)", logger: logger)
    }

    /// Remembers which user the staff-group messages of a forward belong to, so staff
    /// replies to them find their way back, whichever instance receives the reply.
    public func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, source: ChatSource, at: Date) async throws {
        guard !groupMessageIDs.isEmpty else { return }
        _ = try await client.query(
            """
            INSERT INTO group_forwards (group_message_id, user_id, created_at, source)
            SELECT unnest(\(groupMessageIDs)::bigint[]), \(userID), \(at.timeIntervalSince1970), \(source.rawValue)
            ON CONFLICT (group_message_id) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at, source = excluded.source
            """, logger: logger)
    }
}

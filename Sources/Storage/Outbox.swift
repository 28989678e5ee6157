import Foundation
import GRDB

/// A delivery waiting in the outbox: what to send (`kind` and a JSON `payload`), in
/// which order (`lane`: items of one lane are delivered one after another), and how it went.
public struct OutboxItem: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Waiting to be delivered (or retried at `nextAttemptAt`).
        case pending
        case delivered
        /// Given up on; `lastError` says why.
        case failed
        /// The service is not configured: kept to show what would have been sent.
        case recorded
    }

    public var id: Int64
    public var kind: String
    public var lane: String
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?

    public init(id: Int64, kind: String, lane: String, payload: String, status: Status, attempts: Int, nextAttemptAt: Date, lastError: String?) {
        self.id = id
        self.kind = kind
        self.lane = lane
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

/// The outbox worker's reads and writes: each one its own short transaction.
public struct OutboxStore: Sendable {
    let writer: any DatabaseWriter

    public init(database: ReplyflowDatabase) {
        writer = database.writer
    }

    /// Every pending item, oldest first: what a restart has to deliver.
    public func pending() throws -> [OutboxItem] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, lane, payload, status, attempts, next_attempt_at, last_error FROM outbox WHERE status = 'pending' ORDER BY id")
                .map(Self.item)
        }
    }

    public func markDelivered(id: Int64, attempts: Int, at: Date) throws {
        try update(id: id, status: .delivered, attempts: attempts, next: at, error: nil, at: at)
    }

    public func scheduleRetry(id: Int64, attempts: Int, next: Date, error: String, at: Date) throws {
        try update(id: id, status: .pending, attempts: attempts, next: next, error: error, at: at)
    }

    public func markFailed(id: Int64, attempts: Int, error: String, at: Date) throws {
        try update(id: id, status: .failed, attempts: attempts, next: at, error: error, at: at)
    }

    private func update(id: Int64, status: OutboxItem.Status, attempts: Int, next: Date, error: String?, at: Date) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [status.rawValue, attempts, next.timeIntervalSince1970, error, at.timeIntervalSince1970, id])
        }
    }

    private static func item(_ row: Row) -> OutboxItem {
        OutboxItem(
            id: row[0], kind: row[1], lane: row[2], payload: row[3],
            status: OutboxItem.Status(rawValue: row[4]) ?? .pending, attempts: row[5],
            nextAttemptAt: Date(timeIntervalSince1970: row[6]), lastError: row[7])
    }
}

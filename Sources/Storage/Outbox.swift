import Flows
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
    public var kind: OutboxKind
    public var lane: String
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    /// Parts of a multi-part delivery already sent (a retry resumes after them).
    public var partsSent: Int
    /// The fingerprint of the parts `partsSent` counts.
    public var partsPlan: String?
    /// The stored message it sends (a reply), which gets the channel's id for it; nil for
    /// deliveries of no message of their own (forwards, pushes, notices) and for items
    /// queued before items named their message.
    public var messageID: Int64?

    public init(
        id: Int64, kind: OutboxKind, lane: String, payload: String, status: Status, attempts: Int, nextAttemptAt: Date, lastError: String?,
        partsSent: Int = 0, partsPlan: String? = nil, messageID: Int64? = nil
    ) {
        self.id = id
        self.kind = kind
        self.lane = lane
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.partsSent = partsSent
        self.partsPlan = partsPlan
        self.messageID = messageID
    }
}

/// The outbox worker's reads and writes. Results of deliveries (status updates, and the
/// staff-group messages a forward became) are group-committed in the background: a worker
/// does not wait for SQLite between deliveries, and many results share one transaction.
/// A crash before they commit means an item is delivered again: at least once, never lost.
public struct OutboxStore: Sendable {
    let writer: any DatabaseWriter
    private let commits: GroupCommitQueue

    /// `onError` hears of a write that failed (logged by the caller; the item stays pending).
    public init(database: ReplyflowDatabase, onError: @escaping @Sendable (Error) -> Void = { _ in }) {
        writer = database.writer
        let errors = FirstError()
        commits = GroupCommitQueue(writer: writer, errors: errors, maxQueued: 16_384, gathering: .milliseconds(5), onError: onError)
    }

    /// Every pending item, oldest first: what a restart has to deliver. An item of a kind
    /// this version does not know (written by a newer one) is marked failed, with the reason.
    public func pending() async throws -> [OutboxItem] {
        try await writer.write { db in
            let known = OutboxKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            try db.execute(
                sql: "UPDATE outbox SET status = 'failed', last_error = 'unknown kind: ' || kind WHERE status = 'pending' AND kind NOT IN (\(known))")
            return try Row.fetchAll(
                db,
                sql:
                    """
                    SELECT id, kind, lane, payload, status, attempts, next_attempt_at, last_error, parts_sent, parts_plan, message_id
                    FROM outbox WHERE status = 'pending' ORDER BY id
                    """
            )
            .compactMap(Self.item)
        }
    }

    /// Whether the item is still in the outbox: erasing a customer (`eraseCustomer`, maybe
    /// from another process) deletes theirs, and a retry must not send what was erased.
    /// A read that fails counts as still there (a delivery is never lost to it).
    public func stillQueued(id: Int64) async -> Bool {
        (try? await writer.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM outbox WHERE id = ?", arguments: [id]) ?? false }) ?? true
    }

    public func markDelivered(id: Int64, attempts: Int, at: Date) {
        update(id: id, status: .delivered, attempts: attempts, next: at, error: nil, at: at)
    }

    public func scheduleRetry(id: Int64, attempts: Int, next: Date, error: String, at: Date) {
        update(id: id, status: .pending, attempts: attempts, next: next, error: error, at: at)
    }

    public func markFailed(id: Int64, attempts: Int, error: String, at: Date) {
        update(id: id, status: .failed, attempts: attempts, next: at, error: error, at: at)
    }

    /// Puts a failed item back to be delivered now, in one transaction: pending, attempts
    /// from zero, next attempt now. Its `lastError` stays until it is delivered (which clears
    /// it) or fails again (which replaces it), so the inbox can say what went wrong while it
    /// is retried; parts already sent stay counted, so they are not sent twice.
    ///
    /// Status updates queued before are written first, so an item whose failure is still
    /// queued counts as failed. Throws `OutboxRetryError` for an unknown item or one that
    /// has not failed (pending, delivered, or recorded because its service is off).
    /// Returns the item as it now stands: hand it to the outbox worker.
    public func retry(itemID: Int64, at: Date = Date()) async throws -> OutboxItem {
        await commits.written()
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, kind, lane, payload, status, attempts, next_attempt_at, last_error, parts_sent, parts_plan, message_id
                        FROM outbox WHERE id = ?
                        """, arguments: [itemID])
            else { throw OutboxRetryError.notFound(itemID) }
            let status = OutboxItem.Status(rawValue: row[4])
            guard status == .failed else { throw OutboxRetryError.notFailed(itemID, status: status) }
            guard var item = Self.item(row) else { throw OutboxRetryError.unknownKind(itemID, kind: row[1]) }
            try db.execute(
                sql: "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, at.timeIntervalSince1970, itemID])
            item.status = .pending
            item.attempts = 0
            item.nextAttemptAt = at
            return item
        }
    }

    /// Remembers which user the staff-group messages of a forward belong to, so staff
    /// replies to them find their way back.
    public func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, source: ChatSource, at: Date) {
        commits.submit(groupMessageIDs.map { .chatForward(groupMessageID: $0, userID: userID, source: source, at: at) }, waiter: nil)
    }

    /// Remembers that the first `count` parts of a delivery (of the parts fingerprinted
    /// `plan`) went out, so a retry or a restart does not send them again. Queued in order
    /// with the item's status updates.
    public func recordPartsSent(id: Int64, count: Int, plan: String) {
        commits.submit(
            [
                .custom { db in
                    try db.cachedStatement(sql: "UPDATE outbox SET parts_sent = ?, parts_plan = ? WHERE id = ?").execute(arguments: [count, plan, id])
                }
            ], waiter: nil)
    }

    /// Notes on a stored message the id its channel gave it (Telegram's `message_id`,
    /// Brevo's message id), queued in order with its item's status updates.
    public func recordChannelID(_ channelID: String, ofMessage messageID: Int64) {
        commits.submit(
            [
                .custom { db in
                    try db.cachedStatement(sql: "UPDATE messages SET platform_message_id = ? WHERE id = ?").execute(arguments: [channelID, messageID])
                }
            ], waiter: nil)
    }

    /// Queues a write of a deliverer's own (the id a service gave a sent message).
    public func recordLater(_ write: @escaping QueuedWrite) {
        commits.submit([.custom(write)], waiter: nil)
    }

    /// Returns once everything queued so far is committed (shutdown and tests).
    public func written() async {
        await commits.written()
    }

    private func update(id: Int64, status: OutboxItem.Status, attempts: Int, next: Date, error: String?, at: Date) {
        commits.submit([.outboxStatus(id: id, status: status, attempts: attempts, next: next, error: error, at: at)], waiter: nil)
    }

    private static func item(_ row: Row) -> OutboxItem? {
        guard let kind = OutboxKind(rawValue: row[1]) else { return nil }
        return OutboxItem(
            id: row[0], kind: kind, lane: row[2], payload: row[3],
            status: OutboxItem.Status(rawValue: row[4]) ?? .pending, attempts: row[5],
            nextAttemptAt: Date(timeIntervalSince1970: row[6]), lastError: row[7], partsSent: row[8], partsPlan: row[9], messageID: row[10])
    }
}

/// Why an outbox item cannot be retried.
public enum OutboxRetryError: Error, Equatable, CustomStringConvertible {
    case notFound(Int64)
    /// Only a failed item is retried: a pending one is on its way, a delivered one went out,
    /// a recorded one has no service to go to.
    case notFailed(Int64, status: OutboxItem.Status?)
    /// Written by a newer version, of a kind this one cannot deliver.
    case unknownKind(Int64, kind: String)

    public var description: String {
        switch self {
        case .notFound(let id): "no outbox item \(id)"
        case .notFailed(let id, let status): "outbox item \(id) has not failed (it is \(status?.rawValue ?? "of an unknown status")): only a failed delivery is retried"
        case .unknownKind(let id, let kind): "outbox item \(id) is of a kind this version cannot deliver: \(kind)"
        }
    }
}

import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// The outbox lanes of a server on a PostgreSQL database shared with other servers: a
/// lane is claimed across them (`PostgresLaneLocks`), its items read from the table
/// (`PostgresOutbox`), each result recorded before the next item.
///
/// A server killed in the middle of a send leaves that one item pending: the server that
/// claims the lane next sends it again (at most one repeat per lane; the services take no
/// idempotency key). A clean stop finishes or abandons its sends before releasing.
public final class PostgresOutboxLanes: OutboxLanes {
    private let outbox: PostgresOutbox
    private let locks: PostgresLaneLocks
    private let client: PostgresClient
    private let logger: Logger
    public let lostClaims: AsyncStream<Set<String>>

    /// Throws when `database.url` asks for TLS and no TLS context can be made.
    public init(_ database: ReplyflowPostgres, checkInterval: Duration = .seconds(1), checkTimeout: Duration = .seconds(5)) throws {
        outbox = PostgresOutbox(database)
        client = database.client
        logger = database.logger
        let (stream, continuation) = AsyncStream<Set<String>>.makeStream()
        lostClaims = stream
        locks = try PostgresLaneLocks(url: database.url, logger: database.logger, checkInterval: checkInterval, checkTimeout: checkTimeout) {
            continuation.yield($0)
        }
    }

    public var sharedWithOtherServers: Bool { true }

    public func lanesWithWork() async throws -> [PendingLane] {
        try await outbox.pendingLanes()
    }

    public func committed(_ items: [OutboxItem]) {}

    public func claim(_ lane: String) async throws -> Bool {
        try await locks.tryClaim(lane)
    }

    public func release(_ lane: String) async {
        await locks.release(lane)
    }

    public func head(of lane: String) async throws -> OutboxItem? {
        try await outbox.head(of: lane)
    }

    public func record(_ result: DeliveryResult, of item: OutboxItem) async throws -> Bool {
        switch result {
        case .delivered(let attempts, let at):
            return try await outbox.record(.delivered, id: item.id, attempts: attempts, next: at, error: nil, at: at)
        case .retry(let next, let at):
            return try await outbox.record(.pending, id: item.id, attempts: next.attempts, next: next.nextAttemptAt, error: next.lastError, at: at)
        case .failed(let attempts, let error, let at):
            return try await outbox.record(.failed, id: item.id, attempts: attempts, next: at, error: error, at: at)
        case .erased:
            return true
        }
    }

    public func stillQueued(id: Int64) async -> Bool {
        (try? await outbox.stillPending(id: id)) ?? true
    }

    public func recordPartsSent(id: Int64, count: Int, plan: String) async {
        await noting("the parts of a delivery sent") { try await outbox.recordPartsSent(id: id, count: count, plan: plan) }
    }

    public func recordChannelID(_ channelID: String, ofMessage messageID: Int64) async {
        await noting("a message's channel id") { try await outbox.recordChannelID(channelID, ofMessage: messageID) }
    }

    public func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, source: ChatSource, at: Date) async {
        await noting("whose forward a group message is") {
            try await outbox.recordGroupForwards(groupMessageIDs, userID: userID, source: source, at: at)
        }
    }

    public func recordBrevoMessageSent(_ messageID: String, at: Date) async {
        await noting("a Brevo message id") {
            _ = try await client.query(
                """
                INSERT INTO brevo_messages (message_id, direction, at) VALUES (\(messageID), 'sent', \(at.timeIntervalSince1970))
                ON CONFLICT (message_id) DO NOTHING
                """, logger: logger)
        }
    }

    public func retry(itemID: Int64, at: Date) async throws -> OutboxItem {
        try await outbox.retry(itemID: itemID, at: at)
    }

    public func written() async {}

    /// Gives every lane up (a clean stop).
    public func close() async {
        await locks.close()
    }

    /// A note the delivery goes on without: a failure is logged (as SQLite's group commit
    /// logs its own), and at worst a retry repeats a part or a staff reply misses its way.
    private func noting(_ what: String, _ write: () async throws -> Void) async {
        do {
            try await write()
        } catch {
            logger.error("could not record \(what)", metadata: ["error": "\(PostgresErrorText.describe(error))"])
        }
    }
}

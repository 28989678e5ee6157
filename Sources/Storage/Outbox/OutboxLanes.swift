import Flows
import Foundation

/// The outbox as the delivery worker works it: lanes of items (the staff group's
/// deliveries, one user's pushes, one visitor's Instagram replies), each lane worked by one
/// worker at a time and in order, lanes side by side.
///
/// On SQLite (`SQLiteOutboxLanes`) the one server keeps its lanes in memory, fed by its
/// own commits, and group-commits the results. On PostgreSQL (`PostgresOutboxLanes`)
/// every server may have committed a lane's items, so a worker claims the lane across the
/// servers, reads its head from the table and records each result before the next item.
public protocol OutboxLanes: Sendable {
    /// The lanes with pending items, and when each one's head is due.
    func lanesWithWork() async throws -> [PendingLane]
    /// Items this server's engine just committed (or a retry put back). SQLite's lanes take
    /// them in; on PostgreSQL they are in the table already.
    func committed(_ items: [OutboxItem]) async
    /// Whether lanes other servers commit to must be looked for (`lanesWithWork`) now and
    /// then: true on PostgreSQL.
    var sharedWithOtherServers: Bool { get }
    /// Lanes whose claims were lost together (PostgreSQL: the connection holding them
    /// failed): their work must stop at once, another server may have taken them. Never
    /// yields on SQLite.
    var lostClaims: AsyncStream<Set<String>> { get }

    /// Takes `lane` for this worker; false when another server works it now.
    func claim(_ lane: String) async throws -> Bool
    /// Gives the lane up: empty, or stopped.
    func release(_ lane: String) async
    /// The lane's first pending item, or nil when it is empty.
    func head(of lane: String) async throws -> OutboxItem?
    /// Records what became of the lane's head. False when the item was no longer pending
    /// (erased, or recorded by a server that held the lane before): the worker drops it.
    @discardableResult
    func record(_ result: DeliveryResult, of item: OutboxItem) async throws -> Bool
    /// Whether the item is still in the outbox: erasing a customer deletes theirs, and a
    /// retry must not send what was erased. A read that fails counts as still there.
    func stillQueued(id: Int64) async -> Bool

    /// Notes that the first `count` parts of a delivery (of the parts fingerprinted `plan`)
    /// went out, so a retry, a restart or another server does not send them again.
    func recordPartsSent(id: Int64, count: Int, plan: String) async
    /// Notes on a stored message the id its channel gave it.
    func recordChannelID(_ channelID: String, ofMessage messageID: Int64) async
    /// Remembers which user the staff-group messages of a forward belong to, so staff
    /// replies to them find their way back.
    func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, source: ChatSource, at: Date) async
    /// Remembers a message id Brevo gave a reply we sent: if its webhook brings it back, it
    /// is known as ours.
    func recordBrevoMessageSent(_ messageID: String, at: Date) async

    /// Puts a failed item back to be delivered now (see `OutboxStore.retry`); returns it as
    /// it now stands. Throws `OutboxRetryError`.
    func retry(itemID: Int64, at: Date) async throws -> OutboxItem
    /// Returns once every result recorded so far is written (shutdown and tests).
    func written() async
    /// Gives every lane up once the worker has stopped (PostgreSQL: closes the connection
    /// holding the claims, so the other servers take the lanes at once).
    func close() async
}

/// A lane with pending items: when its head is due.
public struct PendingLane: Sendable, Equatable {
    public var lane: String
    public var due: Date

    public init(lane: String, due: Date) {
        self.lane = lane
        self.due = due
    }
}

/// What became of an outbox item's delivery attempt.
public enum DeliveryResult: Sendable {
    case delivered(attempts: Int, at: Date)
    /// Tried again later: the item as it now stands (attempts, next attempt, error, parts).
    case retry(OutboxItem, at: Date)
    /// Given up on.
    case failed(attempts: Int, error: String, at: Date)
    /// Gone from the outbox before it was sent (the customer was erased): nothing to write.
    case erased
}

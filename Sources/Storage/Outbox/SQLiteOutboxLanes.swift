import Flows
import Foundation

/// The outbox lanes of the one server of a SQLite database: kept in memory, fed by the
/// server's own commits (and, at start, by what a previous run left pending), results
/// group-committed through `OutboxStore` so a worker never waits for SQLite between
/// deliveries. A crash before a result commits means the item is delivered again: at
/// least once, never lost.
public actor SQLiteOutboxLanes: OutboxLanes {
    private let store: OutboxStore
    private var lanes: [String: LaneQueue] = [:]
    private var known: Set<Int64> = []
    private var loaded = false

    public init(store: OutboxStore) {
        self.store = store
    }

    public nonisolated var sharedWithOtherServers: Bool { false }
    public nonisolated var lostClaims: AsyncStream<Set<String>> { AsyncStream { $0.finish() } }

    public func lanesWithWork() async throws -> [PendingLane] {
        if !loaded {
            take(try await store.pending())
            loaded = true
        }
        return lanes.compactMap { lane, queue in queue.first.map { (id: $0.id, lane: PendingLane(lane: lane, due: $0.nextAttemptAt)) } }
            .sorted { $0.id < $1.id }.map(\.lane)
    }

    public func committed(_ items: [OutboxItem]) {
        take(items)
    }

    public func claim(_ lane: String) -> Bool { true }

    public func release(_ lane: String) {
        if lanes[lane]?.isEmpty == true { lanes[lane] = nil }
    }

    public func head(of lane: String) -> OutboxItem? {
        lanes[lane]?.first
    }

    public func record(_ result: DeliveryResult, of item: OutboxItem) -> Bool {
        switch result {
        case .delivered(let attempts, let at):
            store.markDelivered(id: item.id, attempts: attempts, at: at)
            removeHead(item)
        case .retry(let next, let at):
            store.scheduleRetry(id: item.id, attempts: next.attempts, next: next.nextAttemptAt, error: next.lastError ?? "", at: at)
            if lanes[item.lane]?.first?.id == item.id { lanes[item.lane]?.replaceFirst(next) }
        case .failed(let attempts, let error, let at):
            store.markFailed(id: item.id, attempts: attempts, error: error, at: at)
            removeHead(item)
        case .erased:
            removeHead(item)
        }
        return true
    }

    public func stillQueued(id: Int64) async -> Bool {
        await store.stillQueued(id: id)
    }

    public func recordPartsSent(id: Int64, count: Int, plan: String) {
        store.recordPartsSent(id: id, count: count, plan: plan)
    }

    public func recordChannelID(_ channelID: String, ofMessage messageID: Int64) {
        store.recordChannelID(channelID, ofMessage: messageID)
    }

    public func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, source: ChatSource, at: Date) {
        store.recordGroupForwards(groupMessageIDs, userID: userID, source: source, at: at)
    }

    public func recordBrevoMessageSent(_ messageID: String, at: Date) {
        store.recordLater(BrevoMessageLog.record(messageID, .sent, at: at))
    }

    public func retry(itemID: Int64, at: Date) async throws -> OutboxItem {
        try await store.retry(itemID: itemID, at: at)
    }

    /// Nothing to give up: the lanes are this server's alone.
    public func close() async {}

    public func written() async {
        await store.written()
    }

    private func take(_ items: [OutboxItem]) {
        for item in items where !known.contains(item.id) {
            known.insert(item.id)
            lanes[item.lane, default: LaneQueue()].append(item)
        }
    }

    private func removeHead(_ item: OutboxItem) {
        guard lanes[item.lane]?.first?.id == item.id else { return }
        lanes[item.lane]?.removeFirst()
        known.remove(item.id)
        if lanes[item.lane]?.isEmpty == true { lanes[item.lane] = nil }
    }
}

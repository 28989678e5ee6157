import Channels
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Sends one kind of outbox item. Throwing `DeliveryError` says whether to retry. A
/// delivery of several parts sends them through `progress`, so a retry resumes after the
/// parts already sent.
protocol Deliverer: Sendable {
    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws
}

/// Delivers the outbox in the background: items of one lane (the staff group, one user's
/// devices) in order, lanes side by side; retries with exponential backoff, honouring the
/// service's own `retry_after`; gives up after `maxAttempts`, marking the item failed with
/// its error in the database and the log. A restart picks up whatever is still pending.
actor OutboxWorker {
    private let store: OutboxStore
    private let deliverers: [OutboxKind: any Deliverer]
    private let metrics: ServerMetrics
    private let logger: Logger
    private let maxAttempts: Int
    private let maxLanes: Int
    private let clock: @Sendable () -> Date
    /// Backoff for an attempt, before the service's own `retry_after`.
    private let backoff: @Sendable (Int) -> Duration

    /// Lanes waiting out a backoff hold a slot, so the cap is generous: an outage of one
    /// service must not leave the others without slots.
    private var lanes: [String: LaneQueue] = [:]
    private var running: [String: Task<Void, Never>] = [:]
    private var known: Set<Int64> = []
    private var stopped = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        store: OutboxStore, deliverers: [OutboxKind: any Deliverer], metrics: ServerMetrics, logger: Logger, maxAttempts: Int, maxLanes: Int = 256,
        clock: @escaping @Sendable () -> Date = Date.init,
        backoff: @escaping @Sendable (Int) -> Duration = OutboxWorker.exponentialBackoff
    ) {
        self.store = store
        self.deliverers = deliverers
        self.metrics = metrics
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.maxLanes = maxLanes
        self.clock = clock
        self.backoff = backoff
    }

    /// 0.5 s, 1 s, 2 s ... capped at 5 minutes, with up to 20 % jitter so retries of many
    /// items do not arrive at the service together.
    static let exponentialBackoff: @Sendable (Int) -> Duration = { attempt in
        let base = min(300.0, 0.5 * pow(2.0, Double(max(0, attempt - 1))))
        return .milliseconds(Int(base * 1000 * Double.random(in: 1.0...1.2)))
    }

    /// Loads what a previous run left pending.
    func resume() async throws {
        let pending = try await store.pending()
        if !pending.isEmpty { logger.info("resuming deliveries left pending", metadata: ["count": "\(pending.count)"]) }
        add(pending)
    }

    /// New items, committed by the engine.
    func add(_ items: [OutboxItem]) {
        for item in items where !known.contains(item.id) {
            known.insert(item.id)
            lanes[item.lane, default: LaneQueue()].append(item)
        }
        startLanes()
    }

    /// Stops taking new work and waits for deliveries under way.
    func stop() async {
        stopped = true
        let tasks = Array(running.values)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await store.written()
    }

    /// Returns when nothing is queued or under way (tests and shutdown).
    func waitUntilIdle() async {
        if !(running.isEmpty && lanes.isEmpty) {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        await store.written()
    }

    private func startLanes() {
        guard !stopped else { return }
        for lane in lanes.keys where running[lane] == nil && running.count < maxLanes {
            running[lane] = Task { await self.drain(lane: lane) }
        }
    }

    private func drain(lane: String) async {
        while !Task.isCancelled, let item = lanes[lane]?.first {
            let wait = item.nextAttemptAt.timeIntervalSince(clock())
            if wait > 0 {
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                if Task.isCancelled { break }
            }
            // A retry may come long after the customer was erased (an outage): look first.
            // First attempts follow their commit at once and skip the read.
            if item.attempts > 0, await !store.stillQueued(id: item.id) {
                logger.info("delivery dropped: its outbox item was erased", metadata: ["outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)"])
                lanes[lane]?.removeFirst()
                known.remove(item.id)
                if lanes[lane]?.isEmpty == true { lanes[lane] = nil }
                continue
            }
            let outcome = await attempt(item)
            switch outcome {
            case .done:
                lanes[lane]?.removeFirst()
                known.remove(item.id)
            case .retry(let next):
                lanes[lane]?.replaceFirst(next)
            }
            if lanes[lane]?.isEmpty == true { lanes[lane] = nil }
        }
        running[lane] = nil
        startLanes()
        if running.isEmpty && lanes.isEmpty {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    private enum Outcome { case done, retry(OutboxItem) }

    private func attempt(_ item: OutboxItem) async -> Outcome {
        var item = item
        item.attempts += 1
        let now = clock()
        let measured = metrics.delivery(item.kind)
        measured.attempts.increment(by: 1)
        guard let deliverer = deliverers[item.kind] else {
            measured.failures[.gaveUp]?.increment(by: 1)
            store.markFailed(id: item.id, attempts: item.attempts, error: "no deliverer for \(item.kind.rawValue)", at: now)
            logger.error("delivery failed: nothing delivers this kind", metadata: ["outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)"])
            return .done
        }
        let id = item.id, messageID = item.messageID
        let progress = DeliveryProgress(
            partsSent: item.partsSent, plan: item.partsPlan,
            record: { [store] count, plan in store.recordPartsSent(id: id, count: count, plan: plan) },
            recordChannelID: { [store] channelID in
                if let messageID { store.recordChannelID(channelID, ofMessage: messageID) }
            })
        let started = ContinuousClock.now
        do {
            try await deliverer.deliver(item, progress: progress)
            measured.duration.recordNanoseconds(started.nanosecondsUntilNow)
            store.markDelivered(id: item.id, attempts: item.attempts, at: clock())
            return .done
        } catch {
            measured.duration.recordNanoseconds(started.nanosecondsUntilNow)
            let failure = error as? DeliveryError ?? DeliveryError(.retry(after: nil), "\(error)")
            let message = failure.description
            switch failure.disposition {
            case .retry(let after) where item.attempts < maxAttempts:
                let delay = max(after ?? .zero, backoff(item.attempts))
                let next = clock().addingTimeInterval(delay.seconds)
                item.nextAttemptAt = next
                item.lastError = message
                item.partsSent = progress.partsSent
                item.partsPlan = progress.plan
                logger.warning(
                    "delivery failed, will retry",
                    metadata: [
                        "outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)", "attempt": "\(item.attempts)", "retry_in": "\(delay)",
                        "error": "\(message)",
                    ])
                measured.failures[.retry]?.increment(by: 1)
                store.scheduleRetry(id: item.id, attempts: item.attempts, next: next, error: message, at: clock())
                return .retry(item)
            default:
                logger.error(
                    "delivery failed, giving up",
                    metadata: [
                        "outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)", "attempts": "\(item.attempts)", "error": "\(message)",
                    ])
                measured.failures[.gaveUp]?.increment(by: 1)
                store.markFailed(id: item.id, attempts: item.attempts, error: message, at: clock())
                return .done
            }
        }
    }

}

extension Duration {
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

/// Runs the outbox worker for the server's lifetime.
struct OutboxService: Service {
    let worker: OutboxWorker
    /// Items the engine has just committed.
    let incoming: DeliveryQueue

    func run() async throws {
        try await worker.resume()
        incoming.handed()
        await cancelWhenGracefulShutdown {
            for await items in incoming.stream {
                await worker.add(items)
                incoming.handed()
            }
        }
        await worker.stop()
    }
}

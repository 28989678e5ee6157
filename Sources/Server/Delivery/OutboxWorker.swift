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
///
/// The lanes come from `OutboxLanes`: a lane is claimed before it is worked (on
/// PostgreSQL across every server of the database) and its items are read from there one
/// by one, each result recorded before the next.
actor OutboxWorker {
    let outbox: any OutboxLanes
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
    private var running: [String: Task<Void, Never>] = [:]
    /// Lanes that got work while their task was finishing: started again when it ends.
    private var again: Set<String> = []
    /// Whether a lane was left waiting because `maxLanes` were running.
    private var overflowed = false
    /// Lanes waiting for their head's time (a retry's backoff).
    private var waiting: Set<String> = []
    /// Lanes whose claim was lost while their task ran: nothing more is recorded for them.
    private var forfeited: Set<String> = []
    private var stopped = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        outbox: any OutboxLanes, deliverers: [OutboxKind: any Deliverer], metrics: ServerMetrics, logger: Logger, maxAttempts: Int,
        maxLanes: Int = 256, clock: @escaping @Sendable () -> Date = Date.init,
        backoff: @escaping @Sendable (Int) -> Duration = OutboxWorker.exponentialBackoff
    ) {
        self.outbox = outbox
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

    /// Starts the lanes a previous run left pending (or, on a database shared with other
    /// servers, whatever is pending and not worked by another).
    func resume() async throws {
        let lanes = try await outbox.lanesWithWork()
        if !lanes.isEmpty && !outbox.sharedWithOtherServers {
            logger.info("resuming deliveries left pending", metadata: ["lanes": "\(lanes.count)"])
        }
        for lane in lanes { start(lane.lane) }
    }

    /// Looks for lanes with work no worker of this server has (other servers' commits).
    func scan() async {
        do {
            for lane in try await outbox.lanesWithWork() where running[lane.lane] == nil { start(lane.lane) }
        } catch {
            // A shutdown cancelled the scan: nothing went wrong.
            if Task.isCancelled { return }
            logger.warning("could not look for deliveries to make", metadata: ["error": "\(error)"])
        }
    }

    /// New items, committed by the engine (or put back by a retry).
    func add(_ items: [OutboxItem]) async {
        await outbox.committed(items)
        for lane in Set(items.map(\.lane)) { start(lane) }
    }

    /// Stops the lanes whose claims were lost (PostgreSQL: the connection holding them
    /// failed): another server may be working them already.
    func lost(_ lanes: Set<String>) {
        for lane in lanes where running[lane] != nil {
            // Its result, if a send is under way, is not recorded: the lane is another's now.
            forfeited.insert(lane)
            running[lane]?.cancel()
            again.remove(lane)
        }
    }

    /// Stops taking new work: lanes waiting (for a retry's time) stop at once; a lane in
    /// the middle of an item (reading it, sending it, recording its result) finishes that
    /// item, for up to `grace`, so a clean stop sends nothing twice. Then the rest are
    /// cancelled.
    func stop(grace: Duration = .seconds(5)) async {
        stopped = true
        for lane in waiting { running[lane]?.cancel() }
        let tasks = Array(running.values)
        // Not a sleep of this task's: the stop may come from a cancelled task.
        let deadline = Task {
            try? await Task.sleep(for: grace)
            for task in tasks { task.cancel() }
        }
        for task in tasks { await task.value }
        deadline.cancel()
        await outbox.written()
    }

    /// Returns when nothing is queued or under way (tests and shutdown).
    func waitUntilIdle() async {
        if !running.isEmpty {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        await outbox.written()
    }

    private func start(_ lane: String) {
        guard !stopped else { return }
        if running[lane] != nil {
            again.insert(lane)
            return
        }
        guard running.count < maxLanes else {
            overflowed = true
            return
        }
        running[lane] = Task { await self.work(lane) }
    }

    private func work(_ lane: String) async {
        do {
            if try await outbox.claim(lane) {
                do {
                    try await drain(lane)
                } catch {
                    if !Task.isCancelled {
                        logger.error("delivery lane stopped: the outbox could not be read or written", metadata: ["lane": "\(lane)", "error": "\(error)"])
                    }
                }
                await outbox.release(lane)
            }
        } catch {
            logger.warning("could not claim a delivery lane", metadata: ["lane": "\(lane)", "error": "\(error)"])
        }
        running[lane] = nil
        forfeited.remove(lane)
        if again.remove(lane) != nil { start(lane) }
        // Lanes left beyond the cap take the slot.
        if overflowed && !stopped {
            overflowed = false
            await scan()
        }
        if running.isEmpty {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    private func drain(_ lane: String) async throws {
        while !Task.isCancelled && !stopped, let item = try await outbox.head(of: lane) {
            let wait = item.nextAttemptAt.timeIntervalSince(clock())
            if wait > 0 {
                waiting.insert(lane)
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                waiting.remove(lane)
                if Task.isCancelled || stopped { break }
            }
            // A retry may come long after the customer was erased (an outage): look first.
            // First attempts follow their commit at once and skip the read.
            if item.attempts > 0, await !outbox.stillQueued(id: item.id) {
                logger.info("delivery dropped: its outbox item was erased", metadata: ["outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)"])
                try await outbox.record(.erased, of: item)
                continue
            }
            let result = await attempt(item)
            if forfeited.contains(lane) { break }
            if try await !outbox.record(result, of: item) {
                logger.warning(
                    "a delivery's result was not recorded: its outbox item is no longer pending (erased, or taken over)",
                    metadata: ["outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)"])
            }
        }
    }

    private func attempt(_ item: OutboxItem) async -> DeliveryResult {
        var item = item
        item.attempts += 1
        let now = clock()
        let measured = metrics.delivery(item.kind)
        measured.attempts.increment(by: 1)
        guard let deliverer = deliverers[item.kind] else {
            measured.failures[.gaveUp]?.increment(by: 1)
            logger.error("delivery failed: nothing delivers this kind", metadata: ["outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)"])
            return .failed(attempts: item.attempts, error: "no deliverer for \(item.kind.rawValue)", at: now)
        }
        let id = item.id, messageID = item.messageID
        let progress = DeliveryProgress(
            partsSent: item.partsSent, plan: item.partsPlan,
            record: { [outbox] count, plan in await outbox.recordPartsSent(id: id, count: count, plan: plan) },
            recordChannelID: { [outbox] channelID in
                if let messageID { await outbox.recordChannelID(channelID, ofMessage: messageID) }
            })
        let started = ContinuousClock.now
        do {
            try await deliverer.deliver(item, progress: progress)
            measured.duration.recordNanoseconds(started.nanosecondsUntilNow)
            return .delivered(attempts: item.attempts, at: clock())
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
                return .retry(item, at: clock())
            default:
                logger.error(
                    "delivery failed, giving up",
                    metadata: [
                        "outbox_id": "\(item.id)", "kind": "\(item.kind.rawValue)", "attempts": "\(item.attempts)", "error": "\(message)",
                    ])
                measured.failures[.gaveUp]?.increment(by: 1)
                return .failed(attempts: item.attempts, error: message, at: clock())
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

/// Runs the outbox worker for the server's lifetime: hands it what the engine commits and,
/// on a database shared with other servers, looks for their lanes every `scanInterval`
/// and stops the lanes whose claims were lost.
struct OutboxService: Service {
    let worker: OutboxWorker
    /// Items the engine has just committed.
    let incoming: DeliveryQueue
    var scanInterval: Duration = .seconds(1)

    func run() async throws {
        let outbox = worker.outbox
        // A shared database may be away at start: the scans below look for work at once
        // and every second after, rather than the server stopping (and a shutdown cancels
        // a scan waiting for the database).
        if !outbox.sharedWithOtherServers { try await worker.resume() }
        incoming.handed()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await items in incoming.stream {
                        await worker.add(items)
                        incoming.handed()
                    }
                }
                if outbox.sharedWithOtherServers {
                    group.addTask {
                        while !Task.isCancelled {
                            await worker.scan()
                            do { try await Task.sleep(for: scanInterval) } catch { return }
                        }
                    }
                    group.addTask {
                        for await lanes in outbox.lostClaims { await worker.lost(lanes) }
                    }
                }
                await group.waitForAll()
            }
        }
        await worker.stop()
        await outbox.close()
    }
}

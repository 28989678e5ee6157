import Channels
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Handles the updates the poller or the webhook put in the inbox: each chat's updates in order, chats
/// side by side, so a customer waiting for the AI holds up neither other customers nor
/// staff answering in the group, nor the next `getUpdates`.
///
/// An update is removed from the inbox once handled. One that keeps failing is tried
/// `maxAttempts` times with a doubling wait (about two minutes in all, to ride out a busy
/// or full disk), then left in the inbox marked failed with its error; the chat's later
/// updates go on. On shutdown a failing update stops being retried and stays pending.
actor TelegramDispatcher {
    /// Handles one update (the server's is `TelegramUpdateHandler.handle`).
    private let handleUpdate: @Sendable (TelegramUpdate) async throws -> Void
    private let inbox: any TelegramInbox
    private let logger: Logger
    private let retryDelay: Duration

    /// Each chat's updates, in the order they were queued.
    private let chats = OrderedLanes<Int64>()
    /// Updates queued or under way, by id: the same update is queued once, however often
    /// it comes (a webhook redelivery, or a batch the poller kept just before the
    /// leftovers were read).
    private var running: [Int64: Task<Void, Never>] = [:]
    private var stopping = false
    /// Queues the inbox's leftovers, once: they go first, before anything newer.
    private var leftovers: Task<Void, Never>?
    /// Updates submitted and not yet handled, across chats.
    private(set) var backlog = 0

    static let maxAttempts = 8
    /// The poller waits before asking for more while this many updates wait to be handled.
    static let maxBacklog = 1_000

    init(inbox: any TelegramInbox, logger: Logger, retryDelay: Duration = .seconds(1), handle: @escaping @Sendable (TelegramUpdate) async throws -> Void) {
        self.handleUpdate = handle
        self.inbox = inbox
        self.logger = logger
        self.retryDelay = retryDelay
    }

    /// Queues updates behind the earlier ones of their chat (and behind what a previous
    /// run left in the inbox).
    func submit(_ updates: [TelegramUpdate]) async {
        guard !stopping else { return }
        await submitLeftovers()
        enqueue(updates)
    }

    private func enqueue(_ updates: [TelegramUpdate]) {
        for update in updates where running[update.updateID] == nil {
            // The place in the chat's line is taken now, in the order updates arrive.
            let turn = chats.enter(update.message?.chat.id ?? 0)
            backlog += 1
            running[update.updateID] = Task {
                await turn.wait()
                if await !self.isStopping { await self.handle(update) }
                turn.leave()
                await self.finished(update.updateID)
            }
        }
    }

    private func finished(_ updateID: Int64) {
        running[updateID] = nil
        backlog -= 1
    }

    /// Queues what a previous run kept in the inbox and did not handle (once); returns when
    /// they are queued, so that newer updates go behind them.
    func submitLeftovers() async {
        if leftovers == nil {
            leftovers = Task {
                do {
                    try await self.queuePending(receivedBefore: nil)
                } catch {
                    self.logger.error("could not read the Telegram inbox", metadata: ["error": "\(error)"])
                }
            }
        }
        await leftovers?.value
    }

    /// A new poller's first step (a server's start, or a new leader among the servers of
    /// a shared database): queues what the inbox holds that no task here handles yet, which
    /// includes what a previous leader kept and did not handle before it died. An update
    /// another server handled meanwhile is recognised by its key and skipped. Throws when
    /// the inbox cannot be read: the poller must not poll past what it holds.
    func takeOverPending() async throws {
        guard !stopping else { return }
        await submitLeftovers()
        try await queuePending(receivedBefore: nil)
    }

    /// Handles what the inbox has held since before `date`: in webhook mode on a shared
    /// database, the updates an instance stored and died before handling (Telegram was
    /// answered 200 and will not send them again). Handling one twice is harmless: its key
    /// makes the second a skip.
    func takeOverStale(receivedBefore date: Date) async throws {
        guard !stopping else { return }
        try await queuePending(receivedBefore: date)
    }

    private func queuePending(receivedBefore: Date?) async throws {
        let rows = try await inbox.pending(receivedBefore: receivedBefore)
        let decoder = JSONDecoder()
        var updates: [TelegramUpdate] = []
        for row in rows {
            do {
                updates.append(try decoder.decode(TelegramUpdate.self, from: Data(row.body.utf8)))
            } catch {
                logger.error("an update in the inbox cannot be read", metadata: ["update_id": "\(row.updateID)", "error": "\(error)"])
                try? await inbox.markFailed(row.updateID, error: "cannot be read: \(error)")
            }
        }
        enqueue(updates)
    }

    /// Returns once fewer than `maxBacklog` updates wait (or the caller is cancelled).
    func waitForRoom() async {
        while backlog >= Self.maxBacklog && !stopping && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    var isStopping: Bool { stopping }

    /// Shutdown: updates under way finish; those not started stay in the inbox for the
    /// next start.
    func finish() async {
        stopping = true
        for task in running.values { await task.value }
    }

    /// Off the actor: the handler and the inbox's writes must not hold up other chats.
    private nonisolated func handle(_ update: TelegramUpdate) async {
        for attempt in 1...Self.maxAttempts {
            do {
                try await handleUpdate(update)
                do { try await inbox.remove(update.updateID) } catch {
                    // Harmless: the update is marked handled, so the next start skips it.
                    logger.warning("could not remove a handled update from the inbox", metadata: ["update_id": "\(update.updateID)", "error": "\(error)"])
                }
                return
            } catch {
                logger.error("could not handle a Telegram update", metadata: ["update_id": "\(update.updateID)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt == Self.maxAttempts {
                    try? await inbox.markFailed(update.updateID, error: "\(error)")
                    return
                }
                try? await Task.sleep(for: retryDelay * (1 << (attempt - 1)))
                // Left pending in the inbox: the next start tries it again.
                if await isStopping { return }
            }
        }
    }
}

/// Runs the dispatcher for the server's lifetime: the inbox's leftovers first; on
/// shutdown, updates under way finish and the rest wait in the inbox for the next start.
struct TelegramDispatcherService: Service {
    let dispatcher: TelegramDispatcher

    func run() async throws {
        await dispatcher.submitLeftovers()
        try? await gracefulShutdown()
        await dispatcher.finish()
    }
}

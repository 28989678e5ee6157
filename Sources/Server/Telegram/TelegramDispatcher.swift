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
///
/// On a database shared by several servers (`lanes`), a chat's updates are not ordered in
/// memory but in the database: the server that claims the chat's lane reads its pending
/// updates in update order and handles them one at a time, whichever server stored them
/// (webhook mode spreads a chat's updates over the servers). A server that finds the lane
/// taken leaves its update to the holder, which looks again after giving the lane up.
actor TelegramDispatcher {
    /// Handles one update (the server's is `TelegramUpdateHandler.handle`).
    private let handleUpdate: @Sendable (TelegramUpdate) async throws -> Void
    private let inbox: any TelegramInbox
    private let logger: Logger
    private let retryDelay: Duration
    /// The chats' lanes across the servers of a shared database; nil for a server alone.
    private let lanes: (any TelegramChatLanes)?

    /// Each chat's updates, in the order they were queued.
    private let chats = OrderedLanes<Int64>()
    /// Updates queued or under way, by id: the same update is queued once, however often
    /// it comes (a webhook redelivery, or a batch the poller kept just before the
    /// leftovers were read).
    private var running: [Int64: Task<Void, Never>] = [:]
    private var stopping = false
    /// Queues the inbox's leftovers, once: they go first, before anything newer.
    private var leftovers: Task<Void, Never>?
    /// Updates submitted and not yet handled, across chats (with `lanes`: updates read from
    /// the lanes this server holds and not yet handled; `waitForRoom` counts the inbox's).
    private(set) var backlog = 0
    /// With `lanes`: the chats whose lane a task of this server works, each with how often
    /// it was asked to since it began. A task that finds the count changed when it is done
    /// looks again, so an update submitted while it finished is not left behind.
    private var draining: [Int64: Int] = [:]
    private var drains: [Int64: Task<Void, Never>] = [:]

    static let maxAttempts = 8
    /// The poller waits before asking for more while this many updates wait to be handled.
    static let maxBacklog = 1_000

    init(
        inbox: any TelegramInbox, lanes: (any TelegramChatLanes)? = nil, logger: Logger, retryDelay: Duration = .seconds(1),
        handle: @escaping @Sendable (TelegramUpdate) async throws -> Void
    ) {
        self.handleUpdate = handle
        self.inbox = inbox
        self.lanes = lanes
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
        if let lanes {
            for chat in updates.map(Self.chat) { workLane(of: chat, lanes: lanes) }
            return
        }
        for update in updates where running[update.updateID] == nil {
            // The place in the chat's line is taken now, in the order updates arrive.
            let turn = chats.enter(Self.chat(update))
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
        if let lanes {
            for chat in try await lanes.chatsWithPending(receivedBefore: receivedBefore) { workLane(of: chat, lanes: lanes) }
            return
        }
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

    /// Returns once fewer than `maxBacklog` updates wait (or the caller is cancelled): with
    /// `lanes`, the updates every server has kept and not handled (a lane is read a page at
    /// a time, so this server's own count would not see a long one).
    func waitForRoom() async {
        if let lanes {
            while !stopping && !Task.isCancelled, ((try? await lanes.pendingCount()) ?? 0) >= Self.maxBacklog {
                try? await Task.sleep(for: .milliseconds(200))
            }
            return
        }
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
        for task in drains.values { await task.value }
        await lanes?.close()
    }

    /// The chat an update is queued under: its message's chat, 0 for an update without one
    /// (migration 6's `replyflow_update_chat` reads the same from a kept body).
    static func chat(_ update: TelegramUpdate) -> Int64 {
        update.message?.chat.id ?? 0
    }

    // MARK: Lanes shared with other servers

    /// Has a task of this server work the chat's lane, unless one does already (it is told
    /// to look again once done).
    private func workLane(of chat: Int64, lanes: any TelegramChatLanes) {
        guard !stopping else { return }
        if let asked = draining[chat] {
            draining[chat] = asked + 1
            return
        }
        draining[chat] = 0
        drains[chat] = Task { await self.drain(chat, lanes: lanes) }
    }

    private func timesAsked(_ chat: Int64) -> Int { draining[chat] ?? 0 }

    /// Ends the chat's task unless it was asked again since `asked`.
    private func endDrain(_ chat: Int64, asked: Int) -> Bool {
        guard stopping || draining[chat] == asked else { return false }
        draining[chat] = nil
        drains[chat] = nil
        return true
    }

    private func adjustBacklog(_ change: Int) { backlog += change }

    private nonisolated func drain(_ chat: Int64, lanes: any TelegramChatLanes) async {
        var failures = 0
        while true {
            let asked = await timesAsked(chat)
            do {
                try await workWhileWaiting(chat, lanes: lanes)
                failures = 0
            } catch {
                // The database did not answer: tried again a few times with a doubling wait;
                // after that what is left stays pending for the leader's sweep of old
                // updates (`StaleInboxSweeper`) or the chat's next update.
                failures += 1
                logger.warning(
                    "could not work a Telegram chat's updates", metadata: ["chat": "\(chat)", "attempt": "\(failures)", "error": "\(error)"])
                if failures < Self.laneAttempts, await !isStopping {
                    try? await Task.sleep(for: retryDelay * (1 << (failures - 1)))
                    continue
                }
                failures = 0
            }
            if await endDrain(chat, asked: asked) { return }
        }
    }

    /// Tries of a lane whose database reads fail, before it is left to the sweep.
    static let laneAttempts = 5

    /// Claims the chat's lane and handles its pending updates in order, gives the lane up,
    /// and does it again while updates wait: another server that stored one while this one
    /// held the lane found it taken and left the update to this one. Returns when the lane
    /// is empty or another server holds it.
    private nonisolated func workWhileWaiting(_ chat: Int64, lanes: any TelegramChatLanes) async throws {
        // Handled here already: a row whose removal failed is not handled again and again.
        var handled: Set<Int64> = []
        while await !isStopping, try await lanes.tryClaim(chat) {
            do {
                try await workClaimed(chat, lanes: lanes, handled: &handled)
            } catch {
                await lanes.release(chat)
                throw error
            }
            await lanes.release(chat)
            let waiting = try await lanes.pending(chat: chat, limit: Self.lanePage).contains { !handled.contains($0.updateID) }
            if !waiting { return }
        }
    }

    /// Updates read from a lane at a time.
    static let lanePage = 100

    private nonisolated func workClaimed(_ chat: Int64, lanes: any TelegramChatLanes, handled: inout Set<Int64>) async throws {
        let decoder = JSONDecoder()
        while await !isStopping, await lanes.holds(chat) {
            let rows = try await lanes.pending(chat: chat, limit: Self.lanePage).filter { !handled.contains($0.updateID) }
            if rows.isEmpty { return }
            await adjustBacklog(rows.count)
            var left = rows.count
            for row in rows {
                // A lost claim (its connection gone) may be another server's now: stop.
                guard await !isStopping, await lanes.holds(chat) else { break }
                handled.insert(row.updateID)
                do {
                    await handle(try decoder.decode(TelegramUpdate.self, from: Data(row.body.utf8)))
                } catch {
                    logger.error("an update in the inbox cannot be read", metadata: ["update_id": "\(row.updateID)", "error": "\(error)"])
                    try? await inbox.markFailed(row.updateID, error: "cannot be read: \(error)")
                }
                left -= 1
                await adjustBacklog(-1)
            }
            await adjustBacklog(-left)
        }
    }

    // MARK: Handling

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

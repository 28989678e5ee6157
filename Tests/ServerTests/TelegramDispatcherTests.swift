import Channels
import Foundation
import Logging
import Storage
import Synchronization
import Testing

@testable import Server
import TestSupport

/// The dispatcher behind long polling and the webhook: chats side by side, each chat in
/// order, the inbox's leftovers first, failures retried and then kept, not lost.
@Suite("Telegram dispatcher", .timeLimit(.minutes(5)), .machineShare)
struct TelegramDispatcherTests {
    private func update(_ id: Int64, chat: Int64) -> TelegramUpdate {
        let json =
            #"{"update_id": \#(id), "message": {"message_id": \#(id), "date": 1767261600, "chat": {"id": \#(chat), "type": "private"}, "text": "m\#(id)"}}"#
        return try! JSONDecoder().decode(TelegramUpdate.self, from: Data(json.utf8))
    }

    private func body(_ update: TelegramUpdate) -> String {
        String(decoding: try! JSONEncoder().encode(update), as: UTF8.self)
    }

    private func kept(_ update: TelegramUpdate) -> KeptUpdate {
        KeptUpdate(updateID: update.updateID, chatID: TelegramDispatcher.chat(update), body: body(update))
    }

    private func scratchInbox() throws -> (SQLiteTelegramInbox, ReplyflowDatabase) {
        let database = try ReplyflowDatabase()
        return (SQLiteTelegramInbox(database: database), database)
    }

    private func status(_ database: ReplyflowDatabase, _ id: Int64) throws -> String? {
        try database.writer.read { try String.fetchOne($0, sql: "SELECT status FROM telegram_inbox WHERE update_id = ?", arguments: [id]) }
    }

    /// Generous: the whole suite runs beside these tests on two cores, and CPU-bound tests
    /// can hold the cooperative threads for seconds.
    private func waitUntil(_ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("leftovers go before newer updates of their chat; handled updates leave the inbox")
    func leftoversFirstThenRemoved() async throws {
        let (inbox, database) = try scratchInbox()
        let leftover = update(1, chat: 10)
        try await inbox.add([kept(leftover)], at: Date())
        let handled = Mutex<[Int64]>([])
        let dispatcher = TelegramDispatcher(inbox: inbox, logger: Logger(label: "test")) { update in
            handled.withLock { $0.append(update.updateID) }
        }
        // A newer update of the same chat is submitted before anyone asked for leftovers.
        let newer = update(2, chat: 10)
        try await inbox.add([kept(newer)], at: Date())
        await dispatcher.submit([newer])
        try await waitUntil { handled.withLock { $0.count } == 2 }
        #expect(handled.withLock { $0 } == [1, 2])
        try await waitUntil { try await inbox.pending().isEmpty }
        #expect(try status(database, 1) == nil)
    }

    @Test("a slow chat does not hold up another; each chat keeps its order")
    func chatsSideBySideInOrder() async throws {
        let (inbox, _) = try scratchInbox()
        let handled = Mutex<[Int64]>([])
        let dispatcher = TelegramDispatcher(inbox: inbox, logger: Logger(label: "test")) { update in
            // Chat 10's first update waits until chat 20 has had both of its handled:
            // handling chats one after another would never get there.
            if update.updateID == 1 {
                let deadline = ContinuousClock.now + .seconds(60)
                while handled.withLock({ !$0.contains(4) }) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            handled.withLock { $0.append(update.updateID) }
        }
        await dispatcher.submit([update(1, chat: 10), update(2, chat: 20), update(3, chat: 10), update(4, chat: 20)])
        try await waitUntil { handled.withLock { $0.count } == 4 }
        #expect(handled.withLock { $0 } == [2, 4, 1, 3], "chat 20 went on while chat 10 waited, each chat in order")
    }

    @Test("an update that keeps failing is tried maxAttempts times, then kept marked failed; the chat goes on")
    func failuresAreRetriedThenKept() async throws {
        let (inbox, database) = try scratchInbox()
        let attempts = Mutex(0)
        let handled = Mutex<[Int64]>([])
        let dispatcher = TelegramDispatcher(inbox: inbox, logger: Logger(label: "test"), retryDelay: .milliseconds(1)) { update in
            if update.updateID == 1 {
                attempts.withLock { $0 += 1 }
                throw CancellationError()
            }
            handled.withLock { $0.append(update.updateID) }
        }
        let updates = [update(1, chat: 10), update(2, chat: 10)]
        try await inbox.add(updates.map(kept), at: Date())
        await dispatcher.submit(updates)
        try await waitUntil { handled.withLock { $0 } == [2] }
        #expect(attempts.withLock { $0 } == TelegramDispatcher.maxAttempts)
        #expect(try status(database, 1) == "failed")
        #expect(try await inbox.pending().isEmpty, "a failed update is not handed out again")
    }

    @Test("on shutdown a failing update stops being retried and stays pending for the next start")
    func shutdownLeavesPending() async throws {
        let (inbox, database) = try scratchInbox()
        let dispatcher = TelegramDispatcher(inbox: inbox, logger: Logger(label: "test"), retryDelay: .milliseconds(200)) { _ in
            throw CancellationError()
        }
        let failing = update(5, chat: 10)
        try await inbox.add([kept(failing)], at: Date())
        await dispatcher.submit([failing, update(6, chat: 10)])
        try await Task.sleep(for: .milliseconds(50))
        await dispatcher.finish()
        #expect(try status(database, 5) == "pending")
    }
}

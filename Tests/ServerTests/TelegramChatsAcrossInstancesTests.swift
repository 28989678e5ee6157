import Channels
import Foundation
import Logging
import PostgresStorage
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Server

/// Webhook mode behind a load balancer: a chat's updates reach the instances in turn, and
/// each instance's dispatcher works the chat only while it holds the chat's lane, so the
/// chat's updates are handled one at a time, in update order, each once.
@Suite(
    "Telegram chats across instances", .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct TelegramChatsAcrossInstancesTests {
    private let logger = ServerHarness.quietLogger

    private func update(_ id: Int64, chat: Int64) -> (TelegramUpdate, String) {
        let json =
            #"{"update_id": \#(id), "message": {"message_id": \#(id), "date": 1767261600, "chat": {"id": \#(chat), "type": "private"}, "text": "m\#(id)"}}"#
        return (try! JSONDecoder().decode(TelegramUpdate.self, from: Data(json.utf8)), json)
    }

    /// What the handlers of both instances saw.
    private final class Handled: Sendable {
        private let state = Mutex<(order: [Int64: [Int64]], busy: [Int64: Int], overlaps: Int, by: [String: Int])>(([:], [:], 0, [:]))

        func handler(_ instance: String) -> @Sendable (TelegramUpdate) async throws -> Void {
            { update in
                let chat = update.message?.chat.id ?? 0
                self.state.withLock { state in
                    if state.busy[chat, default: 0] > 0 { state.overlaps += 1 }
                    state.busy[chat, default: 0] += 1
                    state.by[instance, default: 0] += 1
                }
                // Long enough for the other instance's next update of the chat to arrive.
                try? await Task.sleep(for: .milliseconds(20))
                self.state.withLock { state in
                    state.busy[chat, default: 0] -= 1
                    state.order[chat, default: []].append(update.updateID)
                }
            }
        }

        var order: [Int64: [Int64]] { state.withLock { $0.order } }
        var overlaps: Int { state.withLock { $0.overlaps } }
        var count: Int { state.withLock { $0.order.values.reduce(0) { $0 + $1.count } } }
    }

    private func waitUntil(_ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("updates of two chats, each sent to the two instances in turn: per chat one at a time, in update order, each once")
    func chatsInOrderAcrossInstances() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let handled = Handled()
        try await ReplyflowPostgres.withDatabase(url, logger: logger) { first in
            try await first.migrate()
            try await ReplyflowPostgres.withDatabase(url, logger: logger) { second in
                let instances = try [(first, "a"), (second, "b")].map { database, name in
                    let inbox = PostgresTelegramInbox(database)
                    let dispatcher = TelegramDispatcher(
                        inbox: inbox, lanes: try PostgresTelegramChatLanes(database), logger: logger, handle: handled.handler(name))
                    return (inbox, dispatcher)
                }
                // As the webhook does: kept in the inbox, then submitted, on the instance
                // the load balancer picked; the chats' updates interleave.
                let updates = (1...40).map { id in update(Int64(id), chat: id % 3 == 0 ? 2 : 1) }
                for (index, (update, body)) in updates.enumerated() {
                    let (inbox, dispatcher) = instances[index % 2]
                    try await inbox.add([KeptUpdate(updateID: update.updateID, chatID: TelegramDispatcher.chat(update), body: body)], at: Date())
                    await dispatcher.submit([update])
                }
                try await waitUntil { handled.count == updates.count }
                try await waitUntil { try await instances[0].0.pending().isEmpty }
                for (_, dispatcher) in instances { await dispatcher.finish() }
            }
        }
        let order = handled.order
        #expect(order[1] == (1...40).filter { $0 % 3 != 0 }.map(Int64.init), "chat 1 out of order or repeated: \(order[1] ?? [])")
        #expect(order[2] == (1...40).filter { $0 % 3 == 0 }.map(Int64.init), "chat 2 out of order or repeated: \(order[2] ?? [])")
        #expect(handled.overlaps == 0, "two updates of one chat were handled at once")
    }

    @Test("what an instance kept and did not handle is taken over by another, chat by chat, in order")
    func takeOverKeptUpdates() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let handled = Handled()
        try await ReplyflowPostgres.withDatabase(url, logger: logger) { database in
            try await database.migrate()
            let inbox = PostgresTelegramInbox(database)
            // Kept by an instance that died before handling them.
            try await inbox.add([5, 3, 4, 1, 2].map { id in KeptUpdate(updateID: id, chatID: id % 2, body: update(id, chat: id % 2).1) }, at: Date(timeIntervalSince1970: 0))
            let survivor = TelegramDispatcher(inbox: inbox, lanes: try PostgresTelegramChatLanes(database), logger: logger, handle: handled.handler("b"))
            try await survivor.takeOverStale(receivedBefore: Date())
            try await waitUntil { handled.count == 5 }
            try await waitUntil { try await inbox.pending().isEmpty }
            await survivor.finish()
        }
        #expect(handled.order == [1: [1, 3, 5], 0: [2, 4]])
    }
}

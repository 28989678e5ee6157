import Foundation
import Logging
import PostgresNIO
import Storage
import TestSupport
import Testing

@testable import PostgresStorage

/// The Telegram inbox by chat on PostgreSQL (migration 6): every kept update names its
/// chat, a chat's pending updates are read in update order, and a chat's lane is held by
/// one instance at a time.
@Suite(
    "Telegram chats as lanes on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresTelegramChatLanesTests {
    private let logger = PostgresTestDatabase.logger

    private func update(_ id: Int64, chat: Int64) -> String {
        #"{"update_id": \#(id), "message": {"message_id": \#(id), "date": 1767261600, "chat": {"id": \#(chat), "type": "private"}, "text": "m\#(id)"}}"#
    }

    private func kept(_ id: Int64, chat: Int64) -> KeptUpdate {
        KeptUpdate(updateID: id, chatID: chat, body: update(id, chat: chat))
    }

    private func chats(_ postgres: ReplyflowPostgres) async throws -> [Int64: Int64] {
        var chats: [Int64: Int64] = [:]
        for try await (id, chat) in try await postgres.client.query("SELECT update_id, chat_id FROM telegram_inbox", logger: logger).decode((Int64, Int64).self) {
            chats[id] = chat
        }
        return chats
    }

    @Test("updates kept before migration 6 get their chat from their body; 0 for one without a chat or not JSON")
    func migrationFillsChats() async throws {
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await PostgresMigrator.migrate(postgres.client, migrations: PostgresMigrations.all.filter { $0.version < 6 }, logger: logger)
            for (id, body) in [(Int64(1), update(1, chat: -100_123)), (2, #"{"update_id": 2}"#), (3, "not json {")] {
                _ = try await postgres.client.query(
                    "INSERT INTO telegram_inbox (update_id, body, received_at) VALUES (\(id), \(body), 0)", logger: logger
                ).collect()
            }
            try await postgres.migrate()
            #expect(try await chats(postgres) == [1: -100_123, 2: 0, 3: 0])
        }
    }

    @Test("a kept update keeps its chat; chats with pending updates come oldest first, a chat's updates in update order")
    func pendingByChat() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, _ in
            let inbox = PostgresTelegramInbox(first)
            let lanes = try PostgresTelegramChatLanes(first)
            let old = Date(timeIntervalSince1970: 1_000), new = Date(timeIntervalSince1970: 2_000)
            try await inbox.add([kept(12, chat: 7), kept(10, chat: 8)], at: old)
            try await inbox.add([kept(11, chat: 7), KeptUpdate(updateID: 13, chatID: 0, body: "{}"), kept(14, chat: 8)], at: new)
            #expect(try await chats(first) == [10: 8, 11: 7, 12: 7, 13: 0, 14: 8])
            #expect(try await lanes.chatsWithPending(receivedBefore: nil) == [8, 7, 0])
            #expect(try await lanes.chatsWithPending(receivedBefore: Date(timeIntervalSince1970: 1_500)) == [8, 7])
            #expect(try await lanes.pending(chat: 7, limit: 10).map(\.updateID) == [11, 12])
            #expect(try await lanes.pending(chat: 8, limit: 1).map(\.updateID) == [10])
            try await inbox.markFailed(11, error: "boom")
            try await inbox.remove(10)
            #expect(try await lanes.pending(chat: 7, limit: 10).map(\.updateID) == [12], "a failed update is no longer pending")
            #expect(try await lanes.chatsWithPending(receivedBefore: nil) == [7, 0, 8])
            await lanes.close()
        }
    }

    @Test("a chat's lane is held by one instance at a time; held, it is known held; released, the other claims it")
    func oneHolderPerChat() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, second in
            let a = try PostgresTelegramChatLanes(first), b = try PostgresTelegramChatLanes(second)
            #expect(try await a.tryClaim(7))
            #expect(await a.holds(7))
            #expect(try await !b.tryClaim(7))
            #expect(await !b.holds(7))
            #expect(try await b.tryClaim(8), "another chat is free")
            await a.release(7)
            #expect(await !a.holds(7))
            #expect(try await b.tryClaim(7))
            await a.close()
            await b.close()
        }
    }
}

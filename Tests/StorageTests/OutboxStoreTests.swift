import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

@Suite("OutboxStore: what a restart finds", .machineShare)
struct OutboxStoreTests {
    @Test("the parts a delivery already sent are kept with its row: after a restart it resumes after them")
    func partsSentSurviveARestart() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let id: Int64
        do {
            let database = try ReplyflowDatabase(path: path)
            var record = RunRecord()
            record.outbox = [
                OutboxDraft(kind: .telegramForward, lane: "group", payload: "{}", status: .pending, at: Date(timeIntervalSince1970: 1_795_600_000))
            ]
            id = try #require(try await database.commit(record)?.outbox.first?.id)
            let outbox = OutboxStore(database: database)
            #expect(try await outbox.pending().first?.partsSent == 0)
            #expect(try await outbox.pending().first?.partsPlan == nil)
            outbox.recordPartsSent(id: id, count: 2, plan: "3-abc")
            await outbox.written()
        }
        let reopened = OutboxStore(database: try ReplyflowDatabase(path: path))
        let pending = try await reopened.pending()
        #expect(pending.map(\.id) == [id])
        #expect(pending.first?.partsSent == 2)
        #expect(pending.first?.partsPlan == "3-abc")
    }

    @Test("an item names the message it sends; the id its channel gives it is noted on the message, and the /api read shows how it stands")
    func anItemNotesItsChannelsIDOnItsMessage() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let database = try ReplyflowDatabase(path: path)
        let at = Date(timeIntervalSince1970: 1_795_600_000)
        var record = RunRecord()
        record.messages = [
            StoredMessage(userID: "42", source: .telegram, direction: .user, text: "hi", at: at, platformMessageID: "7"),
            StoredMessage(userID: "42", source: .telegram, direction: .support, text: "hello", at: at),
        ]
        record.outbox = [OutboxDraft(kind: .telegramReply, lane: "telegram:42", payload: "{}", status: .pending, at: at, message: 1)]
        let receipt = try #require(try await database.commit(record))
        let item = try #require(receipt.outbox.first)
        #expect(item.messageID == receipt.messageIDs[1])
        let outbox = OutboxStore(database: database)
        #expect(try await outbox.pending().first?.messageID == receipt.messageIDs[1])

        let queries = SQLiteConversationQueries(database: database)
        let chat = try #require(try await queries.conversation(source: .telegram, platformChatID: "42"))
        var shown = try await queries.messages(of: chat, page: 1, perPage: 10).items
        #expect(shown.map(\.delivery) == [nil, .pending])
        #expect(shown.map(\.platformMessageID) == ["7", nil])

        outbox.recordChannelID("9001", ofMessage: receipt.messageIDs[1])
        outbox.markDelivered(id: item.id, attempts: 1, at: at)
        await outbox.written()
        shown = try await queries.messages(of: chat, page: 1, perPage: 10).items
        #expect(shown.map(\.delivery) == [nil, .delivered])
        #expect(shown.map(\.platformMessageID) == ["7", "9001"])
    }

    @Test("an item queued before items named their message still delivers after the upgrade")
    func anOlderItemNamesNoMessage() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let old = try DatabaseQueue(path: path)
            try ReplyflowDatabase.migrator.migrate(old, upTo: "v11: one message per photo")
            try await old.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, created_at, updated_at)
                        VALUES ('telegram.reply', 'telegram:42', '{"chat_id":42,"text":"hello"}', 'pending', 0, 100, 100, 100)
                        """)
            }
        }
        let pending = try await OutboxStore(database: try ReplyflowDatabase(path: path)).pending()
        #expect(pending.map(\.kind) == [.telegramReply])
        #expect(pending.first?.messageID == nil)
    }
}

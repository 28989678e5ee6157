import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// A run whose transaction fails (here: a trigger that aborts an insert, as a full disk
/// would) fails alone: nothing of it is stored, the caller hears it can try again, and an
/// input the server keeps (a Telegram update) is handled once the database takes writes.
@Suite("A commit that fails", .serialized, .machineShare)
struct CommitFailureTests {
    static let failingText = "this cannot be stored"

    static func failWrites(of text: String, in database: ReplyflowDatabase) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER test_failing_commit BEFORE INSERT ON messages WHEN NEW.text = '\(text)'
                    BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
                    """)
        }
    }

    static func allowWrites(in database: ReplyflowDatabase) async throws {
        try await database.writer.write { db in try db.execute(sql: "DROP TRIGGER test_failing_commit") }
    }

    static func count(_ table: String, in database: ReplyflowDatabase) async throws -> Int {
        try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    @Test func anAppMessageThatCannotBeStoredIsA503AndLeavesNothing() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await Self.failWrites(of: Self.failingText, in: app.database)
        try await app.application.test(.router) { client in
            let body = ByteBuffer(string: #"{"user_id": "c1", "user_name": "Anna", "message": "\#(Self.failingText)"}"#)
            let refused = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            #expect((refused.json["error"] as? String ?? refused.json["message"] as? String ?? "").contains("send it again"), "\(refused.json)")
            for table in ["messages", "users", "chats", "outbox", "run_traces"] {
                #expect(try await Self.count(table, in: app.database) == 0, "\(table) holds part of a run that failed")
            }
            await app.waitForDeliveries()
            #expect(ports.staffGroup.calls.isEmpty, "nothing of the failed run reached staff")

            try await Self.allowWrites(in: app.database)
            let accepted = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(accepted.status == .ok)
            #expect(try await Self.count("messages", in: app.database) == 1)
            #expect(try await Self.count("outbox", in: app.database) == 1)
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.count == 1)
            #expect(ports.staffGroup.messages.first?.plainText?.contains(Self.failingText) == true)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func aTelegramUpdateThatCannotBeStoredStaysInTheInboxAndIsHandledOnceLater() async throws {
        let databasePath = CapturedSetting()
        try await ChannelFakes.withServer(configure: { databasePath.value = $0.databasePath }) { fakes, _ in
            let database = try ReplyflowDatabase(path: databasePath.value)
            try await Self.failWrites(of: Self.failingText, in: database)
            let customer: Int64 = 555_000_222
            try await fakes.telegram.enqueueUpdate([
                "message": [
                    "message_id": 41, "date": .int(Int64(Date().timeIntervalSince1970)),
                    "chat": ["id": .int(customer), "type": "private", "first_name": "Ivan"],
                    "from": ["id": .int(customer), "is_bot": false, "first_name": "Ivan"],
                    "text": .string(Self.failingText),
                ]
            ])
            // The run asked the AI, then could not commit: nothing stored, nothing sent,
            // the update still waiting in the inbox.
            _ = try await waitFor { await fakes.openAI.requests().isEmpty ? nil : true }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.count("messages", in: database) == 0)
            #expect(try await Self.count("telegram_updates", in: database) == 0)
            #expect(try await Self.count("telegram_inbox", in: database) == 1)
            #expect(await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == customer }.isEmpty)

            try await Self.allowWrites(in: database)
            _ = try await waitFor(timeout: .seconds(20)) { try await Self.count("telegram_inbox", in: database) == 0 ? true : nil }
            // The answer is delivered from the outbox after the commit that emptied the inbox.
            let answers = try await waitFor {
                let answers = await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == customer }
                return answers.isEmpty ? nil : answers
            }
            #expect(answers.count == 1, "one answer, whatever the attempts")
            let stored = try await database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE text = ? AND direction = 'user'", arguments: [Self.failingText]) ?? 0
            }
            #expect(stored == 1)
        }
    }
}

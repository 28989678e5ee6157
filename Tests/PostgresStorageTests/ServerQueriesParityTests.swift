import Flows
import Foundation
import GRDB
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStorage
@testable import Storage

/// The server's reads and writes outside the runtime answer alike on both databases: the
/// same events, then the same script of calls, give the same transcript.
@Suite(
    "Server queries on both databases", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct ServerQueriesParityTests {
    private let logger = PostgresTestDatabase.logger
    private static let users = (0..<6).map { "u\($0)" } + ["nobody"]

    @Test("history, the /api's chats and messages, devices, topics, forwards and the Telegram inbox: the same answers on SQLite and PostgreSQL")
    func sameAnswers() async throws {
        var want: [String] = []
        try await DrivenPair.drive(seed: 11, count: 300) { sqlite, postgres in
            want = try await Self.transcript(
                SQLiteServerQueries(database: sqlite), SQLiteConversationQueries(database: sqlite), SQLiteTelegramInbox(database: sqlite))
            let got = try await Self.transcript(PostgresServerQueries(postgres), PostgresConversationQueries(postgres), PostgresTelegramInbox(postgres))
            #expect(got.count == want.count)
            for (index, (line, expected)) in zip(got, want).enumerated() where line != expected {
                Issue.record("call \(index): PostgreSQL \(line), SQLite \(expected)")
                break
            }
        }

        // The script reaches real data, so an answer that is always empty cannot pass.
        #expect(want.contains { $0.hasPrefix("history u0 50: ") && !$0.hasSuffix(": []") })
        #expect(want.contains { $0.hasPrefix("chats all 1x7: ") && $0.contains("total 1") })
        #expect(want.contains("register tok-b: 2"))
        #expect(want.contains { $0.hasPrefix("forward 1000: ") && $0.contains("u") })
        #expect(want.contains("inbox pending: [3, 5]"))
    }

    /// The same calls on either database, each answer as one line.
    private static func transcript(
        _ server: any ServerQueries, _ conversations: any ConversationQueries, _ inbox: any TelegramInbox
    ) async throws -> [String] {
        var lines: [String] = []
        func note(_ line: String) { lines.append(line) }

        for user in users {
            for limit in [50, 3] {
                note("history \(user) \(limit): \(try await server.history(userID: user, limit: limit).map { "\($0.id) \($0.direction) \($0.text) \($0.createdAt.timeIntervalSince1970)" })")
            }
        }

        for source in [nil, ChatSource.app, .telegram, .instagram] {
            let name = source?.rawValue ?? "all"
            let first = try await conversations.conversations(source: source, page: 1, perPage: 7)
            // Every page, the older half (read from the oldest end) included, and one past the end.
            for page in 1...(first.total / 7 + 2) {
                let (items, total) = try await conversations.conversations(source: source, page: page, perPage: 7)
                note("chats \(name) \(page)x7: total \(total) \(items.map(describe))")
            }
        }
        let all = try await conversations.conversations(source: nil, page: 1, perPage: 100).items
        for chat in all {
            let key = "\(chat.source.rawValue) \(chat.platformChatID)"
            note("chat \(key): \(try await conversations.conversation(id: chat.id).map(describe) ?? "none")")
            for page in 1...3 {
                let (items, total) = try await conversations.messages(of: chat, page: page, perPage: 5)
                note("messages \(key) \(page)x5: total \(total) \(items.map(describe))")
            }
            note("recent \(key): \(try await conversations.recentTexts(source: chat.source, platformChatID: chat.platformChatID, limit: 4).map { "\($0.incoming) \($0.text)" })")
        }
        note("chat 999999: \(try await conversations.conversation(id: 999_999).map(describe) ?? "none")")
        let wanted = all.reversed().map { (source: $0.source, platformChatID: $0.platformChatID) } + [(source: .app, platformChatID: "nobody")]
        note("chats of: \(try await conversations.conversations(of: wanted).map(describe))")

        // Devices: a new token, a second one, a reinstall on the same device, a token moving
        // to another user, a removal.
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        note("register tok-a: \(try await server.registerDevice(Device(token: "tok-a", userID: "u1", platform: "ios", deviceID: "d1"), at: at))")
        note("register tok-b: \(try await server.registerDevice(Device(token: "tok-b", userID: "u1", platform: "android", deviceID: nil), at: at + 1))")
        note("register tok-c: \(try await server.registerDevice(Device(token: "tok-c", userID: "u1", platform: nil, deviceID: "d1"), at: at + 2))")
        note("register tok-b to u2: \(try await server.registerDevice(Device(token: "tok-b", userID: "u2", platform: nil, deviceID: "d9"), at: at + 3))")
        for user in ["u1", "u2"] { note("devices \(user): \(try await server.devices(userID: user).map { "\($0)" })") }
        try await server.removeDevice(token: "tok-c")
        try await server.removeDevice(token: "never-registered")
        note("devices u1 after removal: \(try await server.devices(userID: "u1").map { "\($0)" })")

        // Forum topics: a user's topic, moved to a new thread, a thread taken over by another user.
        try await server.saveForumTopic(userID: "u1", threadID: 10, at: at)
        try await server.saveForumTopic(userID: "u1", threadID: 11, at: at)
        try await server.saveForumTopic(userID: "u2", threadID: 11, at: at)
        for user in ["u1", "u2"] { note("topic of \(user): \(String(describing: try await server.forumTopic(userID: user)))") }
        for thread: Int64 in [10, 11, 12] { note("user of topic \(thread): \(String(describing: try await server.user(forumTopic: thread)))") }

        for forward: Int64 in [1000, 1001, 1005, 5] {
            note("forward \(forward): \(String(describing: try await server.chatForGroupMessage(forward)))")
        }
        note("last update: \(String(describing: try await server.lastUpdateID()))")

        // The Telegram inbox: kept once, handled, failed, resumed after.
        note("inbox last, empty: \(String(describing: try await inbox.lastUpdateID()))")
        try await inbox.add([KeptUpdate(updateID: 3, chatID: 0, body: "{\"update_id\":3}"), KeptUpdate(updateID: 4, chatID: 0, body: "{\"update_id\":4}")], at: at)
        try await inbox.add(
            [KeptUpdate(updateID: 4, chatID: 0, body: "changed"), KeptUpdate(updateID: 5, chatID: 0, body: "{\"update_id\":5}"), KeptUpdate(updateID: 6, chatID: 0, body: "{}")],
            at: at)
        try await inbox.add([], at: at)
        try await inbox.remove(4)
        try await inbox.markFailed(6, error: "kept failing")
        note("inbox pending: \(try await inbox.pending().map(\.updateID))")
        note("inbox bodies: \(try await inbox.pending().map(\.body))")
        note("inbox last: \(String(describing: try await inbox.lastUpdateID()))")
        return lines
    }

    private static func describe(_ chat: Conversation) -> String {
        // Not the id: PostgreSQL's sequence skips the values its upserts drew.
        "\(chat.source.rawValue) \(chat.platformChatID) \(chat.name ?? "-") \(chat.updatedAt.timeIntervalSince1970) \(String(describing: chat.autoMode))"
    }

    private static func describe(_ message: ConversationMessage) -> String {
        "\(message.id) \(message.direction) \(message.text) \(message.media) \(message.photoURL ?? "-") \(message.createdAt.timeIntervalSince1970) "
            + "\(message.flow ?? "-") \(message.userName ?? "-") \(message.senderName ?? "-") \(message.platformMessageID ?? "-") "
            + "\(message.delivery?.rawValue ?? "-")"
    }
}

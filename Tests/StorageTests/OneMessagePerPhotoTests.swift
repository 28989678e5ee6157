import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

/// Migration v11 on a database written by the version before it: a message stored with
/// several photos kept only the first, the rest were named only by its staff-group forward.
@Suite("Migration v11: one message per photo", .machineShare)
struct OneMessagePerPhotoTests {
    /// A message row as v10 wrote it.
    private func message(
        _ db: Database, user: String, source: String = "app", direction: String = "user", text: String, at: Double, photo: String? = nil,
        platformID: String? = nil
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO messages (user_id, source, direction, text, media, created_at, photo_url, platform_message_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [user, source, direction, text, photo == nil ? "none" : "photo", at, photo, platformID])
    }

    /// A staff-group forward as v10 queued it (`ForwardPayload`, keys sorted).
    private func forward(_ db: Database, _ payload: String, at: Double, status: String = "delivered") throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, created_at, updated_at)
                VALUES ('telegram.forward', 'telegram:group', ?, ?, 1, ?, ?, ?)
                """, arguments: [payload, status, at, at, at])
    }

    /// The database file the version before v11 left: its schema, its rows.
    private func oldDatabase(at path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: path)
        try ReplyflowDatabase.migrator.migrate(old, upTo: "v10: markers keyed by period first")
        try old.write { db in
            try message(db, user: "5", text: "before", at: 100)
            try message(db, user: "5", text: "Смотрите фото", at: 101, photo: "/uploads/a.png")  // with x and y
            try message(db, user: "9", text: "another chat", at: 102, photo: "/uploads/o.png")  // one photo
            try message(db, user: "5", direction: "support", text: "answer", at: 103)
            try message(db, user: "5", text: "", at: 104, photo: "/uploads/b.png")  // with c, no text
            try message(db, user: "ig-1", source: "instagram", text: "две", at: 105, photo: "/uploads/i1.jpg", platformID: "brevo-7")
            try message(db, user: "5", text: "after", at: 106)
            try forward(db, #"{"photos":["/uploads/a.png","/uploads/x.png","/uploads/y.png"],"text":"Смотрите фото","user_id":"5"}"#, at: 101)
            // The same message forwarded by a second flow: split once.
            try forward(db, #"{"photos":["/uploads/a.png","/uploads/x.png","/uploads/y.png"],"text":"again","user_id":"5"}"#, at: 101)
            try forward(db, #"{"photos":["/uploads/o.png"],"text":"another chat","user_id":"9"}"#, at: 102)
            try forward(db, #"{"photos":["/uploads/b.png","/uploads/c.png"],"text":"","user_id":"5"}"#, at: 104, status: "recorded")
            try forward(db, #"{"photos":["/uploads/i1.jpg","/uploads/i2.jpg"],"source":"instagram","text":"две","user_id":"ig-1"}"#, at: 105)
            // A forward without photos, and one whose message is not there.
            try forward(db, #"{"photos":[],"text":"after","user_id":"5"}"#, at: 106)
            try forward(db, #"{"photos":["/uploads/gone.png","/uploads/z.png"],"text":"","user_id":"5"}"#, at: 99)
        }
    }

    @Test func messagesWithSeveralPhotosAreShownWholeInOrderAfterTheUpgrade() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(atPath: ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent) }
        try oldDatabase(at: path)

        let database = try ReplyflowDatabase(path: path)  // runs v11
        let history = try await SQLiteServerQueries(database: database).history(userID: "5", limit: 50)
        #expect(history.map(\.text) == ["before", "Смотрите фото", "", "", "answer", "", "", "after"])
        #expect(
            history.map(\.photoURL) == [
                nil, "/uploads/a.png", "/uploads/x.png", "/uploads/y.png", nil, "/uploads/b.png", "/uploads/c.png", nil,
            ])
        #expect(history.map(\.direction) == ["user", "user", "user", "user", "support", "user", "user", "user"])
        #expect(history[2].createdAt == history[1].createdAt)
        // The newest items are the limit's: photos count one each.
        let newest = try await SQLiteServerQueries(database: database).history(userID: "5", limit: 3)
        #expect(newest.map(\.photoURL) == ["/uploads/b.png", "/uploads/c.png", nil])

        // The /api: the Instagram message's second photo, with its channel's id.
        let queries = SQLiteConversationQueries(database: database)
        let instagram = try #require(try await queries.conversation(source: .instagram, platformChatID: "ig-1"))
        let (messages, total) = try await queries.messages(of: instagram, page: 1, perPage: 50)
        #expect(total == 2)
        #expect(messages.map(\.photoURL) == ["/uploads/i1.jpg", "/uploads/i2.jpg"])
        #expect(messages.map(\.text) == ["две", ""])
        #expect(messages.map(\.media) == ["photo", "photo"])
        #expect(messages.map(\.platformMessageID) == ["brevo-7", "brevo-7"])
        let other = try #require(try await queries.conversation(source: .app, platformChatID: "9"))
        #expect(try await queries.messages(of: other, page: 1, perPage: 50).items.map(\.text) == ["another chat"])

        // Ids stay in the stored order with no gaps, and what comes next is stored after them.
        try await database.writer.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM messages ORDER BY id")
            #expect(ids == Array(1...11))
            let order = try String.fetchAll(db, sql: "SELECT coalesce(photo_url, text) FROM messages ORDER BY id")
            #expect(
                order == [
                    "before", "/uploads/a.png", "/uploads/x.png", "/uploads/y.png", "/uploads/o.png", "answer", "/uploads/b.png", "/uploads/c.png",
                    "/uploads/i1.jpg", "/uploads/i2.jpg", "after",
                ])
            try db.execute(sql: "INSERT INTO messages (user_id, source, direction, text, media, created_at) VALUES ('5', 'app', 'user', 'new', 'none', 200)")
            #expect(db.lastInsertedRowID == 12)
            // Chats are counted as before.
            #expect(try Int.fetchOne(db, sql: "SELECT sum(total) FROM conversation_counts") == 3)
        }
    }

    @Test func aDatabaseWithoutSuchMessagesIsLeftAsItWas() throws {
        let queue = try DatabaseQueue()
        try ReplyflowDatabase.migrator.migrate(queue, upTo: "v10: markers keyed by period first")
        try queue.write { db in
            try message(db, user: "1", text: "one", at: 1, photo: "/uploads/one.png")
            try forward(db, #"{"photos":["/uploads/one.png"],"text":"one","user_id":"1"}"#, at: 1)
        }
        try ReplyflowDatabase.migrator.migrate(queue)
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, photo_url FROM messages")
            #expect(rows.map { $0["id"] as Int64 } == [1])
            #expect(rows.map { $0["photo_url"] as String } == ["/uploads/one.png"])
        }
    }
}

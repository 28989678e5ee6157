import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

@Suite("Retention: old rows deleted in small batches", .machineShare)
struct RetentionTests {
    let now = Date(timeIntervalSince1970: 1_767_261_600)
    let day = 86_400.0

    func fixture() throws -> (ReplyflowDatabase, String) {
        let directory = NSTemporaryDirectory() + "replyflow-retention-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/uploads", withIntermediateDirectories: true)
        let database = try ReplyflowDatabase(path: directory + "/state.sqlite")
        let old = now.timeIntervalSince1970 - 40 * day
        let recent = now.timeIntervalSince1970 - 1 * day
        try database.writer.write { db in
            func message(_ user: String, _ at: Double, photo: String? = nil) throws {
                try db.execute(
                    sql:
                        "INSERT INTO messages (user_id, source, direction, text, media, created_at, photo_url, author) VALUES (?, 'app', 'user', 'hi', 'none', ?, ?, 'customer')",
                    arguments: [user, at, photo])
            }
            // "old" has only old messages, one with a photo; "mixed" has both.
            try message("old", old, photo: "/uploads/oldphoto.jpg")
            try message("old", old + 1)
            try message("mixed", old + 2)
            try message("old", old + 3)
            try message("mixed", recent)
            for (at, status) in [(old, "delivered"), (old, "pending"), (old, "failed"), (recent, "delivered")] {
                try db.execute(
                    sql:
                        "INSERT INTO outbox (kind, lane, payload, status, next_attempt_at, created_at, updated_at) VALUES ('fcm.push', 'fcm:x', '{}', ?, ?, ?, ?)",
                    arguments: [status, at, at, at])
            }
            for at in [old, old + 1, old + 2, recent] {
                try db.execute(sql: "INSERT INTO run_traces (at, event_kind, user_id) VALUES (?, 'message', 'old')", arguments: [at])
            }
        }
        try Data("jpeg".utf8).write(to: URL(fileURLWithPath: directory + "/uploads/oldphoto.jpg"))
        return (database, directory)
    }

    @Test(
        "messages older than the cutoff go in batches, with their uploads, emptied conversations and finished deliveries; newer ones and pending deliveries stay"
    )
    func messages() async throws {
        let (database, directory) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cutoff = now.addingTimeInterval(-30 * day)
        var batches: [RetentionBatch] = []
        while true {
            let batch = try await database.deleteMessages(olderThan: cutoff, limit: 2, uploadsDirectory: directory + "/uploads")
            if batch.isEmpty { break }
            batches.append(batch)
            #expect(batch.messages <= 2 && batch.outboxItems <= 2)
        }
        #expect(batches.count == 2)
        #expect(batches.map(\.messages).reduce(0, +) == 4)
        #expect(batches.map(\.conversations).reduce(0, +) == 1)
        #expect(batches.map(\.outboxItems).reduce(0, +) == 2)
        #expect(batches.map(\.uploads).reduce(0, +) == 1)
        #expect(!FileManager.default.fileExists(atPath: directory + "/uploads/oldphoto.jpg"))
        try await database.writer.read { db throws in
            #expect(try String.fetchAll(db, sql: "SELECT user_id FROM messages") == ["mixed"])
            #expect(try String.fetchAll(db, sql: "SELECT platform_chat_id FROM conversations") == ["mixed"])
            #expect(try Int.fetchOne(db, sql: "SELECT total FROM conversation_counts WHERE source = 'app'") == 1)
            #expect(try String.fetchAll(db, sql: "SELECT status FROM outbox ORDER BY id") == ["pending", "delivered"])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM run_traces") == 4)
        }
    }

    @Test("traces older than the cutoff go in batches; newer ones stay")
    func traces() async throws {
        let (database, directory) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cutoff = now.addingTimeInterval(-30 * day)
        #expect(try await database.deleteTraces(olderThan: cutoff, limit: 2).traces == 2)
        #expect(try await database.deleteTraces(olderThan: cutoff, limit: 2).traces == 1)
        #expect(try await database.deleteTraces(olderThan: cutoff, limit: 2).isEmpty)
        try await database.writer.read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM run_traces") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") == 5)
        }
    }
}

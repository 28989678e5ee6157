import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

// A flush writes plain inserts several rows per statement. These tests hold it to what a
// row-by-row flush writes: every row, in order per table, and nothing held back from a
// write that may read or change the same table.

private let at = Date(timeIntervalSince1970: 1_795_600_000)

private func message(_ id: Int64) -> PendingWrite {
    .message(id: id, StoredMessage(userID: "u\(id % 7)", source: .app, direction: .user, text: "text \(id)", at: at.addingTimeInterval(Double(id))))
}

/// Runs `writes` as one flush does, in one transaction.
private func flush(_ writes: [PendingWrite], into database: ReplyflowDatabase) throws {
    try database.writer.write { db in
        var statements = PendingWrite.Statements(db)
        for write in writes { try write.execute(&statements) }
        try statements.writeHeldRows()
    }
}

@Suite("Multi-row inserts of a flush", .machineShare)
struct BatchedStatementsTests {
    @Test("full and part batches: every message lands once, with its own values", arguments: [1, 31, 32, 33, 70])
    func everyRowLands(count: Int) throws {
        let database = try ReplyflowDatabase()
        try flush((1...Int64(count)).map(message), into: database)
        let rows = try database.writer.read { db in try Row.fetchAll(db, sql: "SELECT id, user_id, text, created_at FROM messages ORDER BY id") }
        #expect(rows.count == count)
        for (index, row) in rows.enumerated() {
            let id = Int64(index + 1)
            #expect(row["id"] as Int64 == id)
            #expect(row["user_id"] as String == "u\(id % 7)")
            #expect(row["text"] as String == "text \(id)")
            #expect(row["created_at"] as Double == at.timeIntervalSince1970 + Double(id))
        }
    }

    @Test("a chat forward after a held forward of the same group message replaces it, as row by row")
    func forwardOrderWithinTable() throws {
        let database = try ReplyflowDatabase()
        try flush(
            [
                .forward(groupMessageID: 5, userID: "first", at: at),
                .chatForward(groupMessageID: 5, userID: "second", source: .telegram, at: at),
                .chatForward(groupMessageID: 6, userID: "first", source: .telegram, at: at),
                .forward(groupMessageID: 6, userID: "second", at: at),
            ], into: database)
        let owners = try database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT group_message_id, user_id, source FROM group_forwards ORDER BY group_message_id")
                .map { "\($0["group_message_id"] as Int64) \($0["user_id"] as String) \($0["source"] as String)" }
        }
        #expect(owners == ["5 second telegram", "6 second app"])
    }

    @Test("a custom write sees the rows queued before it")
    func customWriteSeesHeldRows() throws {
        let database = try ReplyflowDatabase()
        try flush(
            [
                message(1), message(2),
                .custom { db in try db.execute(sql: "UPDATE messages SET text = 'changed' WHERE id = 2") },
                message(3),
            ], into: database)
        let texts = try database.writer.read { db in try String.fetchAll(db, sql: "SELECT text FROM messages ORDER BY id") }
        #expect(texts == ["text 1", "changed", "text 3"])
    }

    @Test("a marker given twice in one flush is one row (INSERT OR IGNORE, many rows per statement)")
    func duplicateMarkersInOneStatement() throws {
        let database = try ReplyflowDatabase()
        try flush(
            [
                .marker(userID: "1", key: "k", period: "2026-11-20", at: at),
                .marker(userID: "1", key: "k", period: "2026-11-20", at: at.addingTimeInterval(5)),
            ] + (0..<40).map { .marker(userID: "\($0)", key: "k", period: "2026-11-21", at: at) }, into: database)
        let count = try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM markers") }
        #expect(count == 41)
        let first = try database.writer.read { db in try Double.fetchOne(db, sql: "SELECT created_at FROM markers WHERE period = '2026-11-20'") }
        #expect(first == at.timeIntervalSince1970)
    }

    @Test("the multi-row statement is the single-row one with more rows of values")
    func multiRowSQL() {
        #expect(StateStatement.insertMarker.sql(rows: 2) == StateSQL.insertMarker + ", (?, ?, ?, ?)")
        #expect(StateStatement.insertMessage.sql(rows: 1) == StateSQL.insertMessage)
    }
}

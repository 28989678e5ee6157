import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

@Suite("ReplyflowDatabase: connection settings", .machineShare)
struct ReplyflowDatabaseTests {
    @Test("a durable file maps pages for its readers only: a writer mapping it counted the file as resident memory")
    func onlyReadersMapTheFile() throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let database = try ReplyflowDatabase(path: path)
        let writerMapping = try database.writer.write { try Int.fetchOne($0, sql: "PRAGMA mmap_size") }
        let readerMapping = try database.writer.read { try Int.fetchOne($0, sql: "PRAGMA mmap_size") }
        #expect(writerMapping == 0)
        #expect(readerMapping == 268_435_456)
    }

    @Test("a scratch database keeps every row, but not what only the server's reads use")
    func scratchKeepsRowsNotServingIndexes() throws {
        let (database, directory) = try ReplyflowDatabase.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try BufferedStateStore(database: database)
        store.storeMessage(StoredMessage(userID: "42", source: .instagram, direction: .user, text: "hi", at: Date(timeIntervalSince1970: 1_795_600_000)))
        try store.finish()
        let (messages, conversations, messageIndexes) = try database.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE user_id = '42' AND text = 'hi'"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations"),
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL")
            )
        }
        #expect(messages == 1)
        #expect(conversations == 0)
        #expect(messageIndexes.isEmpty)
    }

    @Test(
        "a durable file is checkpointed off the writer: the writer's own threshold is only a backstop, and written pages reach the file without it",
        .timeLimit(.minutes(5)))
    func checkpointsComeFromTheCheckpointer() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let database = try ReplyflowDatabase(path: path)
        let threshold = try await database.writer.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") }
        #expect(threshold == WALCheckpointer.writerBackstopPages)

        // About 400 pages: far below the writer's threshold, so only the checkpointer can
        // copy them into the database file.
        let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        try await database.writer.write { db in
            for index in 0..<400 {
                try db.execute(
                    sql: "INSERT INTO markers (user_id, key, period, created_at) VALUES (?, 'k', ?, 0)",
                    arguments: ["user-\(index)", String(repeating: "p", count: 4000)])
            }
        }
        var grown = before
        for _ in 0..<100 where grown < before + 400 * 4096 {
            try await Task.sleep(for: .milliseconds(100))
            grown = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        }
        #expect(grown >= before + 400 * 4096, "the file grew from \(before) to \(grown) bytes")
    }

    @Test(
        "under writes that never pause, the log still starts again from its beginning: the checkpointer arranges restarts instead of letting it grow with every page written",
        .timeLimit(.minutes(5)))
    func logRestartsUnderSteadyWrites() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let database = try ReplyflowDatabase(path: path, durable: true, checkpointing: .init(interval: .milliseconds(5), restartPages: 200))
        // About 30,000 pages in small commits, back to back: the checkpointer never finds
        // the writer idle, so only the restart it arranges keeps the log short.
        let page = String(repeating: "p", count: 3_000)
        let started = Date()
        var index = 0
        while index < 6_000 || Date().timeIntervalSince(started) < 1 {
            let userID = "user-\(index)"
            try await database.writer.write { db in
                try db.execute(sql: "INSERT INTO markers (user_id, key, period, created_at) VALUES (?, 'k', ?, 0)", arguments: [userID, page])
            }
            index += 1
        }
        // The log's header counts its restarts (the checkpoint sequence number, bytes 12-15,
        // big-endian). How far the file grows before the first restart depends on how
        // often this machine lets the checkpointer run (a loaded machine saw 15,000 pages),
        // and a restart writes from the beginning without shrinking the file; that the
        // log restarts at all under writes that never pause is the checkpointer's doing.
        let header = try Data(contentsOf: URL(fileURLWithPath: path + "-wal")).prefix(16)
        let restarts = header.count == 16 ? header[12..<16].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(index >= 6_000)
        #expect(restarts >= 2, "the log restarted \(restarts) times in \(index) commits")
    }

    @Test("markers stored before they were keyed by period are all still found after the upgrade, and a day's markers are now next to each other")
    func markersSurviveTheirNewKey() throws {
        let queue = try DatabaseQueue()
        try ReplyflowDatabase.migrator.migrate(queue, upTo: "v9: parts sent per delivery")
        try queue.write { db in
            for (user, period) in [("7", "2026-11-01"), ("3", "2026-11-01"), ("7", "2026-11-02")] {
                try db.execute(sql: "INSERT INTO markers (user_id, key, period, created_at) VALUES (?, 'history_fetch', ?, 0)", arguments: [user, period])
            }
        }
        try ReplyflowDatabase.migrator.migrate(queue)
        try queue.read { db in
            for (user, period) in [("7", "2026-11-01"), ("3", "2026-11-01"), ("7", "2026-11-02")] {
                #expect(try Bool.fetchOne(db, sql: StateSQL.selectMarker, arguments: [user, "history_fetch", period]) == true)
            }
            #expect(try Bool.fetchOne(db, sql: StateSQL.selectMarker, arguments: ["3", "history_fetch", "2026-11-02"]) == nil)
            // The primary key's columns, in order: the period before the user.
            let key = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info('markers') WHERE pk > 0 ORDER BY pk").map { $0["name"] as String }
            #expect(key == ["key", "period", "user_id"])
        }
    }

    @Test("a restart that did not happen (a reader was still on the log) is asked for again only after another restart's worth of pages, not on every tick")
    func failedRestartsBackOff() {
        var policy = RestartPolicy(restartPages: 1_000)
        let due1 = policy.catchUpIsDue(after: (logPages: 900, copiedPages: 900))
        #expect(!due1)
        let due2 = policy.catchUpIsDue(after: (logPages: 1_200, copiedPages: 1_100))
        #expect(!due2, "a reader holds part of the log: nothing to restart yet")
        let due3 = policy.catchUpIsDue(after: (logPages: 1_200, copiedPages: 1_200))
        #expect(due3)
        policy.noteWriterStep(logPages: 1_250)
        // The log did not start again: it only grew.
        let due4 = policy.catchUpIsDue(after: (logPages: 1_400, copiedPages: 1_400))
        #expect(!due4)
        let due5 = policy.catchUpIsDue(after: (logPages: 2_200, copiedPages: 2_200))
        #expect(!due5)
        let due6 = policy.catchUpIsDue(after: (logPages: 2_300, copiedPages: 2_300))
        #expect(due6)
        policy.noteWriterStep(logPages: 2_310)
        // It started again: the next time it passes the limit, a restart is due at once.
        let due7 = policy.catchUpIsDue(after: (logPages: 300, copiedPages: 300))
        #expect(!due7)
        let due8 = policy.catchUpIsDue(after: (logPages: 1_100, copiedPages: 1_100))
        #expect(due8)
    }
}

import Flows
import Foundation
import GRDB
import Storage
import Testing

@Suite("ReplyflowDatabase: connection settings")
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
}

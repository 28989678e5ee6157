import Flows
import Foundation
import GRDB
import Storage
import Testing
import TestSupport

/// Paging of `GET /api/chats`: pages in the newer half are read from the newest end, pages
/// in the older half from the oldest end; both must give the same order and totals.
@Suite("Conversation pages", .machineShare)
struct ConversationQueriesTests {
    @Test(arguments: [1, 4, 5, 23, 50])
    func pagesTogetherAreEveryChatNewestFirst(perPage: Int) async throws {
        let path = temporaryDatabasePath()
        let database = try ReplyflowDatabase(path: path)
        let sources = ["app", "telegram", "instagram"]
        // 23 chats; two share a time, so the id decides between them.
        try await database.writer.write { db in
            for index in 0..<23 {
                try db.execute(
                    sql: "INSERT INTO messages (user_id, source, direction, text, media, created_at) VALUES (?, ?, 'user', 'hi', 'none', ?)",
                    arguments: ["chat-\(index)", sources[index % 3], Double(1_000 + (index == 7 ? 6 : index))])
            }
        }
        let queries = SQLiteConversationQueries(database: database)
        for source in [nil, .telegram] as [ChatSource?] {
            let expected = try await database.writer.read { db in
                try String.fetchAll(
                    db, sql: "SELECT platform_chat_id FROM conversations WHERE ?1 IS NULL OR source = ?1 ORDER BY updated_at DESC, id DESC",
                    arguments: [source?.rawValue])
            }
            var seen: [String] = []
            var page = 1
            while true {
                let (items, total) = try await queries.conversations(source: source, page: page, perPage: perPage)
                #expect(total == expected.count)
                if items.isEmpty { break }
                #expect(items.count <= perPage)
                seen += items.map(\.platformChatID)
                page += 1
            }
            #expect(seen == expected, "source \(source?.rawValue ?? "all"), perPage \(perPage)")
        }
        // A source with no chat yet: an empty page and a total of 0, not an error.
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM conversations WHERE source = 'instagram'; DELETE FROM conversation_counts WHERE source = 'instagram'")
        }
        let (none, total) = try await queries.conversations(source: .instagram, page: 1, perPage: 10)
        #expect(none.isEmpty && total == 0)
    }
}

import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

/// The inbox's read model: what the commit's trigger keeps per conversation (last message,
/// waiting, unread), the chat list's filters and keyset pages, a conversation's messages
/// with their delivery, and the runs behind a chat.
@Suite("Inbox queries", .machineShare)
struct InboxQueriesTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_600_000)

    func message(
        _ user: String, _ author: StoredMessage.Author, _ text: String, at seconds: Double, source: ChatSource = .telegram, senderName: String? = nil
    ) -> StoredMessage {
        StoredMessage(
            userID: user, source: source, direction: author == .customer ? .user : .support, text: text, at: Self.t0.addingTimeInterval(seconds),
            flow: author == .flow || author == .assistant ? "Auto" : nil, senderName: senderName, author: author)
    }

    /// Commits one message the way a run does, and returns its id.
    @discardableResult
    func commit(_ database: ReplyflowDatabase, _ message: StoredMessage, name: String? = nil, outbox: OutboxDraft? = nil) async throws -> Int64 {
        var record = RunRecord()
        if message.direction == .user { record.writes = [.noteUser(id: message.userID, name: name, at: message.at, inbound: true)] }
        record.messages = [message]
        if let outbox { record.outbox = [outbox] }
        let receipt = try #require(try await database.commit(record))
        return receipt.messageIDs[0]
    }

    func only(_ queries: InboxQueries, _ query: InboxQuery) async throws -> InboxChat {
        let page = try await queries.chats(query)
        #expect(page.items.count == 1)
        return try #require(page.items.first)
    }

    @Test func waitingIsClearedOnlyByStaffAndUnreadFollowsWhatStaffHaveSeen() async throws {
        let database = try ReplyflowDatabase()
        let queries = InboxQueries(database: database)
        let all = InboxQuery(autoModeDefault: true)

        let first = try await commit(database, message("7", .customer, "Where is my order?", at: 0), name: "Ivan")
        var chat = try await only(queries, all)
        #expect(chat.waitingSince == Self.t0)
        #expect(chat.unread)
        #expect(chat.name == "Ivan")
        #expect(chat.lastMessage?.id == first && chat.lastMessage?.author == .customer)
        #expect(try await queries.unreadCount() == 1)

        // The AI and a flow answer: the customer still waits for a person.
        try await commit(database, message("7", .assistant, "It is on its way", at: 1))
        try await commit(database, message("7", .flow, "Anything else?", at: 2))
        try await commit(database, message("7", .customer, "A person please", at: 3))
        chat = try await only(queries, all)
        #expect(chat.waitingSince == Self.t0, "the first unanswered message counts, not the latest")
        #expect(chat.lastMessage?.text == "A person please")

        // Staff answer: nobody waits; the next customer message starts a new wait.
        let staff = try await commit(database, message("7", .staff, "Hello, Anna here", at: 4, senderName: "Anna"))
        chat = try await only(queries, all)
        #expect(chat.waitingSince == nil)
        #expect(chat.lastMessage?.id == staff && chat.lastMessage?.author == .staff)
        #expect(chat.unread, "staff answering elsewhere is not staff reading it in the panel")
        try await queries.markRead(conversationID: chat.id, upTo: staff)
        #expect(try await queries.unreadCount() == 0)
        #expect(try await only(queries, all).unread == false)
        // Never backwards.
        try await queries.markRead(conversationID: chat.id, upTo: 1)
        #expect(try await queries.unreadCount() == 0)

        try await commit(database, message("7", .customer, "Thanks!", at: 10))
        chat = try await only(queries, all)
        #expect(chat.waitingSince == Self.t0.addingTimeInterval(10))
        #expect(chat.unread)
        // Never past the chat's newest message: a later one is still unread.
        try await queries.markRead(conversationID: chat.id, upTo: Int64.max)
        try await commit(database, message("7", .customer, "One more thing", at: 11))
        #expect(try await queries.unreadCount() == 1)

        await #expect(throws: InboxError.conversationNotFound(999)) { try await queries.markRead(conversationID: 999, upTo: 1) }
    }

    /// 30 chats on three channels: some answered by staff, some read, half in auto mode off.
    func seeded() async throws -> (ReplyflowDatabase, InboxQueries) {
        let database = try ReplyflowDatabase()
        let sources: [ChatSource] = [.app, .telegram, .instagram]
        for index in 0..<30 {
            let user = "user-\(index)", source = sources[index % 3]
            // Two chats share a time: the id decides between them.
            let at = Double(index == 5 ? 4 : index) * 10
            try await commit(database, message(user, .customer, "question \(index)", at: at, source: source), name: "Name \(index)")
            if index % 4 == 0 { try await commit(database, message(user, .staff, "answer \(index)", at: at + 1, source: source)) }
            if index % 2 == 0 {
                var record = RunRecord()
                record.writes = [.setAutoMode(source: source, userID: user, on: false, at: Self.t0)]
                _ = try await database.commit(record)
            }
        }
        let queries = InboxQueries(database: database)
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE conversations SET read_message_id = last_message_id WHERE platform_chat_id IN ('user-3', 'user-6', 'user-9')")
        }
        return (database, queries)
    }

    /// Every page of `query`, following the cursors.
    func allPages(_ queries: InboxQueries, _ query: InboxQuery) async throws -> [InboxChat] {
        var query = query
        var seen: [InboxChat] = []
        while true {
            let page = try await queries.chats(query)
            #expect(page.items.count <= query.limit)
            seen += page.items
            guard let next = page.next else { break }
            // The cursor goes through its URL form, as the browser will send it back.
            query.after = try InboxCursor(encoded: next.encoded)
        }
        return seen
    }

    @Test(arguments: [1, 7, 50])
    func keysetPagesListEveryChatOnceInOrder(limit: Int) async throws {
        let (database, queries) = try await seeded()
        let expected = try await database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT platform_chat_id FROM conversations ORDER BY updated_at DESC, id DESC")
        }
        #expect(try await allPages(queries, InboxQuery(autoModeDefault: true, limit: limit)).map(\.platformChatID) == expected)

        let waiting = try await database.writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT platform_chat_id FROM conversations WHERE waiting_since IS NOT NULL ORDER BY waiting_since, id")
        }
        #expect(waiting.count == 22, "the chats staff have not answered")
        let longest = try await allPages(queries, InboxQuery(sort: .longestWaiting, autoModeDefault: true, limit: limit))
        #expect(longest.map(\.platformChatID) == waiting)
        #expect(longest.first?.waitingSince == Self.t0.addingTimeInterval(10))
    }

    @Test func filtersAndSearch() async throws {
        let (_, queries) = try await seeded()
        func ids(_ query: InboxQuery) async throws -> Set<String> {
            Set(try await allPages(queries, query).map(\.platformChatID))
        }
        func users(_ indexes: some Sequence<Int>) -> Set<String> { Set(indexes.map { "user-\($0)" }) }

        #expect(try await ids(InboxQuery(source: .instagram, autoModeDefault: true)) == users(stride(from: 2, to: 30, by: 3)))
        #expect(try await ids(InboxQuery(autoMode: false, autoModeDefault: true)) == users(stride(from: 0, to: 30, by: 2)))
        // Chats with no stored mode follow the default.
        #expect(try await ids(InboxQuery(autoMode: true, autoModeDefault: true)) == users(stride(from: 1, to: 30, by: 2)))
        #expect(try await ids(InboxQuery(autoMode: true, autoModeDefault: false)).isEmpty)
        #expect(try await ids(InboxQuery(autoModeDefault: true, waitingOnly: true)) == users((0..<30).filter { $0 % 4 != 0 }))
        #expect(try await ids(InboxQuery(autoModeDefault: true, unreadOnly: true)) == users((0..<30).filter { ![3, 6, 9].contains($0) }))
        #expect(
            try await ids(InboxQuery(source: .app, autoMode: false, autoModeDefault: true, waitingOnly: true, unreadOnly: true))
                == users([18]), "app (every third), off (even), not answered by staff (not a multiple of 4), not read (6 was)")

        // Search: the name, the platform chat id, the text; LIKE's wildcards are literal.
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "Name 12")) == users([12]))
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "user-2")) == users([2] + Array(20..<30)))
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "answer 8")) == users([8]))
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "QUESTION 17")) == users([17]), "case-insensitive for ASCII")
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "%")).isEmpty)
        #expect(try await ids(InboxQuery(source: .telegram, autoModeDefault: true, search: "question 1")) == users([1, 10, 13, 16, 19]))
        #expect(try await ids(InboxQuery(autoModeDefault: true, search: "   ")).count == 30, "a blank search is no search")
        // The scan is bounded: only the newest messages are searched.
        var bounded = queries
        bounded.searchScanLimit = 5
        #expect(try await bounded.chats(InboxQuery(autoModeDefault: true, search: "question 0")).items.isEmpty)
    }

    @Test func cursorsAreURLSafeAndGarbageIsAClearError() async throws {
        let (_, queries) = try await seeded()
        let page = try await queries.chats(InboxQuery(autoModeDefault: true, limit: 3))
        let next = try #require(page.next)
        #expect(next.encoded.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
        #expect(try InboxCursor(encoded: next.encoded) == next)
        for garbage in ["", "x", "n.1.2.3", "q.0.1", "n.zz.1", "n.7ff0000000000000.1", "n.0.-1", "n.0.0"] {
            #expect(throws: InboxCursorError.self, "\(garbage)") { try InboxCursor(encoded: garbage) }
        }
        await #expect(throws: InboxCursorError.self) {
            try await queries.chats(InboxQuery(sort: .longestWaiting, autoModeDefault: true, after: next))
        }
        // Limits are clamped.
        #expect(try await queries.chats(InboxQuery(autoModeDefault: true, limit: 0)).items.count == 1)
        #expect(try await queries.chats(InboxQuery(autoModeDefault: true, limit: 10_000)).items.count == 30)
    }

    @Test func messagesPageOldestFirstWithAuthorsAndAFailedDelivery() async throws {
        let database = try ReplyflowDatabase()
        let queries = InboxQueries(database: database)
        var ids: [Int64] = []
        for index in 0..<5 { ids.append(try await commit(database, message("7", .customer, "m\(index)", at: Double(index)))) }
        let reply = try await commit(
            database, message("7", .staff, "Hello", at: 10, senderName: "Anna"),
            outbox: OutboxDraft(kind: .telegramReply, lane: "telegram:7", payload: "{}", status: .pending, at: Self.t0, message: 0))
        let item = try await database.writer.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM outbox WHERE message_id = ?", arguments: [reply]) }
        let itemID = try #require(item)
        let store = OutboxStore(database: database)
        store.markFailed(id: itemID, attempts: 1, error: "Bad Request: chat not found", at: Self.t0)
        await store.written()

        let chatID = try await only(queries, InboxQuery(autoModeDefault: true)).id
        let newest = try await queries.messages(of: chatID, before: nil, limit: 3)
        #expect(newest.map(\.text) == ["m3", "m4", "Hello"])
        let last = try #require(newest.last)
        #expect(last.author == .staff && last.senderName == "Anna" && last.direction == .support)
        #expect(last.delivery == InboxDelivery(itemID: itemID, status: .failed, lastError: "Bad Request: chat not found"))
        #expect(newest.first?.delivery == nil)
        let older = try await queries.messages(of: chatID, before: newest[0].id, limit: 3)
        #expect(older.map(\.text) == ["m0", "m1", "m2"])
        #expect(try await queries.messages(of: chatID, before: ids[0], limit: 3).isEmpty)
        await #expect(throws: InboxError.conversationNotFound(404)) { try await queries.messages(of: 404, before: nil, limit: 3) }

        // Retry: pending again at once, attempts from zero, the error kept until it is sent.
        let retried = try await store.retry(itemID: itemID, at: Self.t0.addingTimeInterval(60))
        #expect(retried.status == .pending && retried.attempts == 0 && retried.messageID == reply)
        #expect(retried.nextAttemptAt == Self.t0.addingTimeInterval(60))
        let shown = try await queries.messages(of: chatID, before: nil, limit: 1)
        #expect(shown.first?.delivery == InboxDelivery(itemID: itemID, status: .pending, lastError: "Bad Request: chat not found"))
        #expect(try await store.pending().map(\.id) == [itemID])
        await #expect(throws: OutboxRetryError.notFailed(itemID, status: .pending)) { try await store.retry(itemID: itemID) }
        await #expect(throws: OutboxRetryError.notFound(12345)) { try await store.retry(itemID: 12345) }
        store.markDelivered(id: itemID, attempts: 1, at: Self.t0)
        await store.written()
        #expect(try await queries.messages(of: chatID, before: nil, limit: 1).first?.delivery?.lastError == nil)
    }

    @Test func recentRunsGroupEachEventsFlows() async throws {
        let database = try ReplyflowDatabase()
        let queries = InboxQueries(database: database)
        for (index, flows) in [[("Greeting", FlowOutcome.Result.ran, nil as String?)], [], [("Greeting", .skipped, "once per user"), ("Auto", .ran, nil)]]
            .enumerated()
        {
            var record = RunRecord()
            let at = Self.t0.addingTimeInterval(Double(index))
            record.messages = [message("7", .customer, "m\(index)", at: Double(index))]
            var result = RunResult(trigger: .telegramMessage, note: flows.isEmpty ? "no flow listens to this trigger" : nil, userID: "7")
            result.flows = flows.map { FlowOutcome(name: $0.0, result: $0.1, reason: $0.2, variant: nil) }
            record.trace = RunRecord.Trace(result: result, kind: .telegramMessage, at: at)
            _ = try await database.commit(record)
            // Another chat's run between them, and the same user id on another channel.
            var other = RunRecord()
            other.trace = RunRecord.Trace(result: RunResult(trigger: .appMessage, userID: "7"), kind: .appMessage, at: at)
            _ = try await database.commit(other)
        }
        let chatID = try await only(queries, InboxQuery(autoModeDefault: true)).id
        let runs = try await queries.recentRuns(of: chatID, limit: 2)
        #expect(runs.count == 2)
        #expect(runs[0].flows.map(\.flow) == ["Greeting", "Auto"])
        #expect(runs[0].flows.map(\.result) == [.skipped, .ran])
        #expect(runs[0].flows[0].reason == "once per user")
        #expect(runs[0].trigger == .telegramMessage && runs[0].eventKind == .telegramMessage)
        #expect(runs[1].flows.isEmpty && runs[1].note == "no flow listens to this trigger")
        #expect(try await queries.recentRuns(of: chatID, limit: 10).count == 3)
    }

    @Test func theMigrationClassifiesOldMessagesAndFillsTheInboxState() throws {
        let path = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let queue = try DatabaseQueue(path: path)
            try ReplyflowDatabase.migrator.migrate(queue, upTo: "v12: outbox items name the message they send")
            try queue.write { db in
                let rows: [(String, String, String?, Double)] = [
                    ("a", "user", nil, 1), ("a", "support", "Greeting", 2), ("a", "support", nil, 3), ("a", "user", nil, 4), ("a", "user", nil, 5),
                    ("b", "user", nil, 1), ("b", "support", "Auto", 2),
                    ("c", "user", nil, 1), ("c", "support", nil, 2),
                ]
                for (user, direction, flow, at) in rows {
                    try db.execute(
                        sql: "INSERT INTO messages (user_id, source, direction, text, media, created_at, flow) VALUES (?, 'app', ?, 't', 'none', ?, ?)",
                        arguments: [user, direction, at, flow])
                }
            }
        }
        let database = try ReplyflowDatabase(path: path)
        let (authors, chats) = try database.writer.read { db in
            (
                try String.fetchAll(db, sql: "SELECT author FROM messages ORDER BY id"),
                try Row.fetchAll(
                    db, sql: "SELECT platform_chat_id, last_message_id, last_customer_message_id, waiting_since, read_message_id FROM conversations ORDER BY platform_chat_id")
            )
        }
        #expect(authors == ["customer", "flow", "staff", "customer", "customer", "customer", "flow", "customer", "staff"])
        #expect(chats.map { $0[1] as Int64 } == [5, 7, 9])
        #expect(chats.map { $0[2] as Int64 } == [5, 6, 8])
        #expect(chats.map { $0[3] as Double? } == [4, 1, nil], "since the first message after staff's last answer; a flow's is no answer")
        #expect(chats.map { $0[4] as Int64 } == [5, 7, 9], "what came before the panel counts as seen")
    }
}

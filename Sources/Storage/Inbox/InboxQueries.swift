import Flows
import Foundation
import GRDB

/// The inbox's reads (and its one write, what staff have seen): the chat list with its
/// filters and keyset pages, a conversation's messages, the unread count and the runs
/// behind a chat. Everything is read from what the commit's trigger keeps on
/// `conversations` (see `InboxSchema`), so a page reads only the chats it shows.
///
/// Async: a page takes milliseconds, which must not hold one of the threads every
/// request shares.
public struct InboxQueries: InboxReading {
    let writer: any DatabaseWriter
    /// How many of the newest messages a text search reads (see `chats`).
    public var searchScanLimit: Int

    /// 100,000 messages: about 45 ms of scanning on the benchmark machine.
    public static let defaultSearchScanLimit = 100_000

    public init(database: ReplyflowDatabase, searchScanLimit: Int = InboxQueries.defaultSearchScanLimit) {
        writer = database.writer
        self.searchScanLimit = searchScanLimit
    }

    // MARK: The chat list

    /// One page of chats in the query's order, with its filters, and the cursor of the next.
    ///
    /// A page walks the sort's index (activity; the partial index of waiting chats; of
    /// unread chats when only those are asked for) from the cursor on, and stops once it
    /// has its chats: a deep page costs what the first does.
    ///
    /// Search matches the customer's name and the platform chat id of every chat, and the
    /// text of the newest `searchScanLimit` messages: a bounded scan, not a full-text index,
    /// because an FTS5 index made every message's commit 2.4 times as slow (measured:
    /// `docs/benchmarks.md`, "Inbox queries"). Older messages are not searched. The query
    /// is `InboxChatListSQL`'s, shared with PostgreSQL.
    public func chats(_ query: InboxQuery) async throws -> InboxPage {
        let list = try InboxChatListSQL(query, searchScanLimit: searchScanLimit, dialect: .sqlite)
        let arguments = StatementArguments(
            list.arguments.map { argument -> (any DatabaseValueConvertible)? in
                switch argument {
                case .text(let text): text
                case .integer(let integer): integer
                case .real(let real): real
                }
            })
        let rows = try await writer.read { db in try Row.fetchAll(db, sql: list.sql, arguments: arguments) }
        return InboxPage(fetched: rows.map(Self.chat), limit: list.limit, sort: query.sort)
    }

    private static func chat(_ row: Row) -> InboxChat {
        let preview: InboxPreview? = (row[8] as Int64?).map { id in
            InboxPreview(
                id: id, text: row[9] ?? "", media: MediaKind(rawValue: row[10] ?? "") ?? .none,
                author: StoredMessage.Author(rawValue: row[11] ?? "") ?? .customer, at: Date(timeIntervalSince1970: row[12] ?? 0))
        }
        return InboxChat(
            id: row[0], source: ChatSource(rawValue: row[1]) ?? .app, platformChatID: row[2], name: row[3], lastMessage: preview,
            updatedAt: Date(timeIntervalSince1970: row[4]), autoMode: row[5], unread: row[6], waitingSince: (row[7] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    /// How many chats have a customer message staff have not seen (the tab title's count).
    /// Counts the partial index of unread chats: it holds only those.
    public func unreadCount() async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations WHERE last_customer_message_id > read_message_id") ?? 0
        }
    }

    /// Notes that staff have seen a chat up to `messageID` (team-wide). Never moves back,
    /// and never past the chat's newest message. Throws `InboxError.conversationNotFound`.
    public func markRead(conversationID: Int64, upTo messageID: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE conversations SET read_message_id = max(read_message_id, min(?, coalesce(last_message_id, 0)))
                    WHERE id = ?
                    """, arguments: [messageID, conversationID])
            if db.changesCount == 0 { throw InboxError.conversationNotFound(conversationID) }
        }
    }

    // MARK: The open conversation

    /// Where a message of the conversation keeps its voice or audio file (nil when it has
    /// none, or is not in that conversation).
    public func audioLocation(of messageID: Int64, in conversationID: Int64) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT m.audio_location FROM messages m JOIN conversations c ON c.source = m.source AND c.platform_chat_id = m.user_id
                    WHERE m.id = ? AND c.id = ?
                    """, arguments: [messageID, conversationID])
        }
    }

    /// A page of a conversation's messages: the newest `limit` (1...200) before `messageID`
    /// (the newest of all when nil), oldest first. Throws `InboxError.conversationNotFound`.
    public func messages(of conversationID: Int64, before messageID: Int64?, limit: Int) async throws -> [InboxMessage] {
        let limit = min(max(limit, 1), InboxQuery.maxLimit)
        return try await writer.read { db in
            guard let chat = try Row.fetchOne(db, sql: "SELECT source, platform_chat_id FROM conversations WHERE id = ?", arguments: [conversationID])
            else { throw InboxError.conversationNotFound(conversationID) }
            let source: String = chat[0], chatID: String = chat[1]
            // The newest outbox item of each message: a message is sent by one item.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.direction, m.author, m.sender_name, m.flow, m.text, m.media, m.photo_url, m.created_at,
                        o.id, o.status, o.last_error, m.transcript, m.audio_location
                    FROM messages m
                    LEFT JOIN outbox o ON o.id = (SELECT max(id) FROM outbox WHERE message_id = m.id)
                    WHERE m.user_id = ? AND m.source = ? AND m.id < ?
                    ORDER BY m.id DESC LIMIT ?
                    """, arguments: [chatID, source, messageID ?? Int64.max, limit])
            return rows.reversed().map { row in
                let delivery: InboxDelivery? = (row[9] as Int64?).map { itemID in
                    InboxDelivery(itemID: itemID, status: OutboxItem.Status(rawValue: row[10]) ?? .pending, lastError: row[11])
                }
                return InboxMessage(
                    id: row[0], direction: StoredMessage.Direction(rawValue: row[1]) ?? .user, author: StoredMessage.Author(rawValue: row[2]) ?? .customer,
                    senderName: row[3], flow: row[4], text: row[5], media: MediaKind(rawValue: row[6]) ?? .none, photoURL: row[7],
                    createdAt: Date(timeIntervalSince1970: row[8]), delivery: delivery, transcript: row[12],
                    audioLocation: row[13])
            }
        }
    }
}

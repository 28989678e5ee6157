import Foundation

/// The inbox's reads (and its one write, what staff have seen), on SQLite (`InboxQueries`)
/// or PostgreSQL (`PostgresInboxQueries`); both answer alike (`InboxParityTests`).
public protocol InboxReading: Sendable {
    /// One page of chats in the query's order, with its filters, and the cursor of the next.
    /// Throws `InboxCursorError` for a cursor of another sort.
    func chats(_ query: InboxQuery) async throws -> InboxPage
    /// How many chats have a customer message staff have not seen.
    func unreadCount() async throws -> Int
    /// Notes that staff have seen a chat up to `messageID` (team-wide). Never moves back,
    /// and never past the chat's newest message. Throws `InboxError.conversationNotFound`.
    func markRead(conversationID: Int64, upTo messageID: Int64) async throws
    /// Where a message of the conversation keeps its voice or audio file.
    func audioLocation(of messageID: Int64, in conversationID: Int64) async throws -> String?
    /// The newest `limit` (1...200) messages before `messageID` (the newest of all when
    /// nil), oldest first. Throws `InboxError.conversationNotFound`.
    func messages(of conversationID: Int64, before messageID: Int64?, limit: Int) async throws -> [InboxMessage]
    /// The newest `limit` (1...50) runs of the chat's channel and user, newest first, each
    /// with its flows in the order they were traced. Throws `InboxError.conversationNotFound`.
    func recentRuns(of conversationID: Int64, limit: Int) async throws -> [ChatRunTrace]
}

import Foundation

/// The Telegram inbox's chats as lanes shared by the servers of one database: a chat's
/// pending updates are handled by the one server that holds its lane, in update order.
///
/// With one server on its SQLite file there are none: the dispatcher orders each chat's
/// updates in memory. Behind a load balancer, in webhook mode, two updates of a chat can
/// reach two servers at once, and a new poller can take over while the old one still
/// handles a chat: the lane keeps both to one server, one update at a time.
public protocol TelegramChatLanes: Sendable {
    /// Claims the chat's lane unless another server holds it; true when this server holds
    /// it now (also when it already did). Throws when the database cannot be reached.
    func tryClaim(_ chat: Int64) async throws -> Bool
    /// Whether this server still holds the chat's lane: a claim is lost with the connection
    /// that held it, and the work on the lane must stop.
    func holds(_ chat: Int64) async -> Bool
    /// Gives the chat's lane up.
    func release(_ chat: Int64) async
    /// The chats with updates still to handle, the chat of the oldest first; with
    /// `receivedBefore`, only updates kept before that time count.
    func chatsWithPending(receivedBefore: Date?) async throws -> [Int64]
    /// How many updates wait to be handled, in every chat.
    func pendingCount() async throws -> Int
    /// The chat's updates still to handle, oldest first (at most `limit`).
    func pending(chat: Int64, limit: Int) async throws -> [(updateID: Int64, body: String)]
    /// Gives every lane up (a clean stop); claims after it fail.
    func close() async
}

import Foundation

/// Telegram updates received by long polling and not yet handled (`telegram_inbox`).
///
/// `getUpdates` confirms every update below its offset, and Telegram then forgets them.
/// Writing a batch here first lets the poller confirm it at once and ask for the next,
/// while the batch is handled chat by chat; after a crash the rows still here are handled
/// at the next start (the ids already handled are recognised and skipped).
public protocol TelegramInbox: Sendable {
    /// Keeps updates (raw JSON by update id, with the chat whose line each waits in:
    /// `TelegramDispatcher.chat`); one already kept is left as it is.
    func add(_ updates: [KeptUpdate], at: Date) async throws
    /// The updates still to handle, oldest first; with `receivedBefore`, only those kept
    /// before that time (ones no server has handled for a while).
    func pending(receivedBefore: Date?) async throws -> [(updateID: Int64, body: String)]
    /// The update was handled (or seen before): it leaves the inbox.
    func remove(_ updateID: Int64) async throws
    /// Handling kept failing: the row stays, marked, with its error, for someone to look at.
    func markFailed(_ updateID: Int64, error: String) async throws
    /// The highest update id kept here (handled or not), to resume polling after it.
    func lastUpdateID() async throws -> Int64?
}

/// An update as the inbox keeps it.
public struct KeptUpdate: Sendable, Equatable {
    public var updateID: Int64
    /// Its message's chat (0 for an update without one): on a shared database, the lane it
    /// is handled in (`TelegramChatLanes`).
    public var chatID: Int64
    /// The update's JSON.
    public var body: String

    public init(updateID: Int64, chatID: Int64, body: String) {
        self.updateID = updateID
        self.chatID = chatID
        self.body = body
    }
}

extension TelegramInbox {
    /// Every update still to handle, oldest first.
    public func pending() async throws -> [(updateID: Int64, body: String)] {
        try await pending(receivedBefore: nil)
    }
}

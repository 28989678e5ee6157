import Flows
import Foundation

/// A chat as the `/api` shows it: one conversation on one channel.
public struct Conversation: Sendable, Equatable {
    public var id: Int64
    public var source: ChatSource
    public var platformChatID: String
    public var name: String?
    public var updatedAt: Date
    /// Nil when never set: the configured default applies.
    public var autoMode: Bool?

    public init(id: Int64, source: ChatSource, platformChatID: String, name: String?, updatedAt: Date, autoMode: Bool?) {
        self.id = id
        self.source = source
        self.platformChatID = platformChatID
        self.name = name
        self.updatedAt = updatedAt
        self.autoMode = autoMode
    }
}

/// A message of a conversation, with what the `/api` shows of it.
public struct ConversationMessage: Sendable, Equatable {
    public var id: Int64
    public var source: ChatSource
    public var conversationID: Int64
    public var direction: String
    public var text: String
    public var media: String
    public var photoURL: String?
    public var createdAt: Date
    public var userID: String
    public var userName: String?
    /// The flow that sent it, for automatic messages.
    public var flow: String?
    /// Who sent it, when a sender named themselves (`senderName` of `POST /api/messages`).
    public var senderName: String?
    /// Its id on its channel (Telegram's `message_id`, Brevo's id): given by the channel
    /// for a message that came from one, noted once sent for one that went out on one.
    public var platformMessageID: String?
    /// How the outbox item that sends it on its channel stands; nil when no item sends it
    /// (incoming messages, the app's, replies stored before items named their message).
    public var delivery: OutboxItem.Status?

    public init(
        id: Int64, source: ChatSource, conversationID: Int64, direction: String, text: String, media: String, photoURL: String?,
        createdAt: Date, userID: String, userName: String?, flow: String?, senderName: String? = nil, platformMessageID: String? = nil,
        delivery: OutboxItem.Status? = nil
    ) {
        self.senderName = senderName
        self.platformMessageID = platformMessageID
        self.delivery = delivery
        self.id = id
        self.source = source
        self.conversationID = conversationID
        self.direction = direction
        self.text = text
        self.media = media
        self.photoURL = photoURL
        self.createdAt = createdAt
        self.userID = userID
        self.userName = userName
        self.flow = flow
    }
}

/// Reads for the `/api`, the live stream and the AI: chats newest activity first, a chat's
/// messages by page. `SQLiteConversationQueries` and `PostgresConversationQueries` answer
/// alike (the storage tests run both).
public protocol ConversationQueries: Sendable {
    /// One page of chats, newest activity first, optionally of one source, and how many
    /// there are.
    func conversations(source: ChatSource?, page: Int, perPage: Int) async throws -> (items: [Conversation], total: Int)
    func conversation(id: Int64) async throws -> Conversation?
    /// Several chats in one read (the live stream looks up every new chat of a batch of
    /// commits at once); chats that do not exist are left out.
    func conversations(of chats: [(source: ChatSource, platformChatID: String)]) async throws -> [Conversation]
    /// One page of a chat's messages: page 1 is the newest `perPage`, each page oldest first.
    func messages(of conversation: Conversation, page: Int, perPage: Int) async throws -> (items: [ConversationMessage], total: Int)
    /// A chat's latest messages with text, oldest first: the history an AI without memory
    /// of its own is sent. `incoming` is true for the customer's messages.
    func recentTexts(source: ChatSource, platformChatID: String, limit: Int) async throws -> [(incoming: Bool, text: String)]
}

/// Where one page of chats lies in the activity order, for both databases' page query:
/// `limit` rows after `skip`, read newest first, or (for a page in the older half) oldest
/// first, so no page skips more than half the chats.
public struct ConversationPageWindow: Sendable, Equatable {
    public var limit: Int
    public var skip: Int
    /// `DESC` from the newest end, `ASC` from the oldest.
    public var order: String

    /// Nil when the page is past the last chat.
    public init?(total: Int, page: Int, perPage: Int) {
        let offset = (page - 1) * perPage
        guard offset < total else { return nil }
        let fromOldest = offset > total / 2
        limit = min(perPage, total - offset)
        skip = fromOldest ? total - offset - limit : offset
        order = fromOldest ? "ASC" : "DESC"
    }
}

extension ConversationQueries {
    public func conversation(source: ChatSource, platformChatID: String) async throws -> Conversation? {
        try await conversations(of: [(source, platformChatID)]).first
    }
}

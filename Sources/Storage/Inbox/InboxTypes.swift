import Flows
import Foundation

/// How the inbox's chat list is ordered.
public enum InboxSort: String, Sendable, CaseIterable {
    /// Newest activity first (any message, either way).
    case newestActivity
    /// Chats waiting for a person's answer, the longest waiting first. Lists waiting chats
    /// only: a chat nobody waits in has no place in this order.
    case longestWaiting
}

/// What the inbox's chat list shows: its order, filters and page.
public struct InboxQuery: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maxLimit = 200

    public var sort: InboxSort
    /// Only chats of this channel.
    public var source: ChatSource?
    /// Only chats whose auto mode is this; a chat without a stored mode counts as `autoModeDefault`.
    public var autoMode: Bool?
    /// The configured auto mode, which chats without a stored one follow.
    public var autoModeDefault: Bool
    /// Only chats whose customer waits for a person's answer.
    public var waitingOnly: Bool
    /// Only chats with a customer message newer than what staff have seen.
    public var unreadOnly: Bool
    /// Matches the customer's name, the platform chat id and message text (case-insensitive
    /// for ASCII letters, as SQLite's LIKE); nil or blank: no search.
    public var search: String?
    /// The page after this one (from `InboxPage.next`); nil for the first page.
    public var after: InboxCursor?
    /// Chats per page, clamped to 1...`maxLimit`.
    public var limit: Int

    public init(
        sort: InboxSort = .newestActivity, source: ChatSource? = nil, autoMode: Bool? = nil, autoModeDefault: Bool, waitingOnly: Bool = false,
        unreadOnly: Bool = false, search: String? = nil, after: InboxCursor? = nil, limit: Int = InboxQuery.defaultLimit
    ) {
        self.sort = sort
        self.source = source
        self.autoMode = autoMode
        self.autoModeDefault = autoModeDefault
        self.waitingOnly = waitingOnly
        self.unreadOnly = unreadOnly
        self.search = search
        self.after = after
        self.limit = limit
    }
}

/// One page of the chat list, and where the next one starts (nil on the last page).
public struct InboxPage: Sendable, Equatable {
    public var items: [InboxChat]
    public var next: InboxCursor?

    public init(items: [InboxChat], next: InboxCursor?) {
        self.items = items
        self.next = next
    }

    /// A page from the chats a query fetched: at most `limit + 1`, the extra one saying
    /// that there is a next page, which starts after the last chat shown.
    public init(fetched: [InboxChat], limit: Int, sort: InboxSort) {
        items = Array(fetched.prefix(limit))
        next = nil
        if fetched.count > limit, let last = items.last {
            let key = sort == .newestActivity ? last.updatedAt.timeIntervalSince1970 : last.waitingSince?.timeIntervalSince1970 ?? 0
            next = InboxCursor(sort: sort, key: key, id: last.id)
        }
    }
}

/// A chat as the inbox's list shows it.
public struct InboxChat: Sendable, Equatable {
    /// The conversation's id (`conversations.id`, as the `/api` names chats).
    public var id: Int64
    public var source: ChatSource
    public var platformChatID: String
    /// The customer's name, when their channel gave one.
    public var name: String?
    public var lastMessage: InboxPreview?
    public var updatedAt: Date
    /// The stored auto mode; nil when never set (the configured default applies).
    public var autoMode: Bool?
    /// A customer message is newer than what staff have seen (`InboxQueries.markRead`).
    public var unread: Bool
    /// Since when the customer has waited for a person's answer; nil when nobody waits.
    public var waitingSince: Date?

    public init(
        id: Int64, source: ChatSource, platformChatID: String, name: String?, lastMessage: InboxPreview?, updatedAt: Date, autoMode: Bool?,
        unread: Bool, waitingSince: Date?
    ) {
        self.id = id
        self.source = source
        self.platformChatID = platformChatID
        self.name = name
        self.lastMessage = lastMessage
        self.updatedAt = updatedAt
        self.autoMode = autoMode
        self.unread = unread
        self.waitingSince = waitingSince
    }
}

/// The newest message of a chat, for the list's preview.
public struct InboxPreview: Sendable, Equatable {
    public static let maxTextLength = 200

    public var id: Int64
    /// The text, cut to `maxTextLength` characters.
    public var text: String
    public var media: MediaKind
    public var author: StoredMessage.Author
    public var at: Date

    public init(id: Int64, text: String, media: MediaKind, author: StoredMessage.Author, at: Date) {
        self.id = id
        self.text = text
        self.media = media
        self.author = author
        self.at = at
    }
}

/// A message of the open conversation.
public struct InboxMessage: Sendable, Equatable {
    public var id: Int64
    public var direction: StoredMessage.Direction
    public var author: StoredMessage.Author
    /// The person who wrote it, when known: staff's name (Telegram, Brevo, the `/api`'s `senderName`).
    public var senderName: String?
    /// The flow that sent it (a flow's or the AI's message).
    public var flow: String?
    public var text: String
    public var media: MediaKind
    /// Where its photo (or a file the server did not keep) is.
    public var photoURL: String?
    public var createdAt: Date
    /// How its delivery on its channel stands; nil when no outbox item sends it (the
    /// customer's messages, the app's, replies stored before items named their message).
    public var delivery: InboxDelivery?
    /// What a voice or audio message said, when a flow transcribed it.
    public var transcript: String?
    /// Where its voice or audio file is on its channel (see `StoredMessage.audioLocation`).
    public var audioLocation: String?

    public init(
        id: Int64, direction: StoredMessage.Direction, author: StoredMessage.Author, senderName: String?, flow: String?, text: String,
        media: MediaKind, photoURL: String?, createdAt: Date, delivery: InboxDelivery?, transcript: String?, audioLocation: String?
    ) {
        self.id = id
        self.direction = direction
        self.author = author
        self.senderName = senderName
        self.flow = flow
        self.text = text
        self.media = media
        self.photoURL = photoURL
        self.createdAt = createdAt
        self.delivery = delivery
        self.transcript = transcript
        self.audioLocation = audioLocation
    }
}

/// The outbox item that sends a message, as "retry" needs it.
public struct InboxDelivery: Sendable, Equatable {
    /// The outbox item's id: what `DeliveryRetry.retry(itemID:)` takes.
    public var itemID: Int64
    public var status: OutboxItem.Status
    /// The last attempt's error: why it failed, or why it is being retried. Kept while a
    /// retried item is pending, cleared once it is delivered.
    public var lastError: String?

    public init(itemID: Int64, status: OutboxItem.Status, lastError: String?) {
        self.itemID = itemID
        self.status = status
        self.lastError = lastError
    }
}

/// What the inbox was asked about does not exist.
public enum InboxError: Error, Equatable, CustomStringConvertible {
    case conversationNotFound(Int64)

    public var description: String {
        switch self {
        case .conversationNotFound(let id): "no conversation \(id)"
        }
    }
}

import Foundation
import Storage

/// A chat as the messenger-autoreply seed's API shows it (its PocketBase `chats` fields).
struct ChatRecord: Encodable, Sendable {
    var id: String
    var platformChatId: String
    var source: String
    var name: String?
    var updated: String
    var autoMode: Bool

    init(_ conversation: Conversation, autoModeDefault: Bool) {
        id = String(conversation.id)
        platformChatId = conversation.platformChatID
        source = conversation.source.rawValue
        name = conversation.name
        updated = APITime.format(conversation.updatedAt)
        autoMode = conversation.autoMode ?? autoModeDefault
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(platformChatId, forKey: .platformChatId)
        try container.encode(source, forKey: .source)
        try container.encode(name ?? "", forKey: .name)
        try container.encode(updated, forKey: .updated)
        try container.encode(autoMode, forKey: .autoMode)
    }

    enum CodingKeys: String, CodingKey { case id, platformChatId, source, name, updated, autoMode }
}

/// A message as the seed's API shows it (its PocketBase `messages` fields), and how its
/// delivery on its channel stands.
struct MessageRecord: Encodable, Sendable {
    var id: String
    /// The channel's id: empty for a message still on its way out (or that never went).
    var platformMessageId: String
    var source: String
    var chatId: String
    var type: String
    var content: String
    var isIncoming: Bool
    var timestamp: String
    var senderId: String
    var senderName: String
    /// `auto` for a flow's message, `manual` for one sent through the API; empty when incoming.
    var responseMode: String
    /// Where the message's photo is served, or, for a file the server did not keep (an
    /// Instagram voice note or document), where its channel keeps the first one.
    var media: String?
    /// For a message sent on its channel through the outbox: `pending`, `sent`, `failed`,
    /// or `not_configured` (the service is not set up: recorded, not sent). Nil otherwise.
    var deliveryStatus: String?

    init(_ message: ConversationMessage) {
        id = String(message.id)
        // The app's channel is Replyflow itself: its own id is the channel's. A message sent
        // elsewhere has its channel's id once it went out, and until then none; an empty
        // string rather than null, as the seed's clients read a text that is always there.
        platformMessageId = message.platformMessageID ?? (message.source == .app ? String(message.id) : "")
        deliveryStatus = message.delivery.map(Self.deliveryStatus)
        source = message.source.rawValue
        chatId = String(message.conversationID)
        type = message.media == "none" ? "text" : message.media
        content = message.text
        isIncoming = message.direction == "user"
        timestamp = APITime.format(message.createdAt)
        senderId = isIncoming ? message.userID : (message.flow.map { "flow:\($0)" } ?? "api")
        senderName = isIncoming ? (message.userName ?? "") : (message.senderName ?? message.flow ?? "Support")
        responseMode = isIncoming ? "" : (message.flow == nil ? "manual" : "auto")
        media = message.photoURL
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(platformMessageId, forKey: .platformMessageId)
        try container.encode(source, forKey: .source)
        try container.encode(chatId, forKey: .chatId)
        try container.encode(type, forKey: .type)
        try container.encode(content, forKey: .content)
        try container.encode(isIncoming, forKey: .isIncoming)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(senderId, forKey: .senderId)
        try container.encode(senderName, forKey: .senderName)
        try container.encode(responseMode, forKey: .responseMode)
        try container.encode(media, forKey: .media)
        try container.encode(deliveryStatus, forKey: .deliveryStatus)
    }

    enum CodingKeys: String, CodingKey {
        case id, platformMessageId, source, chatId, type, content, isIncoming, timestamp, senderId, senderName, responseMode, media, deliveryStatus
    }

    static func deliveryStatus(_ status: OutboxItem.Status) -> String {
        switch status {
        case .pending: "pending"
        case .delivered: "sent"
        case .failed: "failed"
        case .recorded: "not_configured"
        }
    }
}

/// PocketBase's date format, which the seed's clients parse: `2024-01-01 12:00:00.000Z`.
enum APITime {
    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let padded = milliseconds < 10 ? "00\(abs(milliseconds))" : milliseconds < 100 ? "0\(abs(milliseconds))" : "\(abs(milliseconds))"
        return HistoryItem.format(date) + "." + padded + "Z"
    }
}

/// Paging as PocketBase did: `page` from 1, `perPage` 1 to 500 (default 50).
struct Paging {
    var page: Int
    var perPage: Int

    /// Pages `total` items fill, as PocketBase's `totalPages` counts them.
    func pages(of total: Int) -> Int {
        (total + perPage - 1) / perPage
    }

    init(_ parameters: [String: String]) throws(APIError) {
        page = 1
        perPage = 50
        if let raw = parameters["page"] {
            guard let value = Int(raw), value >= 1, value <= 1_000_000 else { throw .badRequest("page must be a whole number from 1") }
            page = value
        }
        if let raw = parameters["perPage"] {
            guard let value = Int(raw), (1...500).contains(value) else { throw .badRequest("perPage must be a whole number from 1 to 500") }
            perPage = value
        }
    }
}

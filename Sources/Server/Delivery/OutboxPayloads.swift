import Flows
import Foundation

/// The JSON payloads of outbox items, one per `OutboxKind`. Payloads are stored, so fields
/// are only ever added, never renamed: a restart must read old rows.
struct BrevoMessagePayload: Codable, Sendable, Equatable {
    var visitorID: String
    var text: String

    enum CodingKeys: String, CodingKey {
        case visitorID = "visitor_id", text
    }
}

struct ForwardPayload: Codable, Sendable, Equatable {
    var userID: String
    var userName: String?
    var text: String
    /// Upload paths (`/uploads/...`) of the message's photos.
    var photos: [String]
    /// The chat's channel when it is not the app (`telegram`, `instagram`).
    var source: ChatSource? = nil
    /// Addresses of files the server did not keep (Instagram voice notes, documents),
    /// listed under the text.
    var fileLinks: [String]? = nil

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", userName = "user_name", text, photos, source, fileLinks = "file_links"
    }
}

/// A customer's Telegram message whose content only Telegram holds (a voice note, a
/// sticker, a video, a file, a location), copied into the group with `copyMessage`. Its
/// own item, queued in the group's lane right after the forward: a retry of the copy does
/// not send the forward's header again.
struct TelegramCopyPayload: Codable, Sendable, Equatable {
    var chatID: Int64
    var messageID: Int64
    /// Whose chat it is, so a staff reply to the copy reaches them.
    var userID: String
    var source: ChatSource

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id", messageID = "message_id", userID = "user_id", source
    }
}

struct PushPayload: Codable, Sendable, Equatable {
    var userID: String
    var title: String?
    var text: String

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", title, text
    }
}

struct TelegramReplyPayload: Codable, Sendable, Equatable {
    var chatID: Int64
    var text: String
    /// A photo Telegram already has (staff sent it to the group): sent by its file id,
    /// with `text` as its caption.
    var photoFileID: String?
    /// The message this one answers, in the same chat.
    var replyTo: Int64?

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id", text, photoFileID = "photo_file_id", replyTo = "reply_to"
    }
}

enum OutboxJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ payload: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(payload.utf8))
    }
}

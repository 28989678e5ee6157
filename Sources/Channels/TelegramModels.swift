import Foundation

// Codable models for the parts of the Telegram Bot API this project uses.
// Field names follow the Bot API (snake_case on the wire); unknown fields are ignored.

/// An incoming update (`Update` in the Bot API). Only message and edited-message updates are modelled.
public struct TelegramUpdate: Codable, Sendable, Equatable {
    /// The update's identifier; confirm it by polling with `offset = updateID + 1`.
    public var updateID: Int64
    /// A new incoming message of any kind.
    public var message: TelegramMessage?
    /// A new version of a message that was edited.
    public var editedMessage: TelegramMessage?

    /// Creates an update.
    public init(updateID: Int64, message: TelegramMessage? = nil, editedMessage: TelegramMessage? = nil) {
        self.updateID = updateID
        self.message = message
        self.editedMessage = editedMessage
    }

    enum CodingKeys: String, CodingKey {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
    }
}

/// A chat (`Chat` in the Bot API).
public struct TelegramChat: Codable, Sendable, Equatable {
    /// Chat identifier (negative for groups and channels).
    public var id: Int64
    /// `private`, `group`, `supergroup` or `channel`.
    public var type: String
    /// Title, for supergroups, channels and group chats.
    public var title: String?
    /// Username, for private chats, supergroups and channels if available.
    public var username: String?
    /// Whether the supergroup chat is a forum (has topics enabled).
    public var isForum: Bool?

    /// Creates a chat.
    public init(id: Int64, type: String, title: String? = nil, username: String? = nil, isForum: Bool? = nil) {
        self.id = id
        self.type = type
        self.title = title
        self.username = username
        self.isForum = isForum
    }

    enum CodingKeys: String, CodingKey {
        case id, type, title, username
        case isForum = "is_forum"
    }
}

/// A user or bot (`User` in the Bot API).
public struct TelegramUser: Codable, Sendable, Equatable {
    /// User identifier.
    public var id: Int64
    /// Whether this user is a bot.
    public var isBot: Bool
    /// First name.
    public var firstName: String
    /// Last name, if any.
    public var lastName: String?
    /// Username, if any.
    public var username: String?
    /// IETF language tag of the user's language, if known.
    public var languageCode: String?

    /// Creates a user.
    public init(id: Int64, isBot: Bool, firstName: String, lastName: String? = nil, username: String? = nil, languageCode: String? = nil) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
    }

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case username
        case languageCode = "language_code"
    }
}

/// One size of a photo (`PhotoSize`). Telegram sends several; the last is the largest.
public struct TelegramPhotoSize: Codable, Sendable, Equatable {
    /// Identifier for downloading or re-sending the file.
    public var fileID: String
    /// Identifier that stays the same over time and across bots; cannot be used to download.
    public var fileUniqueID: String
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// File size in bytes, if known.
    public var fileSize: Int64?

    /// Creates a photo size.
    public init(fileID: String, fileUniqueID: String, width: Int, height: Int, fileSize: Int64? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.width = width
        self.height = height
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case width, height
        case fileSize = "file_size"
    }
}

/// A voice note (`Voice`).
public struct TelegramVoice: Codable, Sendable, Equatable {
    /// Identifier for downloading the file.
    public var fileID: String
    /// Stable unique identifier.
    public var fileUniqueID: String?
    /// Duration in seconds.
    public var duration: Int
    /// MIME type as defined by the sender.
    public var mimeType: String?
    /// File size in bytes, if known.
    public var fileSize: Int64?

    /// Creates a voice note.
    public init(fileID: String, fileUniqueID: String? = nil, duration: Int, mimeType: String? = nil, fileSize: Int64? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.duration = duration
        self.mimeType = mimeType
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case duration
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }
}

/// An audio file treated as music (`Audio`).
public struct TelegramAudio: Codable, Sendable, Equatable {
    /// Identifier for downloading the file.
    public var fileID: String
    /// Stable unique identifier.
    public var fileUniqueID: String?
    /// Duration in seconds.
    public var duration: Int
    /// Performer, if known.
    public var performer: String?
    /// Title, if known.
    public var title: String?
    /// Original file name, if known.
    public var fileName: String?
    /// MIME type, if known.
    public var mimeType: String?
    /// File size in bytes, if known.
    public var fileSize: Int64?

    /// Creates an audio file.
    public init(
        fileID: String, fileUniqueID: String? = nil, duration: Int, performer: String? = nil, title: String? = nil,
        fileName: String? = nil, mimeType: String? = nil, fileSize: Int64? = nil
    ) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.duration = duration
        self.performer = performer
        self.title = title
        self.fileName = fileName
        self.mimeType = mimeType
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case duration, performer, title
        case fileName = "file_name"
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }
}

/// A general file (`Document`).
public struct TelegramDocument: Codable, Sendable, Equatable {
    /// Identifier for downloading the file.
    public var fileID: String
    /// Stable unique identifier.
    public var fileUniqueID: String?
    /// Original file name, if known.
    public var fileName: String?
    /// MIME type, if known.
    public var mimeType: String?
    /// File size in bytes, if known.
    public var fileSize: Int64?

    /// Creates a document.
    public init(fileID: String, fileUniqueID: String? = nil, fileName: String? = nil, mimeType: String? = nil, fileSize: Int64? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.fileName = fileName
        self.mimeType = mimeType
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case fileName = "file_name"
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }
}

/// The service message sent when a forum topic is created (`ForumTopicCreated`).
public struct TelegramForumTopicCreated: Codable, Sendable, Equatable {
    /// Name of the topic.
    public var name: String?
    /// Colour of the topic icon in RGB format.
    public var iconColor: Int?
    /// Custom emoji shown as the topic icon, if any.
    public var iconCustomEmojiID: String?

    /// Creates the service-message payload.
    public init(name: String? = nil, iconColor: Int? = nil, iconCustomEmojiID: String? = nil) {
        self.name = name
        self.iconColor = iconColor
        self.iconCustomEmojiID = iconCustomEmojiID
    }

    enum CodingKeys: String, CodingKey {
        case name
        case iconColor = "icon_color"
        case iconCustomEmojiID = "icon_custom_emoji_id"
    }
}

/// A message (`Message`). Only the fields this project reads are modelled.
public struct TelegramMessage: Codable, Sendable, Equatable {
    /// Unique message identifier inside its chat.
    public var messageID: Int64
    /// Date the message was sent, in Unix time.
    public var date: Int64
    /// The chat the message belongs to.
    public var chat: TelegramChat
    /// The sender; empty for messages sent to channels.
    public var from: TelegramUser?
    /// Text of a text message (UTF-8, entities already parsed).
    public var text: String?
    /// Caption of a media message.
    public var caption: String?
    /// Available sizes of a photo message, smallest first.
    public var photo: [TelegramPhotoSize]?
    /// Voice note.
    public var voice: TelegramVoice?
    /// Audio file.
    public var audio: TelegramAudio?
    /// General file.
    public var document: TelegramDocument?
    /// Video, round video note, animation (GIF) and sticker: read for their file id only,
    /// which their own objects share with a document's.
    public var video: TelegramDocument?
    public var videoNote: TelegramDocument?
    public var animation: TelegramDocument?
    public var sticker: TelegramDocument?
    /// The thread or forum topic the message belongs to.
    public var messageThreadID: Int64?
    /// True if the message was sent to a forum topic.
    public var isTopicMessage: Bool?
    /// Present when a forum topic was created by this (service) message.
    public var forumTopicCreated: TelegramForumTopicCreated?
    /// Albums arrive as several messages sharing this identifier.
    public var mediaGroupID: String?
    private var replyBox: Box?

    /// The message this one replies to. Telegram does not nest replies further than one level.
    /// In forum topics a plain message "replies" to the topic's `forum_topic_created` message.
    public var replyToMessage: TelegramMessage? {
        get { replyBox?.message }
        set { replyBox = newValue.map(Box.init) }
    }

    /// The largest photo size, if this is a photo message.
    public var largestPhoto: TelegramPhotoSize? { photo?.last }

    /// Creates a message.
    public init(
        messageID: Int64, date: Int64, chat: TelegramChat, from: TelegramUser? = nil, text: String? = nil,
        caption: String? = nil, photo: [TelegramPhotoSize]? = nil, voice: TelegramVoice? = nil,
        audio: TelegramAudio? = nil, document: TelegramDocument? = nil, messageThreadID: Int64? = nil,
        isTopicMessage: Bool? = nil, replyToMessage: TelegramMessage? = nil,
        forumTopicCreated: TelegramForumTopicCreated? = nil, mediaGroupID: String? = nil
    ) {
        self.messageID = messageID
        self.date = date
        self.chat = chat
        self.from = from
        self.text = text
        self.caption = caption
        self.photo = photo
        self.voice = voice
        self.audio = audio
        self.document = document
        self.messageThreadID = messageThreadID
        self.isTopicMessage = isTopicMessage
        self.forumTopicCreated = forumTopicCreated
        self.mediaGroupID = mediaGroupID
        self.replyBox = replyToMessage.map(Box.init)
    }

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
        case date, chat, from, text, caption, photo, voice, audio, document, video, animation, sticker
        case videoNote = "video_note"
        case messageThreadID = "message_thread_id"
        case isTopicMessage = "is_topic_message"
        case replyBox = "reply_to_message"
        case forumTopicCreated = "forum_topic_created"
        case mediaGroupID = "media_group_id"
    }

    /// Indirection so a message can contain the message it replies to.
    private final class Box: Codable, Sendable, Equatable {
        let message: TelegramMessage
        init(_ message: TelegramMessage) { self.message = message }
        init(from decoder: any Decoder) throws {
            message = try TelegramMessage(from: decoder)
        }
        func encode(to encoder: any Encoder) throws {
            try message.encode(to: encoder)
        }
        static func == (lhs: Box, rhs: Box) -> Bool { lhs.message == rhs.message }
    }
}

/// A file ready to be downloaded (`File`).
public struct TelegramFile: Codable, Sendable, Equatable {
    /// Identifier for downloading or re-sending the file.
    public var fileID: String
    /// Stable unique identifier.
    public var fileUniqueID: String?
    /// File size in bytes, if known.
    public var fileSize: Int64?
    /// Path to use with ``TelegramClient/downloadFile(path:maxBytes:)``. Valid for at least one hour.
    public var filePath: String?

    /// Creates a file description.
    public init(fileID: String, fileUniqueID: String? = nil, fileSize: Int64? = nil, filePath: String? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.fileSize = fileSize
        self.filePath = filePath
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case fileSize = "file_size"
        case filePath = "file_path"
    }
}

/// Information about the current webhook (`WebhookInfo`).
public struct TelegramWebhookInfo: Codable, Sendable, Equatable {
    /// Webhook URL, empty if not set up.
    public var url: String
    /// Number of updates awaiting delivery.
    public var pendingUpdateCount: Int
    /// Human-readable description of the most recent delivery error, if any.
    public var lastErrorMessage: String?

    enum CodingKeys: String, CodingKey {
        case url
        case pendingUpdateCount = "pending_update_count"
        case lastErrorMessage = "last_error_message"
    }
}

/// A forum topic (`ForumTopic`), as returned by `createForumTopic`.
public struct TelegramForumTopic: Codable, Sendable, Equatable {
    /// Thread identifier of the topic; pass it as `message_thread_id`.
    public var messageThreadID: Int64
    /// Name of the topic.
    public var name: String
    /// Colour of the topic icon.
    public var iconColor: Int?

    enum CodingKeys: String, CodingKey {
        case messageThreadID = "message_thread_id"
        case name
        case iconColor = "icon_color"
    }
}

/// A file to upload with a multipart request.
public struct TelegramUpload: Sendable, Equatable {
    /// The file's bytes.
    public var data: Data
    /// The file name Telegram should see (for example `photo.jpg`).
    public var filename: String
    /// The MIME type (for example `image/jpeg`).
    public var contentType: String

    /// Creates an upload.
    public init(data: Data, filename: String, contentType: String) {
        self.data = data
        self.filename = filename
        self.contentType = contentType
    }
}

/// The Bot API response envelope.
struct TelegramEnvelope<Result: Decodable>: Decodable {
    struct Parameters: Decodable {
        var retryAfter: Int?
        var migrateToChatID: Int64?
        enum CodingKeys: String, CodingKey {
            case retryAfter = "retry_after"
            case migrateToChatID = "migrate_to_chat_id"
        }
    }
    var ok: Bool
    var result: Result?
    var errorCode: Int?
    var description: String?
    var parameters: Parameters?

    enum CodingKeys: String, CodingKey {
        case ok, result
        case errorCode = "error_code"
        case description, parameters
    }
}

/// The error part of the envelope, decoded without knowing the result type.
struct TelegramErrorEnvelope: Decodable {
    var ok: Bool
    var errorCode: Int?
    var description: String?
    var parameters: TelegramEnvelope<Bool>.Parameters?

    enum CodingKeys: String, CodingKey {
        case ok
        case errorCode = "error_code"
        case description, parameters
    }
}

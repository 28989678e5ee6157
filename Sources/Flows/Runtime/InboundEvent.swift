import Foundation

/// The raw inputs the runtime turns into triggers (the dry-run event format's `kind`).
public enum EventKind: String, Sendable, CaseIterable, Codable {
    case appMessage = "app_message"
    case historyFetch = "history_fetch"
    case telegramReply = "telegram_reply"
    case telegramMessage = "telegram_message"
    case instagramDM = "instagram_dm"

    /// The channel the conversation lives on.
    public var source: ChatSource {
        switch self {
        case .appMessage, .historyFetch, .telegramReply: .app
        case .telegramMessage: .telegram
        case .instagramDM: .instagram
        }
    }
}

/// Where the server can fetch a voice or audio message, as it came from the channel.
public struct AudioAttachment: Sendable, Equatable {
    /// `telegram-file:<file_id>` for Telegram, else the http(s) URL of the file.
    public var location: String
    /// A file name whose extension names the format (`voice.ogg`), as speech-to-text wants.
    public var fileName: String
    public var contentType: String

    public init(location: String, fileName: String, contentType: String) {
        self.location = location
        self.fileName = fileName
        self.contentType = contentType
    }
}

/// A file of a message kept where the channel keeps it.
public struct LinkedFile: Sendable, Equatable {
    public var name: String
    public var url: String

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }
}

/// One raw input: what happened, to whom, when, with what message.
public struct InboundEvent: Sendable {
    public var kind: EventKind
    public var at: Date
    public var userID: String?
    public var userName: String?
    /// Sets the chat's auto mode before the flows run (a scenario's starting state).
    public var autoMode: Bool?
    public var text: String?
    public var media: MediaKind
    /// For `telegram_reply`: the group message that staff answered (a forwarded user message).
    public var replyTo: Int64?
    /// Where the message's photos are served (the server's `/uploads/...`); the first is
    /// stored with the message. Empty in dry runs.
    public var photoURLs: [String] = []
    /// A voice or audio message's file, for `transcribe`. Nil in dry runs.
    public var audio: AudioAttachment?
    /// Files of the message the server did not keep (a document, a voice note, a photo it
    /// could not fetch), by their address on the channel: staff get them with a forward,
    /// and the first is stored with the message, so nothing a customer sent is lost.
    /// Empty in dry runs.
    public var linkedFiles: [LinkedFile] = []
    /// The message's id on its channel (Telegram's `message_id`, Brevo's message id).
    public var platformMessageID: String?
    /// For `telegram_reply`: the staff member who wrote it (their Telegram name), stored
    /// as the message's `senderName` so the inbox says which staff member answered. Not
    /// `userName`, which is the customer's and is noted on the user.
    public var staffName: String?
    public var stubs: Stubs

    /// Canned results for the outside services a dry run does not call.
    public struct Stubs: Sendable {
        public var answer: String?
        public var transcript: String?
        public var assistantFails: Bool
        public var transcriptionFails: Bool

        public init(answer: String? = nil, transcript: String? = nil, assistantFails: Bool = false, transcriptionFails: Bool = false) {
            self.answer = answer
            self.transcript = transcript
            self.assistantFails = assistantFails
            self.transcriptionFails = transcriptionFails
        }
    }

    public init(
        kind: EventKind, at: Date, userID: String?, userName: String? = nil, autoMode: Bool? = nil,
        text: String? = nil, media: MediaKind = .none, replyTo: Int64? = nil, stubs: Stubs = Stubs()
    ) {
        self.kind = kind
        self.at = at
        self.userID = userID
        self.userName = userName
        self.autoMode = autoMode
        self.text = text
        self.media = media
        self.replyTo = replyTo
        self.stubs = stubs
    }
}

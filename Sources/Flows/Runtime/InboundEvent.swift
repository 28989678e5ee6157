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
///
/// A value type kept in one shared box (copy-on-write): the runtime hands the event to
/// every step and effect of a run, and copying a dozen strings field by field was a
/// tenth of a replay's runtime thread.
public struct InboundEvent: Sendable {
    private var storage: Storage

    public var kind: EventKind {
        get { storage.kind }
        set { unique().kind = newValue }
    }
    public var at: Date {
        get { storage.at }
        set { unique().at = newValue }
    }
    public var userID: String? {
        get { storage.userID }
        set { unique().userID = newValue }
    }
    public var userName: String? {
        get { storage.userName }
        set { unique().userName = newValue }
    }
    /// Sets the chat's auto mode before the flows run (a scenario's starting state).
    public var autoMode: Bool? {
        get { storage.autoMode }
        set { unique().autoMode = newValue }
    }
    public var text: String? {
        get { storage.text }
        set { unique().text = newValue }
    }
    public var media: MediaKind {
        get { storage.media }
        set { unique().media = newValue }
    }
    /// For `telegram_reply`: the group message that staff answered (a forwarded user message).
    public var replyTo: Int64? {
        get { storage.replyTo }
        set { unique().replyTo = newValue }
    }
    /// Where the message's photos are served (the server's `/uploads/...`); the first is
    /// stored with the message. Empty in dry runs.
    public var photoURLs: [String] {
        get { storage.photoURLs }
        set { unique().photoURLs = newValue }
    }
    /// A voice or audio message's file, for `transcribe`. Nil in dry runs.
    public var audio: AudioAttachment? {
        get { storage.audio }
        set { unique().audio = newValue }
    }
    /// Files of the message the server did not keep (a document, a voice note, a photo it
    /// could not fetch), by their address on the channel: staff get them with a forward,
    /// and the first is stored with the message, so nothing a customer sent is lost.
    /// Empty in dry runs.
    public var linkedFiles: [LinkedFile] {
        get { storage.linkedFiles }
        set { unique().linkedFiles = newValue }
    }
    /// The message's id on its channel (Telegram's `message_id`, Brevo's message id).
    public var platformMessageID: String? {
        get { storage.platformMessageID }
        set { unique().platformMessageID = newValue }
    }
    public var stubs: Stubs {
        get { storage.stubs }
        set { unique().stubs = newValue }
    }

    /// The fields, shared between copies until one of them changes.
    // Mutated only through `unique()`, when no other copy can see it.
    private final class Storage: @unchecked Sendable {
        var kind: EventKind
        var at: Date
        var userID: String?
        var userName: String?
        var autoMode: Bool?
        var text: String?
        var media: MediaKind
        var replyTo: Int64?
        var photoURLs: [String] = []
        var audio: AudioAttachment?
        var linkedFiles: [LinkedFile] = []
        var platformMessageID: String?
        var stubs: Stubs

        init(kind: EventKind, at: Date, userID: String?, userName: String?, autoMode: Bool?, text: String?, media: MediaKind, replyTo: Int64?, stubs: Stubs) {
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

        func copy() -> Storage {
            let copy = Storage(
                kind: kind, at: at, userID: userID, userName: userName, autoMode: autoMode, text: text, media: media, replyTo: replyTo, stubs: stubs)
            copy.photoURLs = photoURLs
            copy.audio = audio
            copy.linkedFiles = linkedFiles
            copy.platformMessageID = platformMessageID
            return copy
        }
    }

    /// The box, copied first when another copy of the event shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

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
        storage = Storage(kind: kind, at: at, userID: userID, userName: userName, autoMode: autoMode, text: text, media: media, replyTo: replyTo, stubs: stubs)
    }
}

import Channels

/// The staff group, where customers' messages are forwarded and staff answer them. The
/// server's is a Telegram group (`TelegramStaffGroup`); tests give a recording fake.
/// Texts and captions are HTML, as Telegram formats them. Each call returns the id of the
/// group message it made: a staff reply to it finds its way back to the customer.
public protocol StaffGroup: Sendable {
    func sendText(_ html: String, thread: Int64?, replyTo: Int64?) async throws -> Int64
    func sendPhoto(_ photo: TelegramUpload, caption html: String?, thread: Int64?) async throws -> Int64
    /// An album of 2 to 10 photos, the caption on the first.
    func sendAlbum(_ photos: [TelegramUpload], caption html: String?, thread: Int64?) async throws -> [Int64]
    /// Copies a customer's own Telegram message (a voice note, a sticker, a file) into the group.
    func copy(messageID: Int64, fromChat chatID: Int64) async throws -> Int64
    /// A forum topic of the group, for one user's messages.
    func createTopic(name: String) async throws -> Int64
}

/// A customer's own chat on a channel the server answers on: Telegram private chats
/// (`TelegramCustomerChats`), Instagram through Brevo (`BrevoCustomerChats`). Texts are in
/// the channel's format (HTML for Telegram, plain for Brevo). Returns the channel's id
/// for the message it sent, when the channel gives one.
public protocol CustomerChannel: Sendable {
    func sendText(_ text: String, to chatID: String, replyTo: Int64?) async throws -> String?
    /// A photo the channel already holds (staff sent it to the group), by its file id.
    func sendPhoto(fileID: String, caption: String?, to chatID: String, replyTo: Int64?) async throws -> String?
}

/// Push notifications to a device (FCM: `FCMPushSender`). Throws `DeliveryError`: a token
/// the service no longer accepts is `.dropRecipient`.
public protocol PushSender: Sendable {
    func send(token: String, title: String?, body: String, data: [String: String]) async throws
}

/// The outside services the server sends through; nil where one is not configured (what
/// would have been sent is then recorded in the outbox). `ReplyflowServer` makes the
/// real ones from the configuration; tests pass recording fakes.
public struct ServerPorts: Sendable {
    public var staffGroup: (any StaffGroup)?
    public var telegramChats: (any CustomerChannel)?
    public var instagramChats: (any CustomerChannel)?
    public var push: (any PushSender)?
    public var assistant: (any AssistantService)?

    public init(
        staffGroup: (any StaffGroup)? = nil, telegramChats: (any CustomerChannel)? = nil, instagramChats: (any CustomerChannel)? = nil,
        push: (any PushSender)? = nil, assistant: (any AssistantService)? = nil
    ) {
        self.staffGroup = staffGroup
        self.telegramChats = telegramChats
        self.instagramChats = instagramChats
        self.push = push
        self.assistant = assistant
    }
}

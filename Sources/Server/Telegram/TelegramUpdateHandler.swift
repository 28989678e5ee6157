import Channels
import Flows
import Foundation
import Logging
import Storage

/// Turns Telegram updates into events: a staff member's reply in the group (to a
/// forwarded message, or inside a user's topic) becomes `telegram_reply`; a customer
/// writing to the bot directly becomes `telegram_message`. An update seen before is
/// ignored, since Telegram redelivers until it is acknowledged.
struct TelegramUpdateHandler: Sendable {
    let telegram: TelegramClient
    let groupChatID: Int64
    let topics: Bool
    let engine: FlowEngine
    let queries: any ServerQueries
    let uploads: UploadStore
    let clock: @Sendable () -> Date
    let logger: Logger

    func handle(_ update: TelegramUpdate) async throws {
        // Checked first to skip downloading the photos of an update seen before; the
        // commit checks again.
        if try await engine.isTelegramUpdateHandled(update.updateID) {
            logger.debug("update seen before: ignored", metadata: ["update_id": "\(update.updateID)"])
            return
        }
        var event: InboundEvent?
        var relay: StaffRelay?
        var notice: StaffNotice?
        if let message = update.message, message.from?.isBot != true {
            if message.chat.id == groupChatID {
                switch try await groupEvent(message) {
                case .event(let staffEvent, let staffNotice): (event, notice) = (staffEvent, staffNotice)
                case .relay(let staffRelay): relay = staffRelay
                case .notice(let staffNotice): notice = staffNotice
                case .none: break
                }
            } else if message.chat.type == "private" {
                event = try await privateEvent(message)
            }
        }
        let result = try await engine.handleTelegramUpdate(update.updateID, event: event, relay: relay, notice: notice)
        if let note = result?.note { logger.info("Telegram message not delivered", metadata: ["reason": "\(note)"]) }
    }

    private enum GroupOutcome {
        /// A reply for the app, and a notice to staff when its photo could not be fetched.
        case event(InboundEvent, notice: StaffNotice?)
        /// A reply to an Instagram or Telegram chat's forward: sent to the customer as is.
        case relay(StaffRelay)
        /// A photo alone for the app that could not be fetched: nothing to show, staff are told.
        case notice(StaffNotice)
        case none
    }

    private func groupEvent(_ message: TelegramMessage) async throws -> GroupOutcome {
        let text = message.text ?? message.caption ?? ""
        var event = InboundEvent(kind: .telegramReply, at: clock(), userID: nil, text: text)
        event.staffName = Self.name(of: message.from)
        // Whether the reply answers a known chat: only then is a notice about it worth giving.
        var answersChat = false
        if let thread = message.messageThreadID, message.isTopicMessage == true, let user = try await queries.user(forumTopic: thread) {
            // In a forum topic every message has reply_to_message pointing at the topic's
            // first message; the topic itself says which user this is.
            event.userID = user
            answersChat = true
        } else if let reply = message.replyToMessage, reply.forumTopicCreated == nil {
            event.replyTo = reply.messageID
            let chat = reply.from?.isBot == true ? try await forwardedChat(reply.messageID) : try await queries.chatForGroupMessage(reply.messageID)
            answersChat = chat != nil
            if let chat, chat.source != .app {
                let photo = message.photo?.last
                let source = chat.source
                guard !text.isEmpty || photo != nil else {
                    logger.notice(
                        "a staff reply to an Instagram or Telegram chat must be text or a photo; not sent",
                        metadata: ["chat": "\(source.rawValue):\(chat.userID)"])
                    return .none
                }
                var relayed: (fileID: String, url: String?)?
                if let photo { relayed = (photo.fileID, await download(photo)) }
                return .relay(
                    StaffRelay(
                        chat: ChatRef(source: source, platformChatID: chat.userID), text: text, at: event.at,
                        photo: relayed, groupChatID: message.chat.id, groupMessageID: message.messageID, staffName: event.staffName))
            }
        } else {
            return .none  // staff talking among themselves
        }
        guard let photo = message.photo?.last else { return .event(event, notice: nil) }
        if let url = await download(photo) {
            event.media = .photo
            event.photoURLs = [url]
            return .event(event, notice: nil)
        }
        // The photo cannot reach the app: the caption goes alone, or nothing does (never an
        // empty message), and staff are told under their message so they can send it again.
        guard answersChat else { return text.isEmpty ? .none : .event(event, notice: nil) }
        let notice = StaffNotice(
            text: text.isEmpty
                ? "Not sent: the photo could not be fetched from Telegram, so it did not reach the app. Please send it again."
                : "Only the text was sent: the photo could not be fetched from Telegram, so it did not reach the app. Please send it again.",
            groupChatID: message.chat.id, replyTo: message.messageID, at: event.at)
        return text.isEmpty ? .notice(notice) : .event(event, notice: notice)
    }

    /// A staff member's name as Telegram gives it (first and last name), for the inbox.
    static func name(of user: TelegramUser?) -> String? {
        let name = [user?.firstName, user?.lastName].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? user?.username : name
    }

    private func privateEvent(_ message: TelegramMessage) async throws -> InboundEvent {
        var event = InboundEvent(
            kind: .telegramMessage, at: clock(), userID: String(message.chat.id),
            userName: [message.from?.firstName, message.from?.lastName].compactMap { $0 }.joined(separator: " "),
            text: message.text ?? message.caption ?? "")
        event.platformMessageID = String(message.messageID)
        // Voice and audio are fetched only if a flow transcribes them. Whatever the AI
        // cannot read (a sticker, a video, a file) reaches staff as a copy of the message.
        if let voice = message.voice {
            event.media = .voice
            event.audio = AudioAttachment(
                location: AssistantMedia.telegramFileScheme + voice.fileID, fileName: "voice.ogg", contentType: voice.mimeType ?? "audio/ogg")
        } else if let audio = message.audio {
            event.media = .audio
            let name = audio.fileName ?? "audio.mp3"
            event.audio = AudioAttachment(
                location: AssistantMedia.telegramFileScheme + audio.fileID, fileName: name,
                contentType: audio.mimeType ?? AssistantMedia.audioContentType(name) ?? "audio/mpeg")
        } else if message.sticker != nil {
            event.media = .sticker
        } else if message.video != nil || message.videoNote != nil || message.animation != nil {
            event.media = .video
        } else if message.document != nil {
            event.media = .document
        }
        try await attachPhoto(of: message, to: &event)
        // A photo that could not be fetched is one the AI cannot see: the message counts as
        // a document, so the default flow hands it to staff, who get it as a copy.
        if event.media == .photo && event.photoURLs.isEmpty { event.media = .document }
        return event
    }

    /// The chat a bot message in the group was forwarded for. A reply can arrive while the
    /// forward it answers is still being recorded (Telegram shows the message before our
    /// `sendMessage` call returns): give it a moment.
    private func forwardedChat(_ groupMessageID: Int64) async throws -> (userID: String, source: ChatSource)? {
        for _ in 0..<30 {
            if let chat = try await queries.chatForGroupMessage(groupMessageID) { return chat }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// Downloads the largest size of a photo into uploads, so the app can show it.
    private func attachPhoto(of message: TelegramMessage, to event: inout InboundEvent) async throws {
        guard let largest = message.photo?.last else { return }
        event.media = .photo
        if let url = await download(largest) { event.photoURLs = [url] }
    }

    /// Telegram's passing failures (timeouts, 429, 5xx) are tried again, briefly: the
    /// group's later updates wait behind this one.
    static let photoRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(500), maxWait: .seconds(5))

    /// The photo saved in uploads, or nil (logged) when it could not be fetched: the
    /// message's text still goes through.
    private func download(_ photo: TelegramPhotoSize) async -> String? {
        do {
            let data = try await Self.photoRetry.run("download a Telegram photo", logger: logger) {
                let file = try await telegram.getFile(fileID: photo.fileID)
                guard let path = file.filePath else { throw DeliveryError(.fail, "Telegram getFile: no file_path (the file is too big to download)") }
                return try await telegram.downloadFile(path: path)
            }
            return try uploads.save([UInt8](data))
        } catch {
            logger.error("could not download a Telegram photo", metadata: ["file_id": "\(photo.fileID)", "error": "\(error)"])
            return nil
        }
    }
}

import Flows
import Foundation
import Logging
import Storage

/// The server's side of a run: deliveries become outbox rows (written in the same
/// transaction as the run's state), live updates become broadcasts sent after the commit.
/// The AI answers while the run waits; when it cannot (or is not configured), the action
/// fails and the flows decide what follows.
final class ServerEffects: FlowEffects {
    struct Services {
        var telegram: Bool
        var push: Bool
        var brevo: Bool = false
    }

    let store: BufferedStateStore
    let services: Services
    let assistant: Assistant?
    let logger: Logger
    private(set) var queued: [OutboxItem] = []
    private(set) var broadcasts: [Broadcast] = []
    /// Chats whose auto mode a flow changed, for the live stream.
    private(set) var chatUpdates: [ChatRef] = []
    /// Chats the assistant holds until their answer is committed.
    private var heldChats: [@Sendable () async -> Void] = []

    init(store: BufferedStateStore, services: Services, assistant: Assistant?, logger: Logger) {
        self.store = store
        self.services = services
        self.assistant = assistant
        self.logger = logger
    }

    /// Everything produced since the last call.
    func take() -> (outbox: [OutboxItem], broadcasts: [Broadcast], chatUpdates: [ChatRef]) {
        defer { queued = []; broadcasts = []; chatUpdates = [] }
        return (queued, broadcasts, chatUpdates)
    }

    /// The chats to let go once what is queued now is committed.
    func takeHeldChats() -> [@Sendable () async -> Void] {
        defer { heldChats = [] }
        return heldChats
    }

    func noteChatUpdate(source: ChatSource, userID: String) {
        chatUpdates.append(ChatRef(source: source, platformChatID: userID))
    }

    nonisolated(nonsending) func transcribe(_ request: EffectRequest) async throws -> String {
        guard let assistant else { throw EffectFailure("speech-to-text is not configured (set OPENAI_API_KEY or OPENAI_BASE_URL)") }
        guard let audio = request.event.audio else { throw EffectFailure("the message has no voice or audio to transcribe") }
        do {
            return try await assistant.transcribe(audio)
        } catch {
            logger.warning("transcription failed", metadata: ["chat": "\(request.source.rawValue):\(request.userID)", "error": "\(error)"])
            throw EffectFailure("\(error)")
        }
    }

    nonisolated(nonsending) func askAssistant(_ request: EffectRequest, prompt: String?) async throws -> String {
        guard let assistant else { throw EffectFailure("the AI assistant is not configured (set OPENAI_API_KEY or OPENAI_BASE_URL)") }
        let prompt = prompt ?? ""
        let photos = request.event.photoURLs
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || !photos.isEmpty else {
            throw EffectFailure("nothing to ask: the message has no text, transcript or photo")
        }
        let chat = ChatRef(source: request.source, platformChatID: request.userID)
        do {
            let answer = try await assistant.answer(prompt, photos: photos, chat: chat, messageID: request.inboundMessageID, at: request.event.at)
            if let write = answer.rememberWrite { store.enqueueWrite(write) }
            heldChats.append(answer.release)
            return answer.text
        } catch {
            logger.warning("the AI could not answer", metadata: ["chat": "\(chat.source.rawValue):\(chat.platformChatID)", "error": "\(error)"])
            throw EffectFailure("\(error)")
        }
    }

    func deliver(_ effect: Effect, request: EffectRequest) {
        let event = request.event
        switch effect {
        case .forwardToGroup(let text, _):
            let payload = ForwardPayload(
                userID: request.userID, userName: event.userName, text: text, photos: event.photoURLs,
                source: request.source == .app ? nil : request.source.rawValue,
                fileLinks: event.linkedFiles.isEmpty ? nil : event.linkedFiles.map { "\($0.name): \($0.url)" })
            queue(.telegramForward, lane: "telegram:group", payload: OutboxJSON.encode(payload), enabled: services.telegram, at: event.at)
            if let copy = Self.telegramCopy(of: event, source: request.source) {
                queue(.telegramCopy, lane: "telegram:group", payload: OutboxJSON.encode(copy), enabled: services.telegram, at: event.at)
            }
        case .push(let title, let text):
            let payload = PushPayload(userID: request.userID, title: title, text: text)
            queue(.push, lane: "fcm:\(request.userID)", payload: OutboxJSON.encode(payload), enabled: services.push, at: event.at)
        case .greet(let text, _):
            broadcasts.append(Broadcast(userID: request.userID, item: HistoryItem(message: text, photoURL: nil, direction: "support", createdAt: event.at)))
        case .reply(let text, _):
            queueReply(text: text, source: request.source, userID: request.userID, at: event.at)
        case .broadcast:
            // The event's own message, as stored: staff replies show as support, the
            // user's own messages (on another device) as user.
            guard request.source == .app else { return }
            let direction = event.kind == .telegramReply ? "support" : "user"
            let item = HistoryItem(message: event.text ?? "", photoURL: event.photoURLs.first, direction: direction, createdAt: event.at)
            broadcasts.append(Broadcast(userID: request.userID, item: item))
        case .setAutoMode:
            // The runtime has stored it; the live stream shows the chat's new state.
            noteChatUpdate(source: request.source, userID: request.userID)
        }
    }

    /// The customer's own Telegram message, when staff would otherwise miss part of it: it
    /// has an attachment other than a photo the server kept (a voice note, a sticker, a
    /// video, a file, or a photo whose download failed), or neither text nor a known
    /// attachment (a location, a contact, a poll).
    static func telegramCopy(of event: InboundEvent, source: ChatSource) -> TelegramCopyPayload? {
        guard source == .telegram, let chatID = event.userID.flatMap({ Int64($0) }),
              let messageID = event.platformMessageID.flatMap({ Int64($0) }) else { return nil }
        switch event.media {
        case .none where !(event.text ?? "").isEmpty: return nil
        case .photo where !event.photoURLs.isEmpty: return nil
        default: return TelegramCopyPayload(chatID: chatID, messageID: messageID, userID: String(chatID), source: source.rawValue)
        }
    }

    /// A message from support to a chat: shown live in the app, or sent to the
    /// customer's Telegram chat or Instagram conversation through the outbox.
    func queueReply(text: String, source: ChatSource, userID: String, at: Date, visitorID: String? = nil, photoFileID: String? = nil) {
        switch source {
        case .app:
            broadcasts.append(Broadcast(userID: userID, item: HistoryItem(message: text, photoURL: nil, direction: "support", createdAt: at)))
        case .telegram:
            if let chatID = Int64(userID) {
                let payload = TelegramReplyPayload(chatID: chatID, text: text, photoFileID: photoFileID)
                queue(.telegramReply, lane: "telegram:\(chatID)", payload: OutboxJSON.encode(payload), enabled: services.telegram, at: at)
            } else {
                logger.error("a Telegram chat id must be a number; the reply is stored but not sent", metadata: ["chat": "\(userID)"])
            }
        case .instagram:
            let visitor = visitorID ?? userID
            let payload = BrevoMessagePayload(visitorID: visitor, text: text)
            queue(.brevoMessage, lane: "brevo:\(visitor)", payload: OutboxJSON.encode(payload), enabled: services.brevo, at: at)
        }
    }

    /// A message from the service to staff in the group, answering one of theirs.
    func queueStaffNotice(_ text: String, groupChatID: Int64, replyTo: Int64, at: Date) {
        let payload = TelegramReplyPayload(chatID: groupChatID, text: text, replyTo: replyTo)
        queue(.telegramReply, lane: "telegram:\(groupChatID)", payload: OutboxJSON.encode(payload), enabled: services.telegram, at: at)
    }

    private func queue(_ kind: OutboxKind, lane: String, payload: String, enabled: Bool, at: Date) {
        let item = store.enqueueOutbox(kind: kind.rawValue, lane: lane, payload: payload, status: enabled ? .pending : .recorded, at: at)
        if enabled {
            queued.append(item)
        } else {
            logger.info("not configured, recorded what would have been sent", metadata: ["kind": "\(kind.rawValue)", "outbox_id": "\(item.id)", "payload": "\(payload)"])
        }
    }
}

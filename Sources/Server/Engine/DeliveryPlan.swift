import Flows
import Foundation
import Logging
import Storage

/// What the server makes of a run's decisions before committing it: outbox items for the
/// outside services (written in the run's transaction, delivered after it), socket.io
/// broadcasts and live-stream chat updates (sent once it is committed).
struct DeliveryPlan: Sendable {
    /// Which services are configured: an item for one that is not is recorded, not sent.
    struct Services: Sendable {
        var telegram: Bool
        var push: Bool
        var brevo: Bool = false
    }

    let services: Services
    var outbox: [OutboxDraft] = []
    var broadcasts: [Broadcast] = []
    /// Chats whose auto mode changed, for the live stream.
    var chatUpdates: [ChatRef] = []

    init(services: Services) {
        self.services = services
    }

    /// The plan for a run's deliveries, in the order the flows decided them.
    init(_ outcome: RunOutcome, services: Services, logger: Logger) {
        self.services = services
        guard let userID = outcome.userID else { return }
        let inbound = outcome.inboundMessages.map { Array(outcome.messages[$0]) } ?? []
        for delivery in outcome.deliveries { add(delivery, of: outcome.event, stored: inbound, userID: userID, logger: logger) }
    }

    /// `stored`: the event's own message as the run stores it (one per photo).
    private mutating func add(_ delivery: Delivery, of event: InboundEvent, stored: [StoredMessage], userID: String, logger: Logger) {
        let source = event.kind.source
        switch delivery.effect {
        case .forwardToGroup(let text, _):
            let payload = ForwardPayload(
                userID: userID, userName: event.userName, text: text, photos: event.photoURLs,
                source: source == .app ? nil : source,
                fileLinks: event.linkedFiles.isEmpty ? nil : event.linkedFiles.map { "\($0.name): \($0.url)" })
            queue(.telegramForward, lane: Self.groupLane, payload: OutboxJSON.encode(payload), enabled: services.telegram, at: event.at)
            if let copy = Self.telegramCopy(of: event, source: source) {
                queue(.telegramCopy, lane: Self.groupLane, payload: OutboxJSON.encode(copy), enabled: services.telegram, at: event.at)
            }
        case .push(let title, let text):
            let payload = PushPayload(userID: userID, title: title, text: text)
            queue(.push, lane: "fcm:\(userID)", payload: OutboxJSON.encode(payload), enabled: services.push, at: event.at)
        case .greet(let text):
            broadcasts.append(Broadcast(userID: userID, item: HistoryItem(message: text, photoURL: nil, direction: "support", createdAt: event.at)))
        case .reply(let text):
            addReply(text: text, source: source, userID: userID, at: event.at, message: delivery.message, logger: logger)
        case .broadcast:
            // The event's own message, as stored: staff replies show as support, the
            // user's own messages (on another device) as user, one item per photo as in
            // the history.
            guard source == .app else { return }
            if stored.isEmpty {
                // An event that stores no message (a history fetch): its text alone.
                let direction = event.kind == .telegramReply ? "support" : "user"
                let item = HistoryItem(message: event.text ?? "", photoURL: event.photoURLs.first, direction: direction, createdAt: event.at)
                broadcasts.append(Broadcast(userID: userID, item: item))
            } else {
                broadcasts += stored.map { Broadcast(userID: userID, item: HistoryItem($0)) }
            }
        case .setAutoMode:
            // The run's writes hold the new mode; the live stream shows the chat's new state.
            chatUpdates.append(ChatRef(source: source, platformChatID: userID))
        }
    }

    /// The staff group's lane: its messages go out in order.
    static let groupLane = "telegram:group"

    /// The customer's own Telegram message, when staff would otherwise miss part of it: it
    /// has an attachment other than a photo the server kept (a voice note, a sticker, a
    /// video, a file, or a photo whose download failed), or neither text nor a known
    /// attachment (a location, a contact, a poll).
    static func telegramCopy(of event: InboundEvent, source: ChatSource) -> TelegramCopyPayload? {
        guard source == .telegram, let chatID = event.userID.flatMap({ Int64($0) }),
            let messageID = event.platformMessageID.flatMap({ Int64($0) })
        else { return nil }
        switch event.media {
        case .none where !(event.text ?? "").isEmpty: return nil
        case .photo where !event.photoURLs.isEmpty: return nil
        default: return TelegramCopyPayload(chatID: chatID, messageID: messageID, userID: String(chatID), source: source)
        }
    }

    /// A message from support to a chat: shown live in the app, or sent to the
    /// customer's Telegram chat or Instagram conversation through the outbox. `message`:
    /// its index in the run's stored messages, which the outbox item names so the channel's
    /// id for it is noted on it.
    mutating func addReply(
        text: String, source: ChatSource, userID: String, at: Date, visitorID: String? = nil, photoFileID: String? = nil, message: Int?,
        logger: Logger
    ) {
        switch source {
        case .app:
            broadcasts.append(Broadcast(userID: userID, item: HistoryItem(message: text, photoURL: nil, direction: "support", createdAt: at)))
        case .telegram:
            if let chatID = Int64(userID) {
                let payload = TelegramReplyPayload(chatID: chatID, text: text, photoFileID: photoFileID)
                queue(.telegramReply, lane: "telegram:\(chatID)", payload: OutboxJSON.encode(payload), enabled: services.telegram, at: at, message: message)
            } else {
                logger.error("a Telegram chat id must be a number; the reply is stored but not sent", metadata: ["chat": "\(userID)"])
            }
        case .instagram:
            let visitor = visitorID ?? userID
            let payload = BrevoMessagePayload(visitorID: visitor, text: text)
            queue(.brevoMessage, lane: "brevo:\(visitor)", payload: OutboxJSON.encode(payload), enabled: services.brevo, at: at, message: message)
        }
    }

    /// A message from the service to staff in the group, answering one of theirs.
    mutating func addStaffNotice(_ text: String, groupChatID: Int64, replyTo: Int64, at: Date) {
        let payload = TelegramReplyPayload(chatID: groupChatID, text: text, replyTo: replyTo)
        queue(.telegramReply, lane: "telegram:\(groupChatID)", payload: OutboxJSON.encode(payload), enabled: services.telegram, at: at)
    }

    private mutating func queue(_ kind: OutboxKind, lane: String, payload: String, enabled: Bool, at: Date, message: Int? = nil) {
        outbox.append(OutboxDraft(kind: kind, lane: lane, payload: payload, status: enabled ? .pending : .recorded, at: at, message: message))
    }
}

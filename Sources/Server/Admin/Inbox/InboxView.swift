import Flows
import Foundation
import Storage

/// Turns the inbox's stored records into the values its template shows: labels, times, the
/// auto-mode badge, who wrote each message, safe links. Every text stays plain data here:
/// the template escapes it.
struct InboxView: Sendable {
    let time: DisplayTime
    let autoModeDefault: Bool

    static func sourceLabel(_ source: ChatSource) -> String {
        switch source {
        case .app: "App"
        case .telegram: "Telegram"
        case .instagram: "Instagram"
        }
    }

    /// A chat without a name shows its id on its channel.
    static func name(_ name: String?, source: ChatSource, platformChatID: String) -> String {
        if let name, !name.trimmingCharacters(in: .whitespaces).isEmpty { return name }
        return "\(sourceLabel(source)) \(platformChatID)"
    }

    func mode(_ stored: Bool?) -> (on: Bool, label: String, cssClass: String) {
        let on = stored ?? autoModeDefault
        return on ? (true, "AI answering", "mode-ai") : (false, "Staff", "mode-staff")
    }

    /// One row of the chat list; `href` keeps the list's filters.
    func row(_ chat: InboxChat, current: Int64?, filterQuery: String) -> [String: Any] {
        let mode = mode(chat.autoMode)
        let at = chat.lastMessage?.at ?? chat.updatedAt
        var row: [String: Any] = [
            "id": chat.id, "href": "/admin/chats/\(chat.id)\(filterQuery)",
            "name": Self.name(chat.name, source: chat.source, platformChatID: chat.platformChatID),
            "sourceLabel": Self.sourceLabel(chat.source), "modeLabel": mode.label, "modeClass": mode.cssClass,
            "unread": chat.unread, "current": chat.id == current,
            "atISO": time.iso(at), "atShort": time.short(at), "atFull": time.full(at),
        ]
        if let preview = chat.lastMessage { row["preview"] = previewText(preview) }
        if let since = chat.waitingSince {
            row["waitingLabel"] = time.wait(since: since)
            row["waitingSince"] = time.full(since)
        }
        return row
    }

    private func previewText(_ preview: InboxPreview) -> String {
        let prefix =
            switch preview.author {
            case .customer: ""
            case .assistant: "AI: "
            case .flow: "Bot: "
            case .staff: "You: "
            }
        let text = preview.text.isEmpty ? Self.mediaLabel(preview.media) ?? "(empty)" : preview.text
        return prefix + text.replacingOccurrences(of: "\n", with: " ")
    }

    static func mediaLabel(_ media: MediaKind) -> String? {
        switch media {
        case .none: nil
        case .photo: "Photo"
        case .voice: "Voice message"
        case .audio: "Audio"
        case .video: "Video"
        case .document: "Document"
        case .sticker: "Sticker"
        }
    }

    /// Who wrote a message, as the conversation shows it.
    static func authorLabel(_ message: InboxMessage, customerName: String) -> String {
        switch message.author {
        case .customer: customerName
        case .assistant: "AI" + (message.flow.map { " · \($0)" } ?? "")
        case .flow: "Flow · " + (message.flow ?? "automatic")
        case .staff: message.senderName.flatMap { $0.isEmpty ? nil : $0 } ?? "Staff"
        }
    }

    func message(_ message: InboxMessage, chatID: Int64, customerName: String) -> [String: Any] {
        var values: [String: Any] = [
            "id": message.id, "chatID": chatID, "author": message.author.rawValue,
            "authorLabel": Self.authorLabel(message, customerName: customerName),
            "directionClass": message.direction == .user ? "incoming" : "outgoing",
            "atISO": time.iso(message.createdAt), "atShort": time.short(message.createdAt), "atFull": time.full(message.createdAt),
        ]
        if !message.text.isEmpty { values["text"] = message.text }
        let link = SafeLink.href(message.photoURL)
        switch message.media {
        case .photo where link != nil: values["photoHref"] = link
        case .voice where message.audioLocation != nil, .audio where message.audioLocation != nil:
            values["audioHref"] = "/admin/chats/\(chatID)/voice/\(message.id)"
        case .voice where link != nil, .audio where link != nil: values["audioHref"] = link
        case .document where link != nil, .video where link != nil:
            values["fileHref"] = link
            values["mediaName"] = Self.mediaLabel(message.media)
        default:
            // Media the panel cannot show itself (a Telegram voice note, kept by Telegram) is
            // named, so the message is not an empty bubble.
            if let label = Self.mediaLabel(message.media) { values["mediaLabel"] = label }
        }
        if let transcript = message.transcript, !transcript.isEmpty { values["transcript"] = transcript }
        if let delivery = message.delivery {
            switch delivery.status {
            case .failed:
                values["failed"] = true
                values["error"] = delivery.lastError ?? "the channel refused it"
                values["itemID"] = delivery.itemID
            case .pending:
                values["pending"] = true
            default:
                break
            }
        }
        return values
    }

    func run(_ trace: ChatRunTrace) -> [String: Any] {
        var values: [String: Any] = [
            "event": trace.trigger.map { "\($0.rawValue)" } ?? "\(trace.eventKind.rawValue) (no trigger fired)",
            "atISO": time.iso(trace.at), "atFull": time.full(trace.at),
            "flows": trace.flows.map { flow -> [String: Any] in
                var values: [String: Any] = ["flow": flow.flow, "result": "\(flow.result.rawValue)", "resultClass": "\(flow.result.rawValue)"]
                if let reason = flow.reason, !reason.isEmpty { values["reason"] = reason }
                if let variant = flow.variant { values["variant"] = variant }
                values["actions"] = flow.actions
                return values
            },
        ]
        if let note = trace.note, !note.isEmpty { values["note"] = note }
        return values
    }
}

import Channels
import Foundation
import Storage

/// Sends a reply to a customer's private Telegram chat (a flow's, or staff's from the
/// group, photo included), or a notice to staff in the group.
struct TelegramReplyDeliverer: Deliverer {
    let chats: any CustomerChannel
    let group: any StaffGroup
    let groupChatID: Int64

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        let payload = try OutboxJSON.decode(TelegramReplyPayload.self, item.payload)
        // A notice to staff goes to the group; anything else to the customer's chat.
        let toGroup = payload.chatID == groupChatID
        let chat = String(payload.chatID)
        guard let fileID = payload.photoFileID else {
            let pieces = TelegramText.split(payload.text, limit: TelegramText.messageLimit)
            try await progress.send(Array(pieces.enumerated()), plan: DeliveryProgress.fingerprint(pieces)) { index, chunk in
                let html = TelegramText.escapeHTML(chunk), replyTo = index == 0 ? payload.replyTo : nil
                if toGroup {
                    _ = try await group.sendText(html, thread: nil, replyTo: replyTo)
                } else {
                    let sent = try await chats.sendText(html, to: chat, replyTo: replyTo)
                    if index == 0 { await progress.sent(channelID: sent) }
                }
            }
            return
        }
        // The text rides as the photo's caption; what does not fit follows as messages.
        var texts =
            payload.text.isEmpty
            ? []
            : TelegramForwarder.pieces(
                header: "", text: payload.text, firstLimit: TelegramText.captionLimit, restLimit: TelegramText.messageLimit)
        let caption = texts.isEmpty ? nil : texts.removeFirst()
        // Part 0 is the photo, then the texts: a retry resumes after what went out.
        let parts: [String?] = [nil] + texts.map { Optional($0) }
        let plan = DeliveryProgress.fingerprint(["photo:\(fileID):\(caption ?? "")"] + texts)
        try await progress.send(parts, plan: plan) { text in
            if let text {
                _ = try await chats.sendText(text, to: chat, replyTo: nil)
            } else {
                await progress.sent(channelID: try await chats.sendPhoto(fileID: fileID, caption: caption, to: chat, replyTo: payload.replyTo))
            }
        }
    }
}

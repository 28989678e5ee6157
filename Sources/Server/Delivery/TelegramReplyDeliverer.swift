import Channels
import Foundation
import Storage

/// Sends a reply to a customer's private Telegram chat (a flow's, or staff's from the
/// group, photo included), or a notice to staff in the group.
struct TelegramReplyDeliverer: Deliverer {
    let telegram: TelegramClient

    func deliver(_ item: OutboxItem) async throws {
        let payload = try OutboxJSON.decode(TelegramReplyPayload.self, item.payload)
        var texts = TelegramText.split(payload.text, limit: TelegramText.messageLimit).map(TelegramText.escapeHTML)
        if let fileID = payload.photoFileID {
            // The text rides as the photo's caption; what does not fit follows as messages.
            texts = payload.text.isEmpty ? [] : TelegramForwarder.pieces(
                header: "", text: payload.text, firstLimit: TelegramText.captionLimit, restLimit: TelegramText.messageLimit)
            let caption = texts.isEmpty ? nil : texts.removeFirst()
            _ = try await telegram.sendPhoto(chatID: payload.chatID, fileID: fileID, caption: caption, parseMode: "HTML", replyToMessageID: payload.replyTo)
        }
        for (index, text) in texts.enumerated() {
            let replyTo = index == 0 && payload.photoFileID == nil ? payload.replyTo : nil
            _ = try await telegram.sendMessage(chatID: payload.chatID, text: text, parseMode: "HTML", messageThreadID: nil, replyToMessageID: replyTo)
        }
    }
}

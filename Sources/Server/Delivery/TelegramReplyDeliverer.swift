import Channels
import Foundation
import Storage

/// Sends a flow's reply to a customer's private Telegram chat.
struct TelegramReplyDeliverer: Deliverer {
    let telegram: TelegramClient

    func deliver(_ item: OutboxItem) async throws {
        let payload = try OutboxJSON.decode(TelegramReplyPayload.self, item.payload)
        for chunk in TelegramText.split(payload.text, limit: TelegramText.messageLimit) {
            _ = try await telegram.sendMessage(chatID: payload.chatID, text: TelegramText.escapeHTML(chunk), parseMode: "HTML", messageThreadID: nil, replyToMessageID: nil)
        }
    }
}

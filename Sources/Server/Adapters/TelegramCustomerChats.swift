import Channels

/// Customers' private chats with the bot, over the Telegram Bot API (texts in HTML).
struct TelegramCustomerChats: CustomerChannel {
    let telegram: TelegramClient

    func sendText(_ text: String, to chatID: String, replyTo: Int64?) async throws -> String? {
        String(
            try await telegram.sendMessage(chatID: try Self.number(chatID), text: text, parseMode: "HTML", messageThreadID: nil, replyToMessageID: replyTo)
                .messageID)
    }

    func sendPhoto(fileID: String, caption: String?, to chatID: String, replyTo: Int64?) async throws -> String? {
        String(
            try await telegram.sendPhoto(chatID: try Self.number(chatID), fileID: fileID, caption: caption, parseMode: "HTML", replyToMessageID: replyTo)
                .messageID)
    }

    /// Telegram chat ids are numbers; anything else cannot be delivered, ever.
    static func number(_ chatID: String) throws -> Int64 {
        guard let number = Int64(chatID) else { throw DeliveryError(.fail, "a Telegram chat id must be a number, not \(chatID)") }
        return number
    }
}

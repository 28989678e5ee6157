import Channels

/// The staff group over the Telegram Bot API.
struct TelegramStaffGroup: StaffGroup {
    let telegram: TelegramClient
    let chatID: Int64

    func sendText(_ html: String, thread: Int64?, replyTo: Int64?) async throws -> Int64 {
        try await telegram.sendMessage(chatID: chatID, text: html, parseMode: "HTML", messageThreadID: thread, replyToMessageID: replyTo).messageID
    }

    func sendPhoto(_ photo: TelegramUpload, caption html: String?, thread: Int64?) async throws -> Int64 {
        try await telegram.sendPhoto(chatID: chatID, photo: photo, caption: html, parseMode: "HTML", messageThreadID: thread).messageID
    }

    func sendAlbum(_ photos: [TelegramUpload], caption html: String?, thread: Int64?) async throws -> [Int64] {
        try await telegram.sendMediaGroup(chatID: chatID, photos: photos, caption: html, parseMode: "HTML", messageThreadID: thread).map(\.messageID)
    }

    func copy(messageID: Int64, fromChat sourceChatID: Int64) async throws -> Int64 {
        try await telegram.copyMessage(chatID: chatID, fromChatID: sourceChatID, messageID: messageID)
    }

    func createTopic(name: String) async throws -> Int64 {
        try await telegram.createForumTopic(chatID: chatID, name: name)
    }
}

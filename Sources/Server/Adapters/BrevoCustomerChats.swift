import Channels

/// Instagram conversations through Brevo Conversations (plain text only; Brevo takes no
/// photo by a Telegram file id).
struct BrevoCustomerChats: CustomerChannel {
    let brevo: BrevoClient

    func sendText(_ text: String, to visitorID: String, replyTo: Int64?) async throws -> String? {
        try await brevo.sendMessage(visitorID: visitorID, text: text)
    }

    func sendPhoto(fileID: String, caption: String?, to visitorID: String, replyTo: Int64?) async throws -> String? {
        throw DeliveryError(.fail, "Instagram conversations through Brevo take text only")
    }
}

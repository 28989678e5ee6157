import Channels
import Foundation
import Storage

/// Sends replies to Instagram visitors through Brevo Conversations, and remembers the id
/// Brevo gives each one: if the webhook brings it back, it is known as ours.
struct BrevoDeliverer: Deliverer {
    let chats: any CustomerChannel
    let outbox: any OutboxLanes

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        let payload = try OutboxJSON.decode(BrevoMessagePayload.self, item.payload)
        // Recorded with the delivery's result; were it lost, the receivedFrom mark still
        // stops an echo being answered.
        if let id = try await chats.sendText(payload.text, to: payload.visitorID, replyTo: nil) {
            await outbox.recordBrevoMessageSent(id, at: Date())
            await progress.sent(channelID: id)
        }
    }
}

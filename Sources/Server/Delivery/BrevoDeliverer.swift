import Channels
import Foundation
import Logging
import Storage

/// Sends replies to Instagram visitors through Brevo Conversations, and remembers the id
/// Brevo gives each one: if the webhook brings it back, it is known as ours.
struct BrevoDeliverer: Deliverer {
    let brevo: BrevoClient
    let sent: BrevoMessageLog
    let logger: Logger

    func deliver(_ item: OutboxItem) async throws {
        let payload = try OutboxJSON.decode(BrevoMessagePayload.self, item.payload)
        let id = try await brevo.sendMessage(visitorID: payload.visitorID, text: payload.text)
        guard let id else { return }
        do {
            try sent.recordSent(id, at: Date())
        } catch {
            // Sent all the same; the receivedFrom mark still stops an echo being answered.
            logger.warning("could not record a sent Brevo message id", metadata: ["brevo_message_id": "\(id)", "error": "\(error)"])
        }
    }
}

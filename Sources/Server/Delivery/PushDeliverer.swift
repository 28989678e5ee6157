import Channels
import Foundation
import Logging
import Storage

/// Pushes to every registered device of a user. Tokens FCM no longer accepts are
/// removed; a retryable failure on any device retries the item (devices already reached
/// may then see it twice, which beats never seeing it).
struct PushDeliverer: Deliverer {
    let push: any PushSender
    let queries: any ServerQueries
    let logger: Logger

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        let payload = try OutboxJSON.decode(PushPayload.self, item.payload)
        let devices = try await queries.devices(userID: payload.userID)
        if devices.isEmpty {
            logger.info("no registered device: push not sent", metadata: ["user": "\(payload.userID)", "outbox_id": "\(item.id)"])
            return
        }
        var retry: DeliveryError?
        for device in devices {
            do {
                try await push.send(
                    token: device.token, title: payload.title, body: payload.text, data: ["user_id": payload.userID, "type": "support_message"])
            } catch let error as DeliveryError {
                switch error.disposition {
                case .dropRecipient:
                    logger.info("FCM rejected a token: removed", metadata: ["user": "\(payload.userID)", "error": "\(error.description)"])
                    try await queries.removeDevice(token: device.token)
                case .retry:
                    retry = error
                case .fail:
                    logger.error("push failed", metadata: ["user": "\(payload.userID)", "error": "\(error.description)"])
                }
            }
        }
        if let retry { throw retry }
    }
}

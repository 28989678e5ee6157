import Channels
import Foundation
import Storage

/// Copies a customer's Telegram message into the staff group (`copyMessage`), after the
/// forward that introduces it, and maps the copy to the customer so staff can reply to
/// it. When Telegram will not copy it (the customer deleted it, or it cannot be copied),
/// staff are told in its place instead of the item failing out of sight.
struct TelegramCopier: Deliverer {
    let group: any StaffGroup
    /// Where the group message the copy became is recorded.
    let outbox: any OutboxLanes
    let clock: @Sendable () -> Date

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        let payload = try OutboxJSON.decode(TelegramCopyPayload.self, item.payload)
        let groupMessageID: Int64
        do {
            groupMessageID = try await group.copy(messageID: payload.messageID, fromChat: payload.chatID)
        } catch let error as DeliveryError where error.disposition == .fail {
            let notice = "⚠️ " + TelegramText.escapeHTML("The customer's message could not be copied here (\(error.description)); ask them to send it again.")
            groupMessageID = try await group.sendText(notice, thread: nil, replyTo: nil)
        }
        await outbox.recordGroupForwards([groupMessageID], userID: payload.userID, source: payload.source, at: clock())
    }
}

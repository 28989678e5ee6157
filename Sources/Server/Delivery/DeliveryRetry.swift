import Foundation
import Storage

/// "Retry" on a failed delivery: the item is put back in the outbox as pending (one
/// transaction, `OutboxLanes.retry`) and handed to the running outbox worker at once, the
/// way a commit hands it new items, so it is really sent again, not only unmarked.
struct DeliveryRetry: Sendable {
    let outbox: any OutboxLanes
    let deliveries: DeliveryQueue
    let clock: @Sendable () -> Date

    /// Queues the failed outbox item `itemID` again and returns it as it now stands
    /// (pending). Throws `OutboxRetryError` for an unknown item or one that has not failed.
    func retry(itemID: Int64) async throws -> OutboxItem {
        let item = try await outbox.retry(itemID: itemID, at: clock())
        deliveries.add([item])
        return item
    }
}

import Foundation

/// Runs events one after another over a store that keeps each outcome before the next
/// event: dry-run, flow tests and replay.
///
/// Forwards to the staff group get made-up group message ids (from 1000), so a later
/// `telegram_reply` with `reply_to` finds its user, as with real Telegram message ids.
public final class SequentialRunner<Store: FlowStateStore> {
    public var runtime: FlowRuntime
    public let store: Store
    public let services: any FlowServices
    private var nextGroupMessageID: Int64 = 1000

    /// The group message id given to the latest forwarded message.
    public var lastGroupMessageID: Int64? { nextGroupMessageID > 1000 ? nextGroupMessageID - 1 : nil }

    public init(runtime: FlowRuntime, store: Store, services: any FlowServices = RecordingServices()) {
        self.runtime = runtime
        self.store = store
        self.services = services
    }

    /// Runs one event and keeps its outcome.
    public func run(_ event: InboundEvent) async -> RunResult {
        let outcome = await runtime.run(event, view: store, services: services)
        store.apply(outcome)
        guard let userID = outcome.userID else { return outcome.result }
        for delivery in outcome.deliveries {
            if case .forwardToGroup = delivery.effect {
                store.saveGroupForward(groupMessageID: nextGroupMessageID, userID: userID, at: event.at)
                nextGroupMessageID += 1
            }
        }
        return outcome.result
    }
}

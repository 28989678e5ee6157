import Flows
import Foundation
import Logging
import Storage

/// Runs the flows for the server. One actor owns the runtime and its state: events run
/// one at a time on it (an action awaiting a service lets others in), and every event's
/// writes, with the deliveries its flows decided, are committed before `handle` returns.
public actor FlowEngine {
    private let runtime: FlowRuntime
    private let store: BufferedStateStore
    private let effects: ServerEffects
    private let onDeliveries: @Sendable ([OutboxItem]) -> Void
    private let onBroadcasts: @Sendable ([Broadcast]) async -> Void
    private let onCommitted: @Sendable (Committed) -> Void
    private var updatesUnderWay: Set<Int64> = []

    init(
        flowSet: FlowSet, database: ReplyflowDatabase, configuration: ServerConfiguration, services: ServerEffects.Services, logger: Logger,
        onDeliveries: @escaping @Sendable ([OutboxItem]) -> Void, onBroadcasts: @escaping @Sendable ([Broadcast]) async -> Void,
        onCommitted: @escaping @Sendable (Committed) -> Void = { _ in }
    ) throws {
        store = try BufferedStateStore(database: database)
        store.tracksStoredMessages = true
        self.onCommitted = onCommitted
        effects = ServerEffects(store: store, services: services, logger: logger)
        runtime = FlowRuntime(flowSet: flowSet, state: store, effects: effects, timeZone: configuration.timeZone, autoModeDefault: configuration.autoModeDefault)
        self.onDeliveries = onDeliveries
        self.onBroadcasts = onBroadcasts
    }

    /// Runs one event and makes its results durable.
    public func handle(_ event: InboundEvent) async throws -> RunResult {
        let result = await runtime.run(event)
        try await commitProduced()
        return result
    }

    /// Handles a Telegram update once: its id is committed with what its event did, so a
    /// crash before the commit makes Telegram's redelivery run it again, and a
    /// redelivery after the commit (or while it runs) is ignored. Nil when skipped.
    public func handleTelegramUpdate(_ updateID: Int64, event: InboundEvent?, seenBefore: Bool) async throws -> RunResult? {
        guard !seenBefore, !updatesUnderWay.contains(updateID) else { return nil }
        updatesUnderWay.insert(updateID)
        defer { updatesUnderWay.remove(updateID) }
        store.enqueueUpdateSeen(updateID, at: Date())
        guard let event else {
            try await commitProduced()
            return nil
        }
        return try await handle(event)
    }

    /// A history fetch: runs it, and says which app message is the user's newest (so a
    /// cached page can be reused), in one hop.
    public func handleHistoryFetch(_ event: InboundEvent) async throws -> (result: RunResult, latestMessageID: Int64?) {
        let result = try await handle(event)
        return (result, event.userID.flatMap { store.latestAppMessageID(userID: $0) })
    }

    /// After a history page was read from SQLite: its newest message id, for users whose
    /// newest message the store did not know.
    public func rememberLatestMessageID(_ id: Int64, userID: String) {
        store.rememberLatestAppMessageID(id, userID: userID)
    }

    /// A message written through the `/api` (by staff or another system): stored in the
    /// chat, then delivered on its channel like a flow's reply. Returns its id.
    public func sendFromAPI(source: ChatSource, platformChatID: String, text: String, at: Date) async throws -> Int64 {
        let id = store.storeMessage(StoredMessage(userID: platformChatID, source: source, direction: .support, text: text, at: at))
        effects.queueReply(text: text, source: source, userID: platformChatID, at: at)
        try await commitProduced()
        return id
    }

    /// Sets a chat's auto mode from the `/api`.
    public func setAutoMode(_ on: Bool, source: ChatSource, platformChatID: String, at: Date) async throws {
        store.setAutoMode(on, source: source, userID: platformChatID, at: at)
        effects.noteChatUpdate(source: source, userID: platformChatID)
        try await commitProduced()
    }

    private func commitProduced() async throws {
        let produced = effects.take()
        let stored = store.takeStoredMessages()
        try await store.commit()
        if !stored.isEmpty || !produced.chatUpdates.isEmpty { onCommitted(Committed(messages: stored, chats: produced.chatUpdates)) }
        if !produced.outbox.isEmpty { onDeliveries(produced.outbox) }
        if !produced.broadcasts.isEmpty { await onBroadcasts(produced.broadcasts) }
    }

    /// Swaps in a new flow set; runs already under way finish with the old one.
    public func replaceFlows(_ flowSet: FlowSet) {
        runtime.flowSet = flowSet
    }

    public var flowSet: FlowSet { runtime.flowSet }

    /// Remembers which user a message sent to the staff group belongs to, so staff
    /// replies to it find their way back.
    func recordGroupForwards(_ groupMessageIDs: [Int64], userID: String, at: Date) async throws {
        for id in groupMessageIDs { store.saveGroupForward(groupMessageID: id, userID: userID, at: at) }
        try await commitProduced()
    }
}

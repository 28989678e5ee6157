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
    private let brevoMessages: BrevoMessageLog
    private var brevoMessagesUnderWay: Set<String> = []

    init(
        flowSet: FlowSet, database: ReplyflowDatabase, configuration: ServerConfiguration, services: ServerEffects.Services,
        assistant: Assistant? = nil, logger: Logger,
        onDeliveries: @escaping @Sendable ([OutboxItem]) -> Void, onBroadcasts: @escaping @Sendable ([Broadcast]) async -> Void,
        onCommitted: @escaping @Sendable (Committed) -> Void = { _ in }
    ) throws {
        store = try BufferedStateStore(database: database)
        store.tracksStoredMessages = true
        store.forwardsRecordedElsewhere = true
        self.onCommitted = onCommitted
        effects = ServerEffects(store: store, services: services, assistant: assistant, logger: logger)
        brevoMessages = BrevoMessageLog(database: database)
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
    /// A `relay` (staff answering an Instagram or Telegram chat from the group) is stored
    /// and queued for its channel in the same commit.
    func handleTelegramUpdate(_ updateID: Int64, event: InboundEvent?, relay: StaffRelay? = nil, seenBefore: Bool) async throws -> RunResult? {
        guard !seenBefore, !updatesUnderWay.contains(updateID) else { return nil }
        updatesUnderWay.insert(updateID)
        defer { updatesUnderWay.remove(updateID) }
        if let relay { queueRelay(relay) }
        var result: RunResult?
        if let event { result = await runtime.run(event) }
        // Marked seen only once the run is over: while it waits on the AI another event's
        // commit takes whatever is queued, and a crash then must not lose this update.
        store.enqueueUpdateSeen(updateID, at: Date())
        try await commitProduced()
        return result
    }

    /// Stores a staff reply to an Instagram or Telegram chat and queues it for the chat's
    /// channel. Instagram through Brevo takes text only: a photo there is not sent, and
    /// staff are told so under their message instead of it vanishing.
    private func queueRelay(_ relay: StaffRelay) {
        let source = relay.chat.source, chatID = relay.chat.platformChatID
        _ = store.storeMessage(StoredMessage(
            userID: chatID, source: source, direction: .support, text: relay.text,
            media: relay.photo == nil ? .none : .photo, at: relay.at, photoURL: relay.photo?.url))
        let photoFileID = source == .telegram ? relay.photo?.fileID : nil
        if !relay.text.isEmpty || photoFileID != nil {
            effects.queueReply(text: relay.text, source: source, userID: chatID, at: relay.at, photoFileID: photoFileID)
        }
        if relay.photo != nil && photoFileID == nil {
            let notice = relay.text.isEmpty
                ? "Not sent: Instagram conversations through Brevo take text only, so this photo did not reach the customer."
                : "Only the text was sent: Instagram conversations through Brevo take text only, so the photo did not reach the customer."
            effects.queueStaffNotice(notice, groupChatID: relay.groupChatID, replyTo: relay.groupMessageID, at: relay.at)
        }
    }

    /// Handles a Brevo message once, like a Telegram update: its id is committed with what
    /// its event did, and a webhook that brings it again (or while it runs) is ignored.
    /// An agent message with no event (written by staff in Brevo's inbox) is only stored.
    /// Nil when the message was handled before.
    public func handleBrevoMessage(_ messageID: String, event: InboundEvent?, agentMessage: StoredMessage? = nil) async throws -> RunResult? {
        guard !brevoMessagesUnderWay.contains(messageID), try !brevoMessages.contains(messageID) else { return nil }
        brevoMessagesUnderWay.insert(messageID)
        defer { brevoMessagesUnderWay.remove(messageID) }
        if let agentMessage {
            _ = store.storeMessage(agentMessage)
            // A chat staff started keeps the default auto mode of when it started, as one a
            // customer started does (the runtime stores that for inbound messages).
            if store.autoMode(source: agentMessage.source, userID: agentMessage.userID) == nil {
                store.setAutoMode(runtime.autoModeDefault, source: agentMessage.source, userID: agentMessage.userID, at: agentMessage.at)
            }
        }
        var result = RunResult(trigger: nil, note: "stored, no flow runs for it", userID: agentMessage?.userID)
        if let event { result = await runtime.run(event) }
        // As for Telegram updates: marked handled only once the run is over.
        store.enqueueWrite(BrevoMessageLog.record(messageID, .received, at: Date()))
        try await commitProduced()
        return result
    }

    /// Whether a Brevo message was handled (or is being handled) already: lets the webhook
    /// skip downloading the files of a message delivered twice.
    public func isBrevoMessageHandled(_ messageID: String) throws -> Bool {
        try brevoMessagesUnderWay.contains(messageID) || brevoMessages.contains(messageID)
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
    /// `visitorID` overrides where an Instagram message goes (Brevo's visitor id).
    public func sendFromAPI(
        source: ChatSource, platformChatID: String, text: String, senderName: String? = nil, visitorID: String? = nil, at: Date
    ) async throws -> Int64 {
        let id = store.storeMessage(StoredMessage(userID: platformChatID, source: source, direction: .support, text: text, at: at, senderName: senderName))
        effects.queueReply(text: text, source: source, userID: platformChatID, at: at, visitorID: visitorID)
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
        // The assistant's next question in a chat waits for this answer to be stored.
        let held = effects.takeHeldChats()
        defer { if !held.isEmpty { Task { for release in held { await release() } } } }
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
}

import Flows
import Foundation
import Logging
import Storage
import Synchronization

/// Runs the flows for the server: every input takes one path.
///
/// In its chat's lane (a chat's inputs one at a time, in order; other chats side by side),
/// an input whose idempotency key is committed is skipped; otherwise the state it needs is
/// read, the flows decide (waiting on the AI if they ask it), and the outcome is committed
/// with the key in one transaction of its own. Only then are its deliveries handed to the
/// outbox worker and its broadcasts sent. A crash before the commit leaves nothing of the
/// run and the input to be handled again; after it, the input is recognised and skipped.
public final class FlowEngine: Sendable {
    private let store: any RunStore
    private let runtime: Mutex<FlowRuntime>
    private let lanes = OrderedLanes<String>()
    private let services: DeliveryPlan.Services
    private let assistant: (any AssistantService)?
    private let metrics: ServerMetrics
    private let logger: Logger
    private let published: @Sendable (CommittedRun) async -> Void

    /// `published` hears of every commit, in each chat's order, before the chat's next input runs.
    init(
        flowSet: FlowSet, store: any RunStore, configuration: ServerConfiguration, services: DeliveryPlan.Services,
        assistant: (any AssistantService)? = nil, metrics: ServerMetrics, logger: Logger, published: @escaping @Sendable (CommittedRun) async -> Void
    ) {
        self.store = store
        runtime = Mutex(FlowRuntime(flowSet: flowSet, timeZone: configuration.timeZone, autoModeDefault: configuration.autoModeDefault))
        self.services = services
        self.assistant = assistant
        self.metrics = metrics
        self.logger = logger
        self.published = published
    }

    // MARK: Inputs

    /// Runs one event and commits what it did.
    public func handle(_ event: InboundEvent) async throws -> RunResult {
        try await run(event, key: nil)?.result ?? RunResult(trigger: nil, note: "handled before", userID: event.userID)
    }

    /// A history fetch: runs it, and says which app message is the user's newest once it
    /// is committed (so a cached page can be reused).
    public func handleHistoryFetch(_ event: InboundEvent) async throws -> (result: RunResult, latestMessageID: Int64?) {
        let handled = try await run(event, key: nil, readsLatestAppMessage: true)
        return (handled?.result ?? RunResult(trigger: nil, userID: event.userID), handled?.latestAppMessageID)
    }

    /// Handles a Telegram update once: its id is committed with what its event did, so a
    /// crash before the commit makes it run again, and a redelivery after the commit is
    /// skipped. Nil when it was handled before. A `relay` (staff answering an Instagram or
    /// Telegram chat from the group) is stored and queued for its channel in the same commit,
    /// and so is a `notice` to staff about their message.
    func handleTelegramUpdate(_ updateID: Int64, event: InboundEvent?, relay: StaffRelay? = nil, notice: StaffNotice? = nil) async throws
        -> RunResult?
    {
        let key = IdempotencyKey.telegramUpdate(updateID)
        if let event { return try await run(event, key: key, notice: notice)?.result }
        let lane = relay?.chat.platformChatID ?? ""
        let committed = try await commitInLane(lane, key: key) { _ in
            var decision = Decision(record: RunRecord(idempotencyKey: key), plan: DeliveryPlan(services: services))
            if let relay { addRelay(relay, to: &decision) }
            if let notice { decision.plan.addStaffNotice(notice.text, groupChatID: notice.groupChatID, replyTo: notice.replyTo, at: notice.at) }
            return decision
        }
        return committed.map { _ in
            let note = relay != nil ? "relayed to the customer" : notice.map { "staff were told: \($0.text)" } ?? "no event in this update"
            return RunResult(trigger: nil, note: note, userID: relay?.chat.platformChatID)
        }
    }

    /// Whether a Telegram update was handled already.
    func isTelegramUpdateHandled(_ updateID: Int64) async throws -> Bool {
        try await store.isHandled(.telegramUpdate(updateID))
    }

    /// Handles a Brevo message once, like a Telegram update. An agent message with no
    /// event (written by staff in Brevo's inbox) is only stored. Nil when handled before.
    public func handleBrevoMessage(_ messageID: String, event: InboundEvent?, agentMessage: StoredMessage? = nil) async throws -> RunResult? {
        let key = IdempotencyKey.brevoMessage(messageID)
        if let event { return try await run(event, key: key)?.result }
        let lane = agentMessage?.userID ?? ""
        let committed = try await commitInLane(lane, key: key) { chat in
            var decision = Decision(record: RunRecord(idempotencyKey: key), plan: DeliveryPlan(services: services))
            if let agentMessage {
                decision.record.messages.append(agentMessage)
                // A chat staff started keeps the default auto mode of when it started, as one a
                // customer started does (the runtime stores that for inbound messages).
                let reads = StateReads(userID: agentMessage.userID, source: agentMessage.source, markers: [], experiments: [])
                if try await chat.snapshot(for: reads, latestAppMessage: false).0.autoMode == nil {
                    let mode = runtime.withLock { $0.autoModeDefault }
                    decision.record.writes.append(.setAutoMode(source: agentMessage.source, userID: agentMessage.userID, on: mode, at: agentMessage.at))
                }
            }
            return decision
        }
        return committed.map { _ in RunResult(trigger: nil, note: "stored, no flow runs for it", userID: agentMessage?.userID) }
    }

    /// Whether a Brevo message was handled already: lets the webhook skip downloading the
    /// files of a message delivered twice.
    public func isBrevoMessageHandled(_ messageID: String) async throws -> Bool {
        try await store.isHandled(.brevoMessage(messageID))
    }

    /// A message written through the `/api` (by staff or another system): stored in the
    /// chat, then delivered on its channel like a flow's reply. Returns its id, and how its
    /// delivery stands (nil for the app's, shown as it is stored).
    /// `visitorID` overrides where an Instagram message goes (Brevo's visitor id).
    public func sendFromAPI(
        source: ChatSource, platformChatID: String, text: String, senderName: String? = nil, visitorID: String? = nil, at: Date
    ) async throws -> (id: Int64, delivery: OutboxItem.Status?) {
        let committed = try await commitInLane(platformChatID, key: nil) { _ in
            var decision = Decision(record: RunRecord(), plan: DeliveryPlan(services: services))
            decision.record.messages.append(
                StoredMessage(userID: platformChatID, source: source, direction: .support, text: text, at: at, senderName: senderName, author: .staff))
            decision.plan.addReply(text: text, source: source, userID: platformChatID, at: at, visitorID: visitorID, message: 0, logger: logger)
            return decision
        }
        guard let receipt = committed?.receipt, let id = receipt.messageIDs.first else { throw EngineError.notStored }
        return (id, receipt.outbox.first { $0.messageID == id }?.status)
    }

    /// Sets a chat's auto mode from the `/api`.
    public func setAutoMode(_ on: Bool, source: ChatSource, platformChatID: String, at: Date) async throws {
        _ = try await commitInLane(platformChatID, key: nil) { _ in
            var decision = Decision(record: RunRecord(), plan: DeliveryPlan(services: services))
            decision.record.writes.append(.setAutoMode(source: source, userID: platformChatID, on: on, at: at))
            decision.plan.chatUpdates.append(ChatRef(source: source, platformChatID: platformChatID))
            return decision
        }
    }

    /// Swaps in a new flow set; runs already under way finish with the old one.
    public func replaceFlows(_ flowSet: FlowSet) {
        runtime.withLock { $0.flowSet = flowSet }
    }

    public var flowSet: FlowSet { runtime.withLock { $0.flowSet } }

    // MARK: The one path

    /// What an input decided, before it is committed.
    private struct Decision {
        var record: RunRecord
        var plan: DeliveryPlan
        var result: RunResult?
        var inboundMessage: Int?
        var latestAppMessageID: Int64?
    }

    private struct Handled {
        var result: RunResult
        var latestAppMessageID: Int64?
    }

    private func run(_ event: InboundEvent, key: IdempotencyKey?, notice: StaffNotice? = nil, readsLatestAppMessage: Bool = false) async throws
        -> Handled?
    {
        let runtime = self.runtime.withLock { $0 }
        // A staff reply names its user through the group message it answers: found first,
        // so that the run waits in its chat's lane.
        var lane = event.userID ?? ""
        if event.kind == .telegramReply, event.userID == nil, let replyTo = event.replyTo {
            lane = try await store.userForGroupMessage(replyTo) ?? "group-message:\(replyTo)"
        }
        let committed = try await commitInLane(lane, key: key) { chat in
            let (snapshot, latestStored) = try await chat.snapshot(for: runtime.reads(for: event), latestAppMessage: readsLatestAppMessage)
            let services = RunServices(assistant: assistant, metrics: metrics, logger: logger)
            let outcome = await runtime.run(event, view: snapshot, services: services)
            var decision = Decision(
                record: RunRecord(outcome, idempotencyKey: key), plan: DeliveryPlan(outcome, services: self.services, logger: logger),
                result: outcome.result, inboundMessage: outcome.inboundMessage)
            decision.record.assistantMemory = services.memory
            decision.latestAppMessageID = latestStored
            if let notice { decision.plan.addStaffNotice(notice.text, groupChatID: notice.groupChatID, replyTo: notice.replyTo, at: notice.at) }
            return decision
        }
        guard let (decision, receipt) = committed, var result = decision.result else { return nil }
        // Counted once committed: a run that was not stored will run again.
        metrics.recordRun(result)
        if let index = decision.inboundMessage { result.inboundMessageID = receipt.messageIDs[index] }
        var latest = decision.latestAppMessageID
        for (id, message) in zip(receipt.messageIDs, decision.record.messages) where message.source == .app {
            latest = max(latest ?? id, id)
        }
        return Handled(result: result, latestAppMessageID: latest)
    }

    /// In `lane`, holding its chat in the store (against other instances): skips an input
    /// whose key is committed, decides, commits. Then, still first in the lane, publishes.
    private func commitInLane(
        _ lane: String, key: IdempotencyKey?, _ decide: (any ChatRunAccess) async throws -> Decision
    ) async throws -> (decision: Decision, receipt: CommitReceipt)? {
        try await lanes.run(lane) {
            let committed: (decision: Decision, receipt: CommitReceipt)?
            do {
                committed = try await store.withChat(lane) { chat in try await decideAndCommit(chat, key: key, decide) }
            } catch let unavailable as RunStoreUnavailable {
                metrics.commitFailures.increment(by: 1)
                logger.error("could not run: the database cannot be reached; nothing is stored", metadata: ["error": "\(unavailable.underlying)"])
                throw CommitFailure(underlying: unavailable)
            }
            guard let (decision, receipt) = committed else { return nil }
            for item in receipt.outbox where item.status == .recorded {
                logger.info(
                    "not configured, recorded what would have been sent",
                    metadata: ["kind": "\(item.kind.rawValue)", "outbox_id": "\(item.id)", "payload": "\(item.payload)"])
            }
            await published(
                CommittedRun(
                    messages: Array(zip(receipt.messageIDs, decision.record.messages)).map { (id: $0.0, message: $0.1) },
                    chats: decision.plan.chatUpdates,
                    deliveries: receipt.outbox.filter { $0.status == .pending },
                    sending: Dictionary(receipt.outbox.compactMap { item in item.messageID.map { ($0, item.status) } }) { first, _ in first },
                    broadcasts: decision.plan.broadcasts))
            return (decision, receipt)
        }
    }

    /// The part of an input's turn that holds its chat: nil when its key was committed.
    private func decideAndCommit(
        _ chat: any ChatRunAccess, key: IdempotencyKey?, _ decide: (any ChatRunAccess) async throws -> Decision
    ) async throws -> (decision: Decision, receipt: CommitReceipt)? {
        if let key, try await chat.isHandled(key) {
            logger.debug("handled before: skipped", metadata: ["input": "\(key)"])
            return nil
        }
        var decision = try await decide(chat)
        decision.record.outbox = decision.plan.outbox
        if store.sharesLiveEvents { decision.record.live = Self.liveEntries(of: decision) }
        // Nothing to store and no input to mark (a history fetch that is not the day's
        // first): no transaction at all.
        if decision.record.isEmpty && key == nil {
            return (decision, CommitReceipt(messageIDs: [], outbox: []))
        }
        // Timed here rather than in Storage, which stays free of the metrics dependency.
        let started = ContinuousClock.now
        do {
            let committed = try await chat.commit(decision.record)
            metrics.commitDuration.recordNanoseconds(started.nanosecondsUntilNow)
            return committed.map { (decision, $0) }
        } catch {
            metrics.commitFailures.increment(by: 1)
            logger.error(
                "could not commit a run; nothing of it is stored", metadata: ["input": "\(key.map(\.description) ?? "request")", "error": "\(error)"])
            throw CommitFailure(underlying: error)
        }
    }

    /// What a run shows live, in the order a server alone on its database publishes it
    /// (`LivePublisher`): each message and its chat, the chats whose mode changed, then the
    /// socket.io messages.
    private static func liveEntries(of decision: Decision) -> [LiveEntry] {
        var entries = decision.record.messages.indices.map { LiveEntry.message(index: $0) }
        var seen = Set<ChatRef>()
        for chat in decision.plan.chatUpdates where seen.insert(chat).inserted {
            entries.append(.chat(source: chat.source, chatID: chat.platformChatID))
        }
        return entries + decision.plan.broadcasts.map(LiveEntry.init)
    }

    /// Stores a staff reply to an Instagram or Telegram chat and queues it for the chat's
    /// channel. Instagram through Brevo takes text only: a photo there is not sent, and
    /// staff are told so under their message instead of it vanishing.
    private func addRelay(_ relay: StaffRelay, to decision: inout Decision) {
        let source = relay.chat.source, chatID = relay.chat.platformChatID
        decision.record.messages.append(
            StoredMessage(
                userID: chatID, source: source, direction: .support, text: relay.text,
                media: relay.photo == nil ? .none : .photo, at: relay.at, photoURL: relay.photo?.url, senderName: relay.staffName, author: .staff))
        let photoFileID = source == .telegram ? relay.photo?.fileID : nil
        if !relay.text.isEmpty || photoFileID != nil {
            decision.plan.addReply(
                text: relay.text, source: source, userID: chatID, at: relay.at, photoFileID: photoFileID,
                message: decision.record.messages.count - 1, logger: logger)
        }
        if relay.photo != nil && photoFileID == nil {
            let notice =
                relay.text.isEmpty
                ? "Not sent: Instagram conversations through Brevo take text only, so this photo did not reach the customer."
                : "Only the text was sent: Instagram conversations through Brevo take text only, so the photo did not reach the customer."
            decision.plan.addStaffNotice(notice, groupChatID: relay.groupChatID, replyTo: relay.groupMessageID, at: relay.at)
        }
    }
}

/// What one commit made, for what happens after it: the live stream (messages with their
/// ids, chats whose auto mode changed), the outbox worker and socket.io.
struct CommittedRun: Sendable {
    var messages: [(id: Int64, message: StoredMessage)]
    var chats: [ChatRef]
    var deliveries: [OutboxItem]
    /// The messages an outbox item sends on their channel, by id, with the item's status
    /// (pending, or recorded when the service is not configured).
    var sending: [Int64: OutboxItem.Status] = [:]
    var broadcasts: [Broadcast]
}

/// A run's transaction failed (a full disk, a database locked too long): nothing of the
/// run is stored, and its input stays to be handled again (the Telegram inbox keeps the
/// update; a webhook or request gets a 503 and is retried by its sender).
struct CommitFailure: Error, CustomStringConvertible {
    var underlying: any Error

    var description: String { "could not store the run: \(underlying)" }
}

enum EngineError: Error, CustomStringConvertible {
    case notStored

    var description: String { "the message was not stored" }
}

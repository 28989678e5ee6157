import Flows
import Foundation

/// What one run (or one input that runs no flow: a staff relay, an `/api` message) commits:
/// the runtime's writes and messages, the deliveries the server made of its decisions, the
/// assistant's new memory and the key that marks its input handled. `ReplyflowDatabase.commit`
/// writes it in one transaction that carries nothing of any other run.
public struct RunRecord: Sendable {
    public var writes: [StateWrite] = []
    public var messages: [StoredMessage] = []
    /// The run's trace, when it is kept.
    public var trace: Trace?
    public var outbox: [OutboxDraft] = []
    public var assistantMemory: AssistantMemoryUpdate?
    /// What the run shows live, for a store whose servers share it (`RunStore.sharesLiveEvents`).
    public var live: [LiveEntry] = []
    /// Marks the input handled; a record whose key is already there is not written at all.
    public var idempotencyKey: IdempotencyKey?

    public init(idempotencyKey: IdempotencyKey? = nil) {
        self.idempotencyKey = idempotencyKey
    }

    /// A run's outcome, with the server's deliveries and memory added by the caller.
    public init(_ outcome: RunOutcome, idempotencyKey: IdempotencyKey?) {
        writes = outcome.writes
        messages = outcome.messages
        trace = outcome.keepsTrace ? Trace(result: outcome.result, kind: outcome.event.kind, at: outcome.event.at) : nil
        self.idempotencyKey = idempotencyKey
    }

    /// Nothing to write but, perhaps, the key.
    public var isEmpty: Bool {
        writes.isEmpty && messages.isEmpty && trace == nil && outbox.isEmpty && assistantMemory == nil && live.isEmpty
    }

    /// A run's trace as stored in `run_traces`: one row per flow, or one row saying why none ran.
    public struct Trace: Sendable {
        public var result: RunResult
        public var kind: EventKind
        public var at: Date

        public init(result: RunResult, kind: EventKind, at: Date) {
            self.result = result
            self.kind = kind
            self.at = at
        }
    }
}

/// What makes an input idempotent: the id its channel gave it. Committed with what the
/// input caused, so a crash before the commit makes it run again, and a delivery after
/// the commit is recognised and skipped.
public enum IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// A Telegram update (`update_id`), from polling or the webhook.
    case telegramUpdate(Int64)
    /// A visitor message received through Brevo's webhook (its message id).
    case brevoMessage(String)

    public var description: String {
        switch self {
        case .telegramUpdate(let id): "telegram update \(id)"
        case .brevoMessage(let id): "brevo message \(id)"
        }
    }
}

/// A delivery to queue in the outbox; the commit gives it its id.
public struct OutboxDraft: Sendable, Equatable {
    public var kind: OutboxKind
    /// Items of one lane are delivered one after another, in id order.
    public var lane: String
    public var payload: String
    /// `.pending` to deliver; `.recorded` when the service is not configured.
    public var status: OutboxItem.Status
    public var at: Date
    /// The index in the record's `messages` of the message it sends (a reply), if any: the
    /// commit turns it into the message's id.
    public var message: Int?

    public init(kind: OutboxKind, lane: String, payload: String, status: OutboxItem.Status, at: Date, message: Int? = nil) {
        self.kind = kind
        self.lane = lane
        self.payload = payload
        self.status = status
        self.at = at
        self.message = message
    }
}

/// A chat's memory with the AI after an answer (the Responses API's latest response id).
public struct AssistantMemoryUpdate: Sendable, Equatable {
    public var source: ChatSource
    public var platformChatID: String
    public var responseID: String
    public var at: Date

    public init(source: ChatSource, platformChatID: String, responseID: String, at: Date) {
        self.source = source
        self.platformChatID = platformChatID
        self.responseID = responseID
        self.at = at
    }
}

/// What a commit made: the ids of the record's messages (in order) and its outbox items.
public struct CommitReceipt: Sendable {
    public var messageIDs: [Int64]
    public var outbox: [OutboxItem]

    public init(messageIDs: [Int64], outbox: [OutboxItem]) {
        self.messageIDs = messageIDs
        self.outbox = outbox
    }
}

import Foundation

/// Everything one run decided, as a value: the state it writes, the messages it stores,
/// the deliveries it wants sent and its trace. Nothing of it has happened yet: the server
/// commits it in one transaction; local runs apply it to their store.
public struct RunOutcome: Sendable {
    public var event: InboundEvent
    /// The trace: trigger, each flow's result with its reason, actions, experiment events.
    public var result: RunResult
    /// State writes in the order the run made them.
    public var writes: [StateWrite] = []
    /// Messages to add to histories, in order: the event's own message first, when stored.
    public var messages: [StoredMessage] = []
    /// The indexes in `messages` of the event's own message, when it was stored: one
    /// message, or one per photo (the text on the first) when it has several.
    public var inboundMessages: Range<Int>?
    /// The index in `messages` of the event's own (first) message, when it was stored.
    public var inboundMessage: Int? { inboundMessages?.lowerBound }
    /// Outside effects, in the order the flows decided them.
    public var deliveries: [Delivery] = []
    /// Whether the trace is worth keeping (a history fetch that is not the day's first is not).
    public var keepsTrace: Bool

    public init(event: InboundEvent, result: RunResult, keepsTrace: Bool) {
        self.event = event
        self.result = result
        self.keepsTrace = keepsTrace
    }

    /// The chat the run is about (its user on the event's channel), once the user is known.
    public var userID: String? { result.userID }
    public var source: ChatSource { event.kind.source }
}

/// One write of a run to the runtime's state.
public enum StateWrite: Sendable, Equatable {
    /// The user wrote (inbound) or was written to; their name when the event had one.
    case noteUser(id: String, name: String?, at: Date, inbound: Bool)
    case setAutoMode(source: ChatSource, userID: String, on: Bool, at: Date)
    case setMarker(userID: String, key: String, period: String, at: Date)
    case saveAssignment(experiment: String, userID: String, variant: String, at: Date)
    /// An exposure: the first one's variant and time are kept, later ones are counted.
    case recordExposure(experiment: String, userID: String, variant: String, at: Date)
    case recordConversion(experiment: String, userID: String, variant: String, at: Date)
}

/// An outside effect a flow decided, with the flow that decided it.
public struct Delivery: Sendable, Equatable {
    public var effect: Effect
    public var flow: String
    /// The index in the outcome's `messages` of the message this delivery sends (a
    /// reply), so the server can note on it what its channel made of it.
    public var message: Int?

    public init(_ effect: Effect, flow: String, message: Int? = nil) {
        self.effect = effect
        self.flow = flow
        self.message = message
    }
}

/// An outside effect, rendered and ready to send.
public enum Effect: Sendable, Equatable {
    case forwardToGroup(text: String, media: MediaKind)
    case push(title: String?, text: String)
    /// A greeting added to the user's app history (in the outcome's messages), to broadcast.
    case greet(text: String)
    /// A reply on the event's channel (in the outcome's messages), to send or broadcast.
    case reply(text: String)
    case broadcast(text: String)
    case setAutoMode(Bool)
}

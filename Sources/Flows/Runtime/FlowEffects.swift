/// Where the runtime's outside effects go. The server sends them (through its outbox);
/// dry-run, tests and replay record them. Everything else about a run is the same.
///
/// The async requirements are `nonisolated(nonsending)`: they run on the caller's actor,
/// so a server can keep one runtime inside an actor and its state is never touched by two
/// threads at once.
public protocol FlowEffects: AnyObject {
    /// Voice or audio to text. Throwing means the service could not answer.
    nonisolated(nonsending) func transcribe(_ request: EffectRequest) async throws -> String
    /// The assistant's answer. Throwing means the AI could not answer; the flow decides what follows.
    nonisolated(nonsending) func askAssistant(_ request: EffectRequest, prompt: String?) async throws -> String
    /// A delivery decided by a flow (forward, push, greet, reply, broadcast, auto mode).
    func deliver(_ effect: Effect, request: EffectRequest)
}

/// Who and what an effect is about.
public struct EffectRequest: Sendable {
    public var event: InboundEvent
    public var userID: String
    public var source: ChatSource
    public var flow: String
    /// The id the event's own message was stored under, when it has one: history sent
    /// with a question ends before it.
    public var inboundMessageID: Int64? = nil
}

/// An outside effect, rendered and ready to send.
public enum Effect: Sendable, Equatable {
    case forwardToGroup(text: String, media: MediaKind)
    case push(title: String?, text: String)
    /// A greeting added to the user's history (already stored), to broadcast.
    case greet(text: String, messageID: Int64)
    case reply(text: String, messageID: Int64)
    case broadcast(text: String)
    case setAutoMode(Bool)
}

/// A failure of an outside service, as a flow sees it.
public struct EffectFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

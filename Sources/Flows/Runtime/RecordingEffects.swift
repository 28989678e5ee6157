/// Effects for dry-run, tests and replay: nothing leaves the machine. The AI and
/// transcription answer with the event's stubs; deliveries are counted.
public final class RecordingEffects: FlowEffects {
    /// Used when an event has no stub, so a dry run still shows the flow's shape.
    public static let placeholderAnswer = "(assistant answer)"
    public static let placeholderTranscript = "(transcript)"

    let state: FlowStateStore
    /// Group message ids handed out to forwarded messages, so a later `telegram_reply`
    /// with `reply_to` finds its user, as with real Telegram message ids.
    private var nextGroupMessageID: Int64 = 1000
    /// The group message id given to the latest forwarded message.
    public var lastGroupMessageID: Int64? { nextGroupMessageID > 1000 ? nextGroupMessageID - 1 : nil }

    public init(state: FlowStateStore) {
        self.state = state
    }

    public nonisolated(nonsending) func transcribe(_ request: EffectRequest) async throws -> String {
        if request.event.stubs.transcriptionFails { throw EffectFailure("transcription failed (stubbed)") }
        return request.event.stubs.transcript ?? Self.placeholderTranscript
    }

    public nonisolated(nonsending) func askAssistant(_ request: EffectRequest, prompt: String?) async throws -> String {
        if request.event.stubs.assistantFails { throw EffectFailure("the assistant did not answer (stubbed)") }
        return request.event.stubs.answer ?? Self.placeholderAnswer
    }

    public func deliver(_ effect: Effect, request: EffectRequest) {
        if case .forwardToGroup = effect {
            state.saveGroupForward(groupMessageID: nextGroupMessageID, userID: request.userID, at: request.event.at)
            nextGroupMessageID += 1
        }
    }
}

import Foundation

/// The outside services a run waits on: the assistant and speech-to-text. The server asks
/// the AI; dry-run, tests and replay answer with the event's stubs (`RecordingServices`).
/// Everything else a run does is returned in its `RunOutcome`.
public protocol FlowServices: AnyObject {
    /// Voice or audio to text. Throwing means the service could not answer.
    nonisolated(nonsending) func transcribe(_ request: ServiceRequest) async throws -> String
    /// The assistant's answer. Throwing means the AI could not answer; the flow decides what follows.
    nonisolated(nonsending) func askAssistant(_ request: ServiceRequest, prompt: String?) async throws -> String
}

/// Who and what a service call is about.
public struct ServiceRequest: Sendable {
    public var event: InboundEvent
    public var userID: String
    public var source: ChatSource
    public var flow: String
}

/// A failure of an outside service, as a flow sees it.
public struct EffectFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Services for dry-run, tests and replay: nothing leaves the machine. The AI and
/// transcription answer with the event's stubs.
public final class RecordingServices: FlowServices {
    /// Used when an event has no stub, so a dry run still shows the flow's shape.
    public static let placeholderAnswer = "(assistant answer)"
    public static let placeholderTranscript = "(transcript)"

    public init() {}

    public nonisolated(nonsending) func transcribe(_ request: ServiceRequest) async throws -> String {
        if request.event.stubs.transcriptionFails { throw EffectFailure("transcription failed (stubbed)") }
        return request.event.stubs.transcript ?? Self.placeholderTranscript
    }

    public nonisolated(nonsending) func askAssistant(_ request: ServiceRequest, prompt: String?) async throws -> String {
        if request.event.stubs.assistantFails { throw EffectFailure("the assistant did not answer (stubbed)") }
        return request.event.stubs.answer ?? Self.placeholderAnswer
    }
}

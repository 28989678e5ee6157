import Flows
import Foundation
import Storage

/// The AI behind `ask_assistant` and `transcribe`, as the engine sees it. The server's is
/// `Assistant` (an OpenAI-compatible API); tests give a fake that records the questions.
protocol AssistantService: Sendable {
    /// The answer to a customer's message. Throws when the AI cannot answer.
    func answer(_ question: AssistantQuestion) async throws -> AssistantReply
    /// Speech to text for a voice or audio message.
    func transcribe(_ audio: AudioAttachment) async throws -> String
}

/// A customer's message for the assistant: what they said (text or transcript), their
/// photos as upload paths, and the chat, whose memory the answer continues.
struct AssistantQuestion: Sendable {
    var prompt: String
    var photos: [String]
    var chat: ChatRef
    var at: Date
}

/// The assistant's answer, and the chat's memory after it (committed with the run).
struct AssistantReply: Sendable {
    var text: String
    var memory: AssistantMemoryUpdate?
}

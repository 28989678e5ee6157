import Flows
import Foundation
import Storage

/// The AI behind `ask_assistant` and `transcribe`, as the engine sees it. The server's is
/// `Assistant` (an OpenAI-compatible API); tests give a fake that records the questions.
public protocol AssistantService: Sendable {
    /// The answer to a customer's message. Throws when the AI cannot answer.
    func answer(_ question: AssistantQuestion) async throws -> AssistantReply
    /// Speech to text for a voice or audio message.
    func transcribe(_ audio: AudioAttachment) async throws -> String
}

/// A customer's message for the assistant: what they said (text or transcript), their
/// photos as upload paths, and the chat, whose memory the answer continues.
public struct AssistantQuestion: Sendable {
    public var prompt: String
    public var photos: [String]
    public var chat: ChatRef
    public var at: Date

    public init(prompt: String, photos: [String], chat: ChatRef, at: Date) {
        self.prompt = prompt
        self.photos = photos
        self.chat = chat
        self.at = at
    }
}

/// The assistant's answer, and the chat's memory after it (committed with the run).
public struct AssistantReply: Sendable {
    public var text: String
    public var memory: AssistantMemoryUpdate?

    public init(text: String, memory: AssistantMemoryUpdate? = nil) {
        self.text = text
        self.memory = memory
    }
}

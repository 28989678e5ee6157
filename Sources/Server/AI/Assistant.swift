import Channels
import Flows
import Foundation
import Logging
import Storage

/// The AI behind `ask_assistant` and `transcribe`, through an OpenAI-compatible API.
///
/// Each chat has a memory: under the Responses API the id of its latest response (sent as
/// `previous_response_id`, stored per chat with the run that asked), under Chat Completions
/// the chat's latest messages, read from the database and sent every time. The engine runs
/// a chat's messages one at a time and commits each answer before the next question, so
/// quick messages are answered in order, each with the memory the previous left.
final class Assistant: AssistantService {
    private let client: OpenAIClient
    private let configuration: AIConfiguration
    private let memory: any AssistantMemory
    private let history: any ConversationQueries
    private let media: AssistantMedia
    private let retry: RetryPolicy
    private let logger: Logger

    init(
        client: OpenAIClient, configuration: AIConfiguration, memory: any AssistantMemory, history: any ConversationQueries, media: AssistantMedia,
        retry: RetryPolicy, logger: Logger
    ) {
        self.client = client
        self.configuration = configuration
        self.memory = memory
        self.history = history
        self.media = media
        self.retry = retry
        self.logger = logger
    }

    /// Asks the assistant about a customer's message (its text or transcript, and photos
    /// as upload paths). Throws when the AI cannot answer, after the retries.
    func answer(_ question: AssistantQuestion) async throws -> AssistantReply {
        let images = try await media.imageDataURLs(question.photos)
        let model = images.isEmpty ? configuration.model : (configuration.visionModel ?? configuration.model)
        let turn = OpenAIClient.Turn(role: .user, text: question.prompt, imageURLs: images)
        switch configuration.mode {
        case .responses:
            return try await askResponses(turn, model: model, chat: question.chat, at: question.at)
        case .chatCompletions:
            return try await askChatCompletions(turn, model: model, chat: question.chat)
        }
    }

    /// Speech to text for a voice or audio message.
    func transcribe(_ audio: AudioAttachment) async throws -> String {
        let data = try await retry.run("download audio", logger: logger) { try await media.audio(audio) }
        let text = try await retry.run("audio/transcriptions", logger: logger) {
            try await client.transcribe(audio: data, filename: audio.fileName, contentType: audio.contentType, model: configuration.audioModel)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func askResponses(_ turn: OpenAIClient.Turn, model: String, chat: ChatRef, at: Date) async throws -> AssistantReply {
        var previous = try await memory.previousResponseID(source: chat.source, platformChatID: chat.platformChatID)
        let reply: OpenAIClient.Reply
        do {
            reply = try await ask(model: model, turn: turn, previous: previous)
        } catch let error as DeliveryError where error.serviceCode == OpenAIClient.previousResponseNotFound && previous != nil {
            // Stored responses expire: the chat starts a new memory rather than go unanswered.
            logger.notice("the chat's AI memory has expired; starting afresh", metadata: ["chat": "\(chat.source.rawValue):\(chat.platformChatID)"])
            previous = nil
            reply = try await ask(model: model, turn: turn, previous: nil)
        }
        let memory = reply.responseID.map {
            AssistantMemoryUpdate(source: chat.source, platformChatID: chat.platformChatID, responseID: $0, at: at)
        }
        return AssistantReply(text: reply.text, memory: memory)
    }

    private func ask(model: String, turn: OpenAIClient.Turn, previous: String?) async throws -> OpenAIClient.Reply {
        try await retry.run("responses", logger: logger) {
            try await client.createResponse(model: model, instructions: configuration.instructions, previousResponseID: previous, input: turn)
        }
    }

    private func askChatCompletions(_ turn: OpenAIClient.Turn, model: String, chat: ChatRef) async throws -> AssistantReply {
        // The message being answered goes as `turn`: it is committed with its answer, so
        // the stored history does not hold it yet.
        let earlier = try await history.recentTexts(source: chat.source, platformChatID: chat.platformChatID, limit: configuration.historyMessages)
        var messages = [OpenAIClient.Turn(role: .system, text: configuration.instructions)]
        messages += earlier.map { OpenAIClient.Turn(role: $0.incoming ? .user : .assistant, text: $0.text) }
        messages.append(turn)
        let reply = try await retry.run("chat/completions", logger: logger) {
            try await client.createChatCompletion(model: model, messages: messages)
        }
        return AssistantReply(text: reply.text, memory: nil)
    }
}

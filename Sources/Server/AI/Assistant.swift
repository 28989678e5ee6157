import Channels
import Flows
import Foundation
import Logging
import Storage
import Synchronization

/// The AI behind `ask_assistant` and `transcribe`, through an OpenAI-compatible API.
///
/// Each chat has a memory: under the Responses API the id of its latest response (sent as
/// `previous_response_id`, stored per chat), under Chat Completions the chat's latest
/// messages, read from the database and sent every time. One question per chat is asked at
/// a time, so quick messages are answered in order, each with the memory the previous left:
/// the chat stays held after an answer until the caller has stored it (`Answer.release`).
final class Assistant: Sendable {
    /// What an answer leaves behind: the text, and the write that keeps the chat's memory
    /// (committed with the run that asked).
    struct Answer: Sendable {
        var text: String
        var rememberWrite: QueuedWrite?
        /// Lets the chat's next question go; call once the answer is committed.
        var release: @Sendable () async -> Void
    }

    private let client: OpenAIClient
    private let configuration: AIConfiguration
    private let memory: AssistantMemory
    private let history: ConversationQueries
    private let media: AssistantMedia
    private let retry: RetryPolicy
    private let logger: Logger
    private let perChat = KeyedLock<ChatRef>()
    /// Response ids newer than what is committed (the write commits with the run).
    private let latestResponseIDs = Mutex<[ChatRef: String]>([:])

    init(client: OpenAIClient, configuration: AIConfiguration, database: ReplyflowDatabase, media: AssistantMedia, retry: RetryPolicy, logger: Logger) {
        self.client = client
        self.configuration = configuration
        memory = AssistantMemory(database: database)
        history = ConversationQueries(database: database)
        self.media = media
        self.retry = retry
        self.logger = logger
    }

    /// Asks the assistant about a customer's message (its text or transcript, and photos
    /// as upload paths). Throws when the AI cannot answer, after the retries.
    func answer(_ prompt: String, photos: [String], chat: ChatRef, messageID: Int64?, at: Date) async throws -> Answer {
        await perChat.lock(chat)
        do {
            let images = try await media.imageDataURLs(photos)
            let model = images.isEmpty ? configuration.model : (configuration.visionModel ?? configuration.model)
            let turn = OpenAIClient.Turn(role: .user, text: prompt, imageURLs: images)
            var answer: Answer
            switch configuration.mode {
            case .responses:
                answer = try await askResponses(turn, model: model, chat: chat, at: at)
            case .chatCompletions:
                answer = try await askChatCompletions(turn, model: model, chat: chat, excluding: messageID)
            }
            answer.release = { [perChat] in await perChat.unlock(chat) }
            return answer
        } catch {
            await perChat.unlock(chat)
            throw error
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

    private func askResponses(_ turn: OpenAIClient.Turn, model: String, chat: ChatRef, at: Date) async throws -> Answer {
        var previous = try latestResponseIDs.withLock { $0[chat] } ?? memory.previousResponseID(source: chat.source.rawValue, platformChatID: chat.platformChatID)
        let reply: OpenAIClient.Reply
        do {
            reply = try await ask(model: model, turn: turn, previous: previous)
        } catch let error as DeliveryError where error.serviceCode == OpenAIClient.previousResponseNotFound && previous != nil {
            // Stored responses expire: the chat starts a new memory rather than go unanswered.
            logger.notice("the chat's AI memory has expired; starting afresh", metadata: ["chat": "\(chat.source.rawValue):\(chat.platformChatID)"])
            previous = nil
            reply = try await ask(model: model, turn: turn, previous: nil)
        }
        guard let id = reply.responseID else { return Answer(text: reply.text, rememberWrite: nil, release: {}) }
        latestResponseIDs.withLock { ids in
            if ids.count > 100_000 { ids.removeAll() }
            ids[chat] = id
        }
        return Answer(
            text: reply.text, rememberWrite: AssistantMemory.remember(id, source: chat.source.rawValue, platformChatID: chat.platformChatID, at: at),
            release: {})
    }

    private func ask(model: String, turn: OpenAIClient.Turn, previous: String?) async throws -> OpenAIClient.Reply {
        try await retry.run("responses", logger: logger) {
            try await client.createResponse(model: model, instructions: configuration.instructions, previousResponseID: previous, input: turn)
        }
    }

    private func askChatCompletions(_ turn: OpenAIClient.Turn, model: String, chat: ChatRef, excluding messageID: Int64?) async throws -> Answer {
        // The message being answered goes as `turn`; another commit may have stored it already.
        let earlier = try history.recentTexts(
            source: chat.source.rawValue, platformChatID: chat.platformChatID, excluding: messageID, limit: configuration.historyMessages)
        var messages = [OpenAIClient.Turn(role: .system, text: configuration.instructions)]
        messages += earlier.map { OpenAIClient.Turn(role: $0.incoming ? .user : .assistant, text: $0.text) }
        messages.append(turn)
        let reply = try await retry.run("chat/completions", logger: logger) {
            try await client.createChatCompletion(model: model, messages: messages)
        }
        return Answer(text: reply.text, rememberWrite: nil, release: {})
    }
}

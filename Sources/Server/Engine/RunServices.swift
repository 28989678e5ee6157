import Flows
import Foundation
import Logging
import Storage

/// The services of one server run: the assistant answers while the run waits; the chat's
/// new memory is kept here until the run's commit takes it. When the AI cannot answer (or
/// is not configured) the action fails and the flows decide what follows.
final class RunServices: FlowServices {
    private let assistant: (any AssistantService)?
    private let metrics: ServerMetrics
    private let logger: Logger
    /// The chat's memory after the run's last answer, for the commit.
    private(set) var memory: AssistantMemoryUpdate?

    init(assistant: (any AssistantService)?, metrics: ServerMetrics, logger: Logger) {
        self.assistant = assistant
        self.metrics = metrics
        self.logger = logger
    }

    nonisolated(nonsending) func transcribe(_ request: ServiceRequest) async throws -> String {
        guard let assistant else { throw EffectFailure("speech-to-text is not configured (set OPENAI_API_KEY or OPENAI_BASE_URL)") }
        guard let audio = request.event.audio else { throw EffectFailure("the message has no voice or audio to transcribe") }
        let ai = metrics.ai(.transcribe), started = ContinuousClock.now
        do {
            let text = try await assistant.transcribe(audio)
            ai.duration.recordNanoseconds(started.nanosecondsUntilNow)
            ai.succeeded.increment(by: 1)
            return text
        } catch {
            ai.duration.recordNanoseconds(started.nanosecondsUntilNow)
            ai.failed.increment(by: 1)
            logger.warning("transcription failed", metadata: ["chat": "\(request.source.rawValue):\(request.userID)", "error": "\(error)"])
            throw EffectFailure("\(error)")
        }
    }

    nonisolated(nonsending) func askAssistant(_ request: ServiceRequest, prompt: String?) async throws -> String {
        guard let assistant else { throw EffectFailure("the AI assistant is not configured (set OPENAI_API_KEY or OPENAI_BASE_URL)") }
        let prompt = prompt ?? ""
        let photos = request.event.photoURLs
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || !photos.isEmpty else {
            throw EffectFailure("nothing to ask: the message has no text, transcript or photo")
        }
        let chat = ChatRef(source: request.source, platformChatID: request.userID)
        let ai = metrics.ai(.answer), started = ContinuousClock.now
        do {
            let reply = try await assistant.answer(AssistantQuestion(prompt: prompt, photos: photos, chat: chat, at: request.event.at))
            ai.duration.recordNanoseconds(started.nanosecondsUntilNow)
            ai.succeeded.increment(by: 1)
            if let update = reply.memory { memory = update }
            return reply.text
        } catch {
            ai.duration.recordNanoseconds(started.nanosecondsUntilNow)
            ai.failed.increment(by: 1)
            logger.warning("the AI could not answer", metadata: ["chat": "\(chat.source.rawValue):\(chat.platformChatID)", "error": "\(error)"])
            throw EffectFailure("\(error)")
        }
    }
}

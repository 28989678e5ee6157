import Channels
import Flows
import Foundation
import Server
import Storage
import Synchronization

/// The AI as a fake: it answers by a rule (by default `Answer to "<prompt>"`), transcribes
/// by another, and records what it was asked, in order. Like the real one under the
/// Responses API, each answer carries the chat's new memory (`resp_fake1`, `resp_fake2`,
/// ...), which the run commits. It can be told to fail. As the API would, it refuses a
/// question with neither text nor photos, a photo that is not an upload or a link, and
/// audio with no location or a file name without an extension; refusals are kept in
/// `violations`, which tests expect to be empty.
final class FakeAssistant: AssistantService {
    enum Kind: Sendable, Equatable { case answer, transcribe }

    private struct State {
        var questions: [AssistantQuestion] = []
        var audio: [AudioAttachment] = []
        var violations: [String] = []
        var failures = InjectedFailures<Kind, AnyError>()
        var answer: @Sendable (AssistantQuestion) -> String = { "Answer to \"\($0.prompt)\"" }
        var transcript: @Sendable (AudioAttachment) -> String = { "Transcript of \($0.fileName)" }
        var remembers = true
        var nextResponse = 1
    }

    /// Any error, for `InjectedFailures`.
    struct AnyError: Error, Sendable {
        var error: any Error
    }

    private let state = Mutex(State())

    // MARK: What it was asked

    /// The questions it was asked (failed ones too), in order.
    var questions: [AssistantQuestion] { state.withLock { $0.questions } }
    /// Their prompts.
    var prompts: [String] { questions.map(\.prompt) }
    /// The audio it was asked to transcribe, in order.
    var transcribed: [AudioAttachment] { state.withLock { $0.audio } }
    /// What the API would have refused, one line each.
    var violations: [String] { state.withLock { $0.violations } }

    // MARK: Telling it what to do

    /// Answers with `rule` from now on.
    func answering(_ rule: @escaping @Sendable (AssistantQuestion) -> String) {
        state.withLock { $0.answer = rule }
    }

    /// Transcribes with `rule` from now on.
    func transcribing(_ rule: @escaping @Sendable (AudioAttachment) -> String) {
        state.withLock { $0.transcript = rule }
    }

    /// Whether answers carry a memory (the Responses API) or not (Chat Completions).
    func remembering(_ remembers: Bool) {
        state.withLock { $0.remembers = remembers }
    }

    /// The next `count` calls of `kind` (any when nil), after `skip` that go through, throw
    /// `error` (the real one throws a `DeliveryError` once its retries are spent).
    func failNext(
        _ count: Int, _ kind: Kind? = nil, after skip: Int = 0, with error: any Error = DeliveryError(.retry(after: nil), "OpenAI: 500 Internal Server Error")
    ) {
        state.withLock { $0.failures.add(count, of: kind, after: skip, with: AnyError(error: error)) }
    }

    // MARK: AssistantService

    func answer(_ question: AssistantQuestion) async throws -> AssistantReply {
        try state.withLock { state in
            state.questions.append(question)
            if let failure = state.failures.take(.answer) { throw failure.error }
            var problem: String?
            if question.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && question.photos.isEmpty {
                problem = "the question has neither text nor photos"
            } else if let photo = question.photos.first(where: { !($0.hasPrefix("/uploads/") || $0.hasPrefix("http://") || $0.hasPrefix("https://")) }) {
                problem = "photo \(photo) is neither an upload nor a link"
            }
            if let problem {
                state.violations.append("answer: \(problem)")
                throw DeliveryError(.fail, "OpenAI: 400 \(problem)", httpStatus: 400)
            }
            let text = state.answer(question)
            guard state.remembers else { return AssistantReply(text: text) }
            let memory = AssistantMemoryUpdate(
                source: question.chat.source, platformChatID: question.chat.platformChatID, responseID: "resp_fake\(state.nextResponse)", at: question.at)
            state.nextResponse += 1
            return AssistantReply(text: text, memory: memory)
        }
    }

    func transcribe(_ audio: AudioAttachment) async throws -> String {
        try state.withLock { state in
            state.audio.append(audio)
            if let failure = state.failures.take(.transcribe) { throw failure.error }
            var problem: String?
            if audio.location.isEmpty {
                problem = "the audio has no location"
            } else if !audio.fileName.contains(".") {
                problem = "file name \(audio.fileName) has no extension naming the format"
            }
            if let problem {
                state.violations.append("transcribe: \(problem)")
                throw DeliveryError(.fail, "OpenAI: 400 \(problem)", httpStatus: 400)
            }
            return state.transcript(audio)
        }
    }
}

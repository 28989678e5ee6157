import Foundation

/// The AI settings: an OpenAI-compatible API (OpenAI itself, or a local server such as
/// Ollama, vLLM or llama.cpp in Chat Completions mode).
public struct AIConfiguration: Sendable {
    /// How each chat's memory is kept.
    public enum Mode: String, Sendable, CaseIterable {
        /// The Responses API: the service keeps the conversation; the server stores the
        /// latest response id per chat (`previous_response_id`).
        case responses
        /// Chat Completions: the server sends the chat's recent messages every time.
        case chatCompletions = "chat_completions"
    }

    public var apiKey: String?
    public var baseURL = "https://api.openai.com/v1"
    /// True when `OPENAI_BASE_URL` was set: a local server may need no key.
    public var baseURLWasSet = false
    public var mode = Mode.responses
    public var model = "gpt-4o-mini"
    /// For messages with photos; the text model when unset.
    public var visionModel: String?
    public var audioModel = "whisper-1"
    /// What the assistant is told about its job, sent with every request.
    public var instructions = AIConfiguration.defaultInstructions
    public var timeoutSeconds = 60
    /// Attempts per question (timeouts, 429 and 5xx are retried with backoff).
    public var maxAttempts = 3
    /// Chat Completions mode: how many of the chat's latest messages are sent.
    public var historyMessages = 20

    public static let defaultInstructions = """
        You are the customer-support assistant of this business. Answer the customer's \
        message briefly and politely, in the language they wrote in. If you cannot help, \
        say that a member of staff will reply soon.
        """

    /// The AI is on with a key, or with a base URL of its own (a local server).
    public var enabled: Bool { apiKey != nil || baseURLWasSet }

    public init() {}

    static func load(
        value: (String) -> String?, integer: (String, ClosedRange<Int>) throws -> Int?, httpURL: (String, String) throws -> String
    ) throws -> AIConfiguration {
        var ai = AIConfiguration()
        ai.apiKey = value("OPENAI_API_KEY")
        if let url = value("OPENAI_BASE_URL") {
            ai.baseURL = try httpURL("OPENAI_BASE_URL", url)
            ai.baseURLWasSet = true
        }
        if let mode = value("OPENAI_API_MODE") {
            guard let parsed = Mode(rawValue: mode.lowercased()) else {
                throw ServerConfiguration.Failure(
                    description: "OPENAI_API_MODE=\(mode) must be one of \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            ai.mode = parsed
        }
        ai.model = value("OPENAI_MODEL") ?? ai.model
        ai.visionModel = value("OPENAI_VISION_MODEL")
        ai.audioModel = value("OPENAI_AUDIO_MODEL") ?? ai.audioModel
        if let path = value("OPENAI_INSTRUCTIONS_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
                throw ServerConfiguration.Failure(description: "OPENAI_INSTRUCTIONS_FILE=\(path) cannot be read (or is empty)")
            }
            ai.instructions = text
        } else if let text = value("OPENAI_INSTRUCTIONS") {
            ai.instructions = text
        }
        ai.timeoutSeconds = try integer("OPENAI_TIMEOUT_SECONDS", 1...600) ?? ai.timeoutSeconds
        ai.maxAttempts = try integer("OPENAI_MAX_ATTEMPTS", 1...10) ?? ai.maxAttempts
        ai.historyMessages = try integer("OPENAI_HISTORY_MESSAGES", 0...200) ?? ai.historyMessages
        return ai
    }
}

import Foundation
import Hummingbird
import NIOCore

/// One request the fake OpenAI server received.
public struct OpenAIRecordedRequest: Sendable {
    /// `responses`, `chat/completions` or `audio/transcriptions`.
    public var endpoint: String
    /// The `Authorization` header.
    public var authorization: String?
    /// The JSON body (nil for multipart).
    public var body: FakeJSON?
    /// Multipart fields and files (transcriptions).
    public var fields: [String: String]
    public var files: [String: UploadedFile]
    /// The HTTP status answered.
    public var status: Int
    /// The text answered (model output or transcript), when it succeeded.
    public var answer: String?
    /// How the request broke the OpenAPI description, if it did.
    public var violation: String?

    public var model: String? { body?["model"]?.stringValue ?? fields["model"] }
    public var previousResponseID: String? { body?["previous_response_id"]?.stringValue }
}

/// A failure the fake answers the next requests with.
public enum OpenAIFailure: Sendable, Equatable {
    /// 429 `rate_limit_exceeded`, with `Retry-After` when given.
    case rateLimited(retryAfter: Int?)
    /// 429 `insufficient_quota` (not worth retrying).
    case insufficientQuota
    /// 500 `server_error`.
    case serverError
    /// 503 with an HTML body, like an overloaded front end.
    case unavailable
    /// The right answer, but only after this many seconds (for clients' timeouts).
    case slow(seconds: Double)
}

/// What the model is asked, for a test's own answering rule.
public struct OpenAIQuestion: Sendable {
    /// The newest user text.
    public var text: String
    /// How many images came with it.
    public var imageCount: Int
    /// Earlier turns the model sees (from `previous_response_id`, or the messages sent).
    public var earlierTurns: Int
    public var model: String
}

/// A fake OpenAI-compatible API on 127.0.0.1, checking requests against the OpenAI
/// OpenAPI description (`CreateResponse`, `CreateChatCompletionRequest`,
/// `CreateTranscriptionRequest`):
///
/// - `POST /v1/responses`: `model` and `input` required; input messages with `role` and
///   `input_text` / `input_image` parts (`image_url` a `data:image/…;base64,` or http(s)
///   URL); unknown top-level fields refused as OpenAI does; `previous_response_id` must be
///   a response this fake created (else 400 `previous_response_not_found`). Answers with
///   an `output` message of `output_text`, and keeps the response for later turns.
/// - `POST /v1/chat/completions`: `model` and `messages` required, with text or
///   `image_url` parts. Answers with `choices[0].message.content`.
/// - `POST /v1/audio/transcriptions`: multipart with `file` (a name with an accepted
///   extension, at most 25 MiB) and `model`. The transcript is the file's bytes read as
///   UTF-8, so a test's "voice note" says what its text says.
///
/// The default answer is `Answer to "TEXT"` plus `(N images)` and `[turn K]` (K counts
/// the turns the model remembers); tests can set their own rule with ``answer(with:)``.
public final class FakeOpenAIServer: Sendable {
    public let apiKey: String
    private let state = OpenAIFakeState()
    private let server = LoopbackServer()

    public init(apiKey: String = "sk-test-key") {
        self.apiKey = apiKey
    }

    /// Starts listening; returns the API root to use as `OPENAI_BASE_URL` (`…/v1`).
    @discardableResult
    public func start() async throws -> URL {
        let state = self.state, apiKey = self.apiKey
        let port = try await server.start(name: "FakeOpenAIServer") { request, _ in
            await OpenAIRequestHandler.handle(request, apiKey: apiKey, state: state)
        }
        return URL(string: "http://127.0.0.1:\(port)/v1")!
    }

    /// Stops listening; answers still held are let go first.
    public func stop() async {
        await state.releaseHeld()
        await server.stop()
    }

    public func requests() async -> [OpenAIRecordedRequest] { await state.requests }

    /// The next requests (of any endpoint) fail like this, one failure per request.
    public func failNext(_ failures: [OpenAIFailure]) async { await state.queue(failures) }

    /// Every request fails like this until set to nil (an outage).
    public func setOutage(_ failure: OpenAIFailure?) async { await state.setOutage(failure) }

    /// Answers with a rule of the test's own.
    public func answer(with rule: @escaping @Sendable (OpenAIQuestion) -> String) async { await state.setRule(rule) }

    /// Answers that contain `text` arrive only after `seconds` (a slow model for one chat).
    public func slowAnswers(containing text: String, seconds: Double) async { await state.setSlow(text, seconds) }

    /// Answers that contain `text` are held, not sent, until ``releaseHeldAnswers()`` or
    /// ``stop()``: a model that is still thinking when the test does something else (for
    /// example kills the client). Held requests are counted by ``heldAnswers()``.
    public func holdAnswers(containing text: String) async { await state.setHold(text) }

    /// How many answers are held right now.
    public func heldAnswers() async -> Int { await state.heldCount }

    /// Sends the held answers and holds no more.
    public func releaseHeldAnswers() async { await state.releaseHeld() }

    /// Forgets every stored response, as OpenAI does when they expire.
    public func forgetResponses() async { await state.forgetResponses() }
}

actor OpenAIFakeState {
    var requests: [OpenAIRecordedRequest] = []
    private var failures: [OpenAIFailure] = []
    private var outage: OpenAIFailure?
    private var rule: @Sendable (OpenAIQuestion) -> String = { question in
        var answer = "Answer to \"\(question.text)\""
        if question.imageCount > 0 { answer += " (\(question.imageCount) image\(question.imageCount == 1 ? "" : "s"))" }
        return answer + " [turn \(question.earlierTurns / 2 + 1)]"
    }
    /// Response id → the number of turns (user and assistant) it holds.
    private var stored: [String: Int] = [:]
    private var nextID = 1

    func queue(_ more: [OpenAIFailure]) { failures += more }
    func setOutage(_ failure: OpenAIFailure?) { outage = failure }
    func setRule(_ rule: @escaping @Sendable (OpenAIQuestion) -> String) { self.rule = rule }
    func forgetResponses() { stored = [:] }
    private var slow: [(text: String, seconds: Double)] = []
    func setSlow(_ text: String, _ seconds: Double) { slow.append((text, seconds)) }
    func delay(for answer: String?) -> Double? {
        guard let answer else { return nil }
        return slow.first { answer.contains($0.text) }?.seconds
    }
    func record(_ request: OpenAIRecordedRequest) { requests.append(request) }

    private var holds: [String] = []
    private var held: [CheckedContinuation<Void, Never>] = []
    var heldCount: Int { held.count }
    func setHold(_ text: String) { holds.append(text) }
    /// Returns at once unless `answer` is to be held; then once the hold is released.
    func waitIfHeld(_ answer: String?) async {
        guard let answer, holds.contains(where: { answer.contains($0) }) else { return }
        await withCheckedContinuation { held.append($0) }
    }
    func releaseHeld() {
        holds = []
        let waiting = held
        held = []
        for continuation in waiting { continuation.resume() }
    }

    /// The failure to answer now, if any.
    func takeFailure() -> OpenAIFailure? {
        if let outage { return outage }
        return failures.isEmpty ? nil : failures.removeFirst()
    }

    func respond(_ body: [String: FakeJSON]) -> Result<FakeJSON, OpenAIError> {
        let allowed: Set = [
            "model", "input", "instructions", "previous_response_id", "store", "stream", "max_output_tokens", "temperature", "top_p",
            "tools", "tool_choice", "metadata", "conversation", "include", "text", "reasoning", "truncation", "user", "parallel_tool_calls",
            "service_tier", "background", "prompt", "safety_identifier", "prompt_cache_key",
        ]
        if let unknown = body.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(.init(400, "Unknown parameter: '\(unknown)'.", param: unknown, code: "unknown_parameter"))
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            return .failure(.init(400, "Missing required parameter: 'model'.", param: "model"))
        }
        if body["instructions"] != nil, body["instructions"]?.stringValue == nil {
            return .failure(.init(400, "Invalid type for 'instructions': expected a string.", param: "instructions"))
        }
        var earlier = 0
        if let previous = body["previous_response_id"] {
            guard let id = previous.stringValue else { return .failure(.init(400, "Invalid type for 'previous_response_id'.", param: "previous_response_id")) }
            if body["conversation"] != nil {
                return .failure(.init(400, "previous_response_id cannot be used with conversation.", param: "previous_response_id"))
            }
            guard let turns = stored[id] else {
                return .failure(.init(400, "Previous response with id '\(id)' not found.", param: "previous_response_id", code: "previous_response_not_found"))
            }
            earlier = turns
        }
        let question: OpenAIQuestion
        switch Self.responsesInput(body["input"]) {
        case .failure(let error): return .failure(error)
        case .success(let (text, images, turns)):
            question = OpenAIQuestion(text: text, imageCount: images, earlierTurns: earlier + turns - 1, model: model)
        }
        let answer = rule(question)
        let id = "resp_fake\(nextID)"
        nextID += 1
        if body["store"]?.boolValue != false { stored[id] = question.earlierTurns + 2 }
        return .success([
            "id": .string(id), "object": "response", "created_at": .int(Int64(Date().timeIntervalSince1970)), "status": "completed",
            "model": .string(model), "previous_response_id": body["previous_response_id"] ?? .null,
            "output": [
                [
                    "type": "message", "id": .string("msg_fake\(id)"), "status": "completed", "role": "assistant",
                    "content": [["type": "output_text", "text": .string(answer), "annotations": []]],
                ]
            ],
            "usage": ["input_tokens": 10, "output_tokens": 10, "total_tokens": 20],
        ])
    }

    /// The newest user text, its images, and how many turns the input holds.
    static func responsesInput(_ input: FakeJSON?) -> Result<(String, Int, Int), OpenAIError> {
        if let text = input?.stringValue { return .success((text, 0, 1)) }
        guard let items = input?.arrayValue, !items.isEmpty else { return .failure(.init(400, "Missing required parameter: 'input'.", param: "input")) }
        var text = "", images = 0
        for (index, item) in items.enumerated() {
            guard let role = item["role"]?.stringValue, ["user", "assistant", "system", "developer"].contains(role) else {
                return .failure(.init(400, "Invalid value for 'input[\(index)].role'.", param: "input[\(index)].role"))
            }
            if let plain = item["content"]?.stringValue {
                if role == "user" { text = plain; images = 0 }
                continue
            }
            guard let parts = item["content"]?.arrayValue else {
                return .failure(.init(400, "Missing 'input[\(index)].content'.", param: "input[\(index)].content"))
            }
            var partText = "", partImages = 0
            for (partIndex, part) in parts.enumerated() {
                let where_ = "input[\(index)].content[\(partIndex)]"
                switch part["type"]?.stringValue {
                case "input_text", "output_text":
                    guard let value = part["text"]?.stringValue else { return .failure(.init(400, "Missing '\(where_).text'.", param: where_)) }
                    partText += value
                case "input_image":
                    guard let url = part["image_url"]?.stringValue, url.hasPrefix("data:image/") || url.hasPrefix("https://") || url.hasPrefix("http://") else {
                        return .failure(.init(400, "Invalid '\(where_).image_url': expected a data:image URL or an http(s) URL (a string).", param: where_))
                    }
                    if let detail = part["detail"]?.stringValue, !["auto", "low", "high", "original"].contains(detail) {
                        return .failure(.init(400, "Invalid '\(where_).detail'.", param: where_))
                    }
                    partImages += 1
                default:
                    return .failure(.init(400, "Invalid value for '\(where_).type'.", param: where_))
                }
            }
            if role == "user" { text = partText; images = partImages }
        }
        return .success((text, images, items.count))
    }

    func complete(_ body: [String: FakeJSON]) -> Result<FakeJSON, OpenAIError> {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            return .failure(.init(400, "Missing required parameter: 'model'.", param: "model"))
        }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return .failure(.init(400, "Missing required parameter: 'messages'.", param: "messages"))
        }
        var text = "", images = 0, turns = 0
        for (index, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue, ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                return .failure(.init(400, "Invalid value for 'messages[\(index)].role'.", param: "messages[\(index)].role"))
            }
            if role == "user" || role == "assistant" { turns += 1 }
            if let plain = message["content"]?.stringValue {
                if role == "user" { text = plain; images = 0 }
            } else if let parts = message["content"]?.arrayValue, role == "user" {
                text = ""; images = 0
                for part in parts {
                    switch part["type"]?.stringValue {
                    case "text": text += part["text"]?.stringValue ?? ""
                    case "image_url":
                        guard let url = part["image_url"]?["url"]?.stringValue, url.hasPrefix("data:image/") || url.hasPrefix("http") else {
                            return .failure(
                                .init(400, "Invalid 'messages[\(index)].content': image_url must be an object with a url.", param: "messages[\(index)].content")
                            )
                        }
                        images += 1
                    default: return .failure(.init(400, "Invalid content part type in 'messages[\(index)]'.", param: "messages[\(index)].content"))
                    }
                }
            } else {
                return .failure(.init(400, "Invalid 'messages[\(index)].content'.", param: "messages[\(index)].content"))
            }
        }
        let answer = rule(OpenAIQuestion(text: text, imageCount: images, earlierTurns: turns - 1, model: model))
        let id = "chatcmpl-fake\(nextID)"
        nextID += 1
        return .success([
            "id": .string(id), "object": "chat.completion", "created": .int(Int64(Date().timeIntervalSince1970)), "model": .string(model),
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(answer)], "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20],
        ])
    }
}

struct OpenAIError: Error {
    var status: Int
    var message: String
    var param: String?
    var code: String?
    var type = "invalid_request_error"

    init(_ status: Int, _ message: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
        self.code = code
    }

    var json: FakeJSON {
        [
            "error": [
                "message": .string(message), "type": .string(type), "param": param.map(FakeJSON.string) ?? .null, "code": code.map(FakeJSON.string) ?? .null,
            ]
        ]
    }
}

enum OpenAIRequestHandler {
    static let audioExtensions: Set = ["flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "oga", "opus", "wav", "webm"]

    static func handle(_ request: Request, apiKey: String, state: OpenAIFakeState) async -> Response {
        var request = request
        let path = request.uri.path
        let endpoint = path.hasPrefix("/v1/") ? String(path.dropFirst(4)) : path
        let body = (try? await request.collectBody(upTo: 30 * 1024 * 1024)) ?? ByteBuffer()
        let authorization = request.headers[.authorization]
        var record = OpenAIRecordedRequest(endpoint: endpoint, authorization: authorization, body: nil, fields: [:], files: [:], status: 200)
        let outcome = await answer(
            endpoint: endpoint, method: request.method, authorization: authorization, apiKey: apiKey,
            contentType: request.headers[.contentType], body: body, state: state, record: &record)
        await state.record(record)
        return outcome
    }

    private static func answer(
        endpoint: String, method: HTTPRequest.Method, authorization: String?, apiKey: String, contentType: String?, body: ByteBuffer,
        state: OpenAIFakeState, record: inout OpenAIRecordedRequest
    ) async -> Response {
        func fail(_ error: OpenAIError, violation: Bool = true) -> Response {
            record.status = error.status
            if violation { record.violation = error.message }
            return .json(error.json, status: .init(code: error.status))
        }
        guard method == .post, ["responses", "chat/completions", "audio/transcriptions"].contains(endpoint) else {
            return fail(OpenAIError(404, "Invalid URL (\(method) /v1/\(endpoint))"))
        }
        guard authorization == "Bearer \(apiKey)" else {
            return fail(OpenAIError(401, "Incorrect API key provided.", code: "invalid_api_key"))
        }
        let result: Result<FakeJSON, OpenAIError>
        if endpoint == "audio/transcriptions" {
            result = transcription(contentType: contentType, body: body, record: &record)
        } else {
            guard (contentType ?? "").lowercased().hasPrefix("application/json"),
                let json = try? FakeJSON.parse(Data(body.readableBytesView)), let object = json.objectValue
            else {
                return fail(OpenAIError(400, "We could not parse the JSON body of your request."))
            }
            record.body = json
            result = endpoint == "responses" ? await state.respond(object) : await state.complete(object)
        }
        switch result {
        case .failure(let error):
            return fail(error)
        case .success(let json):
            if let failure = await state.takeFailure() {
                guard case .slow(let seconds) = failure else { return injected(failure, record: &record) }
                try? await Task.sleep(for: .seconds(seconds))
            }
            record.answer =
                json["output"]?[0]?["content"]?[0]?["text"]?.stringValue
                ?? json["choices"]?[0]?["message"]?["content"]?.stringValue ?? json["text"]?.stringValue
            if let seconds = await state.delay(for: record.answer) { try? await Task.sleep(for: .seconds(seconds)) }
            await state.waitIfHeld(record.answer)
            return .json(json, headers: [.init("x-request-id")!: "req_fake"])
        }
    }

    private static func injected(_ failure: OpenAIFailure, record: inout OpenAIRecordedRequest) -> Response {
        var error: OpenAIError
        var headers: HTTPFields = [:]
        switch failure {
        case .rateLimited(let after):
            error = OpenAIError(429, "Rate limit reached for requests.", code: "rate_limit_exceeded")
            error.type = "requests"
            if let after { headers[.retryAfter] = String(after) }
        case .insufficientQuota:
            error = OpenAIError(429, "You exceeded your current quota.", code: "insufficient_quota")
            error.type = "insufficient_quota"
        case .serverError:
            error = OpenAIError(500, "The server had an error while processing your request.")
            error.type = "server_error"
        case .slow:
            error = OpenAIError(500, "unreachable: slow answers are not failures")
        case .unavailable:
            record.status = 503
            return .bytes(Data("<html><body>503 Service Unavailable</body></html>".utf8), status: .serviceUnavailable, contentType: "text/html")
        }
        record.status = error.status
        return .json(error.json, status: .init(code: error.status), headers: headers)
    }

    private static func transcription(contentType: String?, body: ByteBuffer, record: inout OpenAIRecordedRequest) -> Result<FakeJSON, OpenAIError> {
        guard (contentType ?? "").lowercased().hasPrefix("multipart/form-data") else {
            return .failure(OpenAIError(400, "Transcriptions take multipart/form-data."))
        }
        guard let parsed = try? RequestParsing.parse(contentType: contentType, body: body, query: [:]) else {
            return .failure(OpenAIError(400, "Could not parse multipart form."))
        }
        record.fields = parsed.params.compactMapValues(\.stringValue)
        record.files = parsed.files
        guard let file = parsed.files["file"] else { return .failure(OpenAIError(400, "Missing required parameter: 'file'.", param: "file")) }
        guard record.fields["model"]?.isEmpty == false else { return .failure(OpenAIError(400, "Missing required parameter: 'model'.", param: "model")) }
        let ext = (file.filename ?? "").split(separator: ".").last.map { $0.lowercased() } ?? ""
        guard audioExtensions.contains(ext) else {
            return .failure(OpenAIError(400, "Invalid file format. Supported formats: \(audioExtensions.sorted())", param: "file"))
        }
        guard file.data.count <= 25 * 1024 * 1024 else {
            return .failure(OpenAIError(413, "Maximum content size limit (26214400) exceeded.", param: "file"))
        }
        if let format = record.fields["response_format"], format != "json" {
            return .failure(OpenAIError(400, "This fake answers response_format json only.", param: "response_format"))
        }
        return .success(["text": .string(String(decoding: file.data, as: UTF8.self))])
    }
}

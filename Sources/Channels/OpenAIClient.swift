import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client for an OpenAI-compatible API: the Responses API (`POST /responses`), Chat
/// Completions (`POST /chat/completions`, what Ollama, vLLM and llama.cpp all offer) and
/// speech-to-text (`POST /audio/transcriptions`).
///
/// Like the other clients of this module it makes one attempt per call and throws a
/// ``DeliveryError`` that says whether to try again: 429 (except an exhausted quota), 408,
/// 409, 5xx, timeouts and network errors are retryable, with the `Retry-After` the service
/// sent; other 4xx are not. The caller owns the retry policy.
public struct OpenAIClient: Sendable {
    /// The largest audio file the transcription endpoint takes (25 MiB).
    public static let maxTranscriptionBytes = 25 * 1024 * 1024

    /// The API root including the version, `https://api.openai.com/v1` by default.
    public let baseURL: String
    private let apiKey: String?
    private let httpClient: HTTPClient
    private let logger: Logger
    private let timeout: TimeAmount

    /// Creates a client.
    /// - Parameters:
    ///   - apiKey: sent as `Authorization: Bearer`; local servers often need none.
    ///   - baseURL: the API root including `/v1`, without a trailing slash.
    ///   - httpClient: a shared HTTP client; the caller owns its lifetime.
    ///   - timeout: for one whole request, response included.
    public init(apiKey: String?, baseURL: String = "https://api.openai.com/v1", httpClient: HTTPClient, logger: Logger, timeout: TimeAmount = .seconds(60)) {
        self.apiKey = apiKey
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
    }

    /// One turn of a conversation: who said it, the text, and images as URLs (`https://…`
    /// or `data:image/jpeg;base64,…`).
    public struct Turn: Sendable, Equatable {
        public enum Role: String, Sendable { case system, developer, user, assistant }
        public var role: Role
        public var text: String
        public var imageURLs: [String]

        public init(role: Role, text: String, imageURLs: [String] = []) {
            self.role = role
            self.text = text
            self.imageURLs = imageURLs
        }
    }

    /// What the model answered, and under which id the Responses API keeps it (the
    /// `previous_response_id` of the chat's next turn).
    public struct Reply: Sendable, Equatable {
        public var text: String
        public var responseID: String?
    }

    // MARK: - Responses API

    /// `POST /responses` with the new turn; the chat's memory is `previousResponseID`.
    /// `instructions` are sent every time: the API does not carry them over.
    public func createResponse(model: String, instructions: String?, previousResponseID: String?, input: Turn) async throws -> Reply {
        let body = ResponsesRequest(
            model: model, instructions: instructions, previousResponseID: previousResponseID, store: true,
            input: [ResponsesRequest.Message(role: input.role.rawValue, content: Self.responseContent(of: input))])
        let response = try await post("responses", json: body)
        let decoded: ResponsesResponse
        do {
            decoded = try JSONDecoder().decode(ResponsesResponse.self, from: response.bodyData)
        } catch {
            throw DeliveryError(.fail, "OpenAI responses: unexpected response (\(error)): \(response.bodyExcerpt)", httpStatus: 200)
        }
        if decoded.status == "failed" {
            let message = decoded.error?.message ?? "the response failed"
            throw DeliveryError(.retry(after: nil), "OpenAI responses: \(message)", httpStatus: 200, serviceCode: decoded.error?.code)
        }
        // `output_text` is a convenience of the SDKs; over HTTP the text is in the output
        // items' content parts.
        var text = ""
        for item in decoded.output where item.type == "message" {
            for part in item.content ?? [] {
                if part.type == "output_text" { text += part.text ?? "" } else if part.type == "refusal" { text += part.refusal ?? "" }
            }
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DeliveryError(.fail, "OpenAI responses: the model returned no text (status \(decoded.status ?? "unknown"))", httpStatus: 200)
        }
        return Reply(text: text, responseID: decoded.id)
    }

    private static func responseContent(of turn: Turn) -> [ResponsesRequest.Part] {
        var parts: [ResponsesRequest.Part] = []
        if !turn.text.isEmpty || turn.imageURLs.isEmpty { parts.append(.init(type: "input_text", text: turn.text)) }
        for url in turn.imageURLs { parts.append(.init(type: "input_image", imageURL: url, detail: "auto")) }
        return parts
    }

    // MARK: - Chat Completions

    /// `POST /chat/completions` with the whole conversation (the server keeps the memory).
    public func createChatCompletion(model: String, messages: [Turn]) async throws -> Reply {
        let body = ChatRequest(
            model: model,
            messages: messages.map { turn in
                guard !turn.imageURLs.isEmpty else { return ChatRequest.Message(role: turn.role.rawValue, content: .text(turn.text)) }
                var parts = [ChatRequest.Part(type: "text", text: turn.text)]
                parts += turn.imageURLs.map { ChatRequest.Part(type: "image_url", imageURL: .init(url: $0, detail: "auto")) }
                return ChatRequest.Message(role: turn.role.rawValue, content: .parts(parts))
            })
        let response = try await post("chat/completions", json: body)
        let decoded: ChatResponse
        do {
            decoded = try JSONDecoder().decode(ChatResponse.self, from: response.bodyData)
        } catch {
            throw DeliveryError(.fail, "OpenAI chat/completions: unexpected response (\(error)): \(response.bodyExcerpt)", httpStatus: 200)
        }
        guard let text = decoded.choices.first?.message.content ?? decoded.choices.first?.message.refusal,
            !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw DeliveryError(.fail, "OpenAI chat/completions: the model returned no text", httpStatus: 200)
        }
        return Reply(text: text, responseID: nil)
    }

    // MARK: - Transcription

    /// `POST /audio/transcriptions`: the file as it came (Telegram's OGG/Opus is accepted),
    /// with a file name whose extension names the format. Returns the text.
    public func transcribe(audio: Data, filename: String, contentType: String, model: String, language: String? = nil) async throws -> String {
        guard audio.count <= Self.maxTranscriptionBytes else {
            throw DeliveryError(.fail, "OpenAI audio/transcriptions: the file is \(audio.count) bytes, more than the API's \(Self.maxTranscriptionBytes)")
        }
        var form = MultipartForm()
        form.file("file", data: audio, filename: filename, contentType: contentType)
        form.field("model", model)
        form.field("response_format", "json")
        if let language { form.field("language", language) }
        let encoded: (body: ByteBuffer, contentType: String)
        do {
            encoded = try form.encoded()
        } catch {
            throw DeliveryError(.fail, "OpenAI audio/transcriptions: could not encode the upload: \(error)")
        }
        let response = try await post("audio/transcriptions", body: encoded.body, contentType: encoded.contentType)
        struct Transcription: Decodable { var text: String }
        guard let decoded = try? JSONDecoder().decode(Transcription.self, from: response.bodyData) else {
            throw DeliveryError(.fail, "OpenAI audio/transcriptions: unexpected response: \(response.bodyExcerpt)", httpStatus: 200)
        }
        return decoded.text
    }

    // MARK: - Transport

    private func post(_ path: String, json: some Encodable) async throws -> CollectedResponse {
        let data: Data
        do {
            data = try JSONEncoder().encode(json)
        } catch {
            throw DeliveryError(.fail, "OpenAI \(path): could not encode the request: \(error)")
        }
        return try await post(path, body: ByteBuffer(bytes: data), contentType: "application/json")
    }

    private func post(_ path: String, body: ByteBuffer, contentType: String) async throws -> CollectedResponse {
        var request = HTTPClientRequest(url: "\(baseURL)/\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(body)
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: timeout, maxBodyBytes: 8 * 1024 * 1024)
        } catch {
            logger.debug("OpenAI request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            throw DeliveryError.transport(error, service: "OpenAI \(path)")
        }
        guard response.status == .ok else { throw classify(response, path: path) }
        return response
    }

    private func classify(_ response: CollectedResponse, path: String) -> DeliveryError {
        struct Envelope: Decodable {
            struct Detail: Decodable { var message: String?; var type: String?; var param: String?; var code: String? }
            var error: Detail?
        }
        let status = Int(response.status.code)
        let detail = (try? JSONDecoder().decode(Envelope.self, from: response.bodyData))?.error
        let message = "OpenAI \(path): HTTP \(status): \(detail?.message ?? response.bodyExcerpt)"
        // A stored response can expire or be deleted; the caller then starts the chat's memory afresh.
        let code = detail?.param == "previous_response_id" ? Self.previousResponseNotFound : (detail?.code ?? detail?.type)
        logger.warning(
            "OpenAI call failed",
            metadata: [
                "path": "\(path)", "status": "\(status)", "code": "\(code ?? "")",
                "request_id": "\(response.headers.first(name: "x-request-id") ?? "")",
            ])
        switch status {
        case 429 where code == "insufficient_quota":
            return DeliveryError(.fail, message, httpStatus: status, serviceCode: code)
        case 408, 409, 429, 500...:
            return DeliveryError(.retry(after: parseRetryAfter(response.headers.first(name: "Retry-After"))), message, httpStatus: status, serviceCode: code)
        default:
            return DeliveryError(.fail, message, httpStatus: status, serviceCode: code)
        }
    }

    /// The `serviceCode` of a failure caused by an unknown `previous_response_id`.
    public static let previousResponseNotFound = "previous_response_not_found"
}

// MARK: - Wire shapes (openai-openapi `CreateResponse`, `CreateChatCompletionRequest`)

private struct ResponsesRequest: Encodable {
    struct Part: Encodable {
        var type: String
        var text: String?
        var imageURL: String?
        var detail: String?
        enum CodingKeys: String, CodingKey { case type, text, imageURL = "image_url", detail }
    }
    struct Message: Encodable {
        var role: String
        var content: [Part]
    }
    var model: String
    var instructions: String?
    var previousResponseID: String?
    var store: Bool
    var input: [Message]
    enum CodingKeys: String, CodingKey { case model, instructions, previousResponseID = "previous_response_id", store, input }
}

private struct ResponsesResponse: Decodable {
    struct Item: Decodable {
        struct Content: Decodable { var type: String; var text: String?; var refusal: String? }
        var type: String
        var content: [Content]?
    }
    struct Failure: Decodable { var message: String?; var code: String? }
    var id: String?
    var status: String?
    var output: [Item]
    var error: Failure?
}

private struct ChatRequest: Encodable {
    struct ImageURL: Encodable { var url: String; var detail: String }
    struct Part: Encodable {
        var type: String
        var text: String?
        var imageURL: ImageURL?
        enum CodingKeys: String, CodingKey { case type, text, imageURL = "image_url" }
    }
    enum Content: Encodable {
        case text(String)
        case parts([Part])
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .parts(let parts): try container.encode(parts)
            }
        }
    }
    struct Message: Encodable {
        var role: String
        var content: Content
    }
    var model: String
    var messages: [Message]
}

private struct ChatResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable { var content: String?; var refusal: String? }
        var message: Message
    }
    var choices: [Choice]
}

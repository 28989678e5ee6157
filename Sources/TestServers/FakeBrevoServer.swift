import Foundation
import Hummingbird
import NIOCore

/// One `POST /v3/conversations/messages` the fake Brevo received.
public struct BrevoRecordedMessage: Sendable {
    /// The `api-key` header.
    public var apiKey: String?
    /// The JSON body, if it was JSON.
    public var body: FakeJSON?
    /// The HTTP status answered.
    public var status: Int
    /// The id of the message created, when it succeeded.
    public var messageID: String?
    /// How the request broke Brevo's reference, if it did.
    public var violation: String?

    public var visitorID: String? { body?["visitorId"]?.stringValue }
    public var text: String? { body?["text"]?.stringValue }
    public var agentID: String? { body?["agentId"]?.stringValue }
    public var receivedFrom: String? { body?["receivedFrom"]?.stringValue }
}

/// A failure the fake Brevo answers the next sends with.
public enum BrevoFailure: Sendable, Equatable {
    /// HTTP 429, with `Retry-After` when given.
    case tooManyRequests(retryAfter: Int?)
    /// HTTP 500.
    case serverError
}

/// A fake Brevo Conversations API on 127.0.0.1.
///
/// - `POST /v3/conversations/messages` checks the `api-key` header and the body against
///   Brevo's reference ("Send a message as an agent": `visitorId` and `text` required
///   strings; `agentId`, or all of `agentEmail` + `agentName` + `receivedFrom`; no other
///   fields), records it and answers 200 with the created message (`id`, `type` "agent", …).
/// - `GET /files/{name}` serves files registered with ``addFile(name:data:contentType:)``,
///   standing in for the attachment links of webhook messages.
///
/// Webhook calls go the other way: tests post them to the server under test, using
/// ``webhookEvent(name:visitorID:messages:)`` for the body.
public final class FakeBrevoServer: Sendable {
    /// The API key the fake accepts.
    public let apiKey: String
    private let state = BrevoFakeState()
    private let server = LoopbackServer()
    private let portBox = PortBox()

    public init(apiKey: String = "xkeysib-test-key") {
        self.apiKey = apiKey
    }

    /// Starts listening; returns the API root to use as `BREVO_API_URL` (`http://127.0.0.1:PORT/v3`).
    @discardableResult
    public func start() async throws -> URL {
        let state = self.state, apiKey = self.apiKey
        let port = try await server.start(name: "FakeBrevoServer") { request, _ in
            await BrevoRequestHandler.handle(request, apiKey: apiKey, state: state)
        }
        await portBox.set(port)
        return URL(string: "http://127.0.0.1:\(port)/v3")!
    }

    public func stop() async {
        await server.stop()
        await portBox.set(nil)
    }

    /// Every send received, in order.
    public func messages() async -> [BrevoRecordedMessage] { await state.messages }

    /// The next sends fail like this, one failure per send.
    public func failNext(_ failures: [BrevoFailure]) async { await state.queue(failures) }

    /// Serves a file at `http://127.0.0.1:PORT/files/{name}`; returns that URL.
    public func addFile(name: String, data: Data, contentType: String) async throws -> String {
        guard let port = await portBox.port else { throw LoopbackServerError.notStarted("FakeBrevoServer") }
        await state.addFile(name: name, data: data, contentType: contentType)
        return "http://127.0.0.1:\(port)/files/\(name)"
    }

    /// A Conversations webhook body, shaped like Brevo's samples.
    public static func webhookEvent(name: String = "conversationFragment", visitorID: String, visitorName: String = "Instagram Visitor", messages: [FakeJSON])
        -> FakeJSON
    {
        var event: [String: FakeJSON] = [
            "eventName": .string(name),
            "conversationId": .string("conv-\(visitorID)"),
            "visitor": ["id": .string(visitorID), "displayedName": .string(visitorName), "source": "instagram"],
        ]
        if name == "conversationStarted", let first = messages.first {
            event["message"] = first
            if messages.count > 1 { event["messages"] = .array(Array(messages.dropFirst())) }
        } else {
            event["messages"] = .array(messages)
        }
        return .object(event)
    }

    /// A visitor's message in a webhook body.
    public static func visitorMessage(id: String, visitorID: String, text: String, files: [FakeJSON] = []) -> FakeJSON {
        var message: [String: FakeJSON] = [
            "id": .string(id), "type": "visitor", "text": .string(text), "visitorId": .string(visitorID),
            "createdAt": .int(Int64(Date().timeIntervalSince1970 * 1000)), "isPushed": false, "isTrigger": false,
        ]
        if !files.isEmpty { message["attachments"] = .array(files) }
        return .object(message)
    }
}

actor BrevoFakeState {
    var messages: [BrevoRecordedMessage] = []
    private var failures: [BrevoFailure] = []
    private var files: [String: (Data, String)] = [:]
    private var nextID = 1

    func queue(_ more: [BrevoFailure]) { failures += more }
    func addFile(name: String, data: Data, contentType: String) { files[name] = (data, contentType) }
    func file(_ name: String) -> (Data, String)? { files[name] }

    func send(apiKey given: String?, expected: String, body: ByteBuffer) -> (Int, FakeJSON, Int?) {
        var record = BrevoRecordedMessage(apiKey: given, body: try? FakeJSON.parse(Data(body.readableBytesView)), status: 200)
        defer { messages.append(record) }
        guard given == expected else {
            record.status = 401
            record.violation = "missing or wrong api-key header"
            return (401, ["code": "unauthorized", "message": "Key not found"], nil)
        }
        guard let object = record.body?.objectValue else {
            record.status = 400
            record.violation = "the body is not a JSON object"
            return (400, ["code": "bad_request", "message": "Invalid JSON body"], nil)
        }
        if let problem = Self.problem(object) {
            record.status = 400
            record.violation = problem
            return (400, ["code": "missing_parameter", "message": .string(problem)], nil)
        }
        if !failures.isEmpty {
            switch failures.removeFirst() {
            case .tooManyRequests(let after):
                record.status = 429
                return (429, ["code": "too_many_requests", "message": "Too many requests"], after)
            case .serverError:
                record.status = 500
                return (500, ["code": "internal_error", "message": "Internal server error"], nil)
            }
        }
        let id = "brevo-msg-\(nextID)"
        nextID += 1
        record.messageID = id
        var created: [String: FakeJSON] = [
            "id": .string(id), "type": "agent", "text": object["text"] ?? "", "visitorId": object["visitorId"] ?? "",
            "agentName": "Replyflow", "createdAt": .int(Int64(Date().timeIntervalSince1970 * 1000)), "isPushed": false,
        ]
        if let agent = object["agentId"] { created["agentId"] = agent }
        if let mark = object["receivedFrom"] { created["receivedFrom"] = mark }
        return (200, .object(created), nil)
    }

    /// What Brevo's reference says is wrong with a send body, or nil.
    static func problem(_ body: [String: FakeJSON]) -> String? {
        let allowed: Set = ["visitorId", "text", "agentId", "agentEmail", "agentName", "receivedFrom"]
        if let unknown = body.keys.sorted().first(where: { !allowed.contains($0) }) { return "unknown field \(unknown)" }
        for field in allowed where body[field] != nil && body[field]?.stringValue == nil { return "\(field) must be a string" }
        guard let visitor = body["visitorId"]?.stringValue, !visitor.isEmpty else { return "visitorId is required" }
        guard let text = body["text"]?.stringValue, !text.isEmpty else { return "text is required" }
        let byEmail = body["agentEmail"] != nil && body["agentName"] != nil && body["receivedFrom"] != nil
        guard body["agentId"] != nil || byEmail else { return "agentId, or agentEmail + agentName + receivedFrom, is required" }
        return nil
    }
}

enum BrevoRequestHandler {
    static func handle(_ request: Request, apiKey: String, state: BrevoFakeState) async -> Response {
        var request = request
        let path = request.uri.path
        if request.method == .get, path.hasPrefix("/files/") {
            guard let (data, type) = await state.file(String(path.dropFirst("/files/".count))) else {
                return .json(["message": "not found"], status: .notFound)
            }
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        guard request.method == .post, path == "/v3/conversations/messages" else {
            return .json(["code": "not_found", "message": .string("no such endpoint \(path)")], status: .notFound)
        }
        let body = (try? await request.collectBody(upTo: 1024 * 1024)) ?? ByteBuffer()
        let (status, json, retryAfter) = await state.send(apiKey: request.headers[.init("api-key")!], expected: apiKey, body: body)
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return .json(json, status: .init(code: status), headers: headers)
    }
}

import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestServers
import Testing

@testable import Server
import TestSupport

/// The running server, held to `openapi/openapi.json`: every documented operation is
/// called with a valid request (on a live server, with a fake Telegram for the webhook),
/// and each answer must have a documented status and content type and a body that fits
/// the operation's response schema. An operation added to the document without a call
/// here fails the test, so none is left unchecked.
@Suite("OpenAPI conformance", .serialized, .machineShare)
struct OpenAPIConformanceTests {
    static let key = "conformance-key-789"
    static let brevoSecret = "brevo-secret-for-conformance-0123"
    static let telegramSecret = "telegram-secret-for-conformance"

    /// What the server answered, for the check against the document.
    struct Exchange: Sendable {
        var route: OpenAPISpec.Route
        var status: Int
        var contentType: String?
        var body: [UInt8]
    }

    /// Calls the server and records the exchange under its documented route.
    final class Recorder: @unchecked Sendable {
        private(set) var exchanges: [Exchange] = []
        let client: any TestClientProtocol

        init(client: any TestClientProtocol) {
            self.client = client
        }

        @discardableResult func call(
            _ method: HTTPRequest.Method, _ template: String, _ uri: String? = nil, headers: HTTPFields = [:], body: ByteBuffer? = nil
        ) async throws -> TestResponse {
            let response = try await client.execute(uri: uri ?? template, method: method, headers: headers, body: body)
            exchanges.append(
                Exchange(
                    route: .init(method: method.rawValue, path: template), status: Int(response.status.code), contentType: response.headers[.contentType],
                    body: Array(response.body.readableBytesView)))
            return response
        }

        func record(_ exchange: Exchange) { exchanges.append(exchange) }
    }

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    @Test func everyDocumentedOperationAnswersAsDocumented() async throws {
        let spec = try OpenAPISpec()
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start()
        harness.configuration.botToken = telegram.token
        harness.configuration.groupChatID = -1_001_234_567_890
        harness.configuration.telegramAPIURL = telegramURL.absoluteString
        harness.configuration.telegramWebhookURL = "https://support.example.test/webhooks/telegram"
        harness.configuration.telegramWebhookSecret = Self.telegramSecret
        harness.configuration.apiKey = Self.key
        harness.configuration.brevoWebhookSecret = Self.brevoSecret

        let app = try harness.build()
        let exchanges: [Exchange]
        do {
            exchanges = try await withTimeLimit(.seconds(90)) {
                try await app.application.test(.live) { client in
                    let recorder = Recorder(client: client)
                    try await exercise(recorder, port: try #require(client.port))
                    return recorder.exchanges
                }
            }
        } catch {
            await telegram.stop()
            throw error
        }
        await telegram.stop()

        var problems: [String] = []
        for exchange in exchanges {
            if !(200..<300).contains(exchange.status) && exchange.route.path != "/socket.io/" {
                problems.append("\(exchange.route): a valid request got \(exchange.status): \(String(decoding: exchange.body, as: UTF8.self).prefix(300))")
            }
            problems += spec.problems(exchange.route, status: exchange.status, contentType: exchange.contentType, body: exchange.body)
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let called = Set(exchanges.map(\.route))
        let notCalled = Set(spec.routes).subtracting(called)
        #expect(notCalled.isEmpty, "documented operations this test does not call: \(notCalled.sorted())")
        #expect(exchanges.count >= spec.routes.count)
    }

    /// One valid request for each documented operation, in an order that makes the ids
    /// later ones need (a chat, a photo, a socket.io session).
    func exercise(_ server: Recorder, port: Int) async throws {
        let jsonHeaders: HTTPFields = [.contentType: "application/json"]
        let keyed: HTTPFields = [.contentType: "application/json", .init("X-API-Key")!: Self.key]

        // The app's API.
        try await server.call(.get, "/health")
        try await server.call(
            .post, "/send_message", headers: jsonHeaders, body: json(["user_id": "conformance-1", "user_name": "Анна", "message": "Здравствуйте"]))
        var form = MultipartBody()
        form.field("user_id", "conformance-1")
        form.field("message", "a photo")
        form.file("photo", filename: "tiny.png", contentType: "image/png", tinyPNG)
        let withPhoto = try await server.call(
            .post, "/send_message", headers: [.contentType: form.contentType], body: ByteBuffer(bytes: form.finished()))
        let photoURL = try #require(withPhoto.json["photo_url"] as? String)
        try await server.call(.get, "/uploads/{filename}", photoURL)
        try await server.call(
            .post, "/register_device", headers: jsonHeaders,
            body: json(["user_id": "conformance-1", "fcm_token": "token-abc", "platform": "android", "device_id": "device-1"]))
        try await server.call(.get, "/check_device/{user_id}", "/check_device/conformance-1")
        try await server.call(.get, "/message_history/{user_id}", "/message_history/conformance-1?limit=10&user_name=%D0%90%D0%BD%D0%BD%D0%B0")

        // socket.io: the polling handshake, a connect packet, and the methods it refuses.
        let handshake = try await server.call(.get, "/socket.io/", "/socket.io/?EIO=4&transport=polling")
        let open = String(buffer: handshake.body)
        let sid = try #require(
            (try? JSONSerialization.jsonObject(with: Data(open.dropFirst().utf8)) as? [String: Any])?["sid"] as? String, "no sid in \(open)")
        try await server.call(
            .post, "/socket.io/", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", headers: [.contentType: "text/plain"], body: ByteBuffer(string: "40"))
        for method in [HTTPRequest.Method.put, .patch, .delete] {
            try await server.call(method, "/socket.io/", "/socket.io/?EIO=4&transport=polling")
        }

        // The /api.
        let chats = try await server.call(.get, "/api/chats", "/api/chats?source=app&page=1&perPage=10", headers: keyed)
        let chatID = try #require((chats.json["chats"] as? [[String: Any]])?.first?["id"] as? String)
        try await server.call(.get, "/api/chats/{chatId}/messages", "/api/chats/\(chatID)/messages?perPage=5", headers: keyed)
        try await server.call(.patch, "/api/chats/{chatId}/autoMode", "/api/chats/\(chatID)/autoMode", headers: keyed, body: json(["autoMode": false]))
        try await server.call(
            .post, "/api/messages", headers: keyed, body: json(["platformChatId": "conformance-1", "source": "app", "text": "Ответ", "senderName": "Ольга"]))
        try await server.call(.post, "/api/stream/token", headers: keyed)
        server.record(try await streamHead(port: port))

        // The webhooks.
        try await server.call(
            .post, "/webhooks/telegram", headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: Self.telegramSecret],
            body: json(["update_id": 4242]))
        func brevoEvent(_ id: String) -> ByteBuffer {
            json([
                "eventName": "conversationStarted", "conversationId": "conversation-1",
                "message": ["id": id, "type": "visitor", "text": "Hi from Instagram", "visitorId": "visitor-1"],
                "visitor": ["id": "visitor-1", "displayedName": "Ivan"],
            ])
        }
        try await server.call(.post, "/webhooks/brevo/{secret}", "/webhooks/brevo/\(Self.brevoSecret)", headers: jsonHeaders, body: brevoEvent("brevo-1"))
        try await server.call(
            .post, "/webhooks/brevo", headers: [.contentType: "application/json", .authorization: "Bearer \(Self.brevoSecret)"], body: brevoEvent("brevo-2"))

        // The operator's.
        try await server.call(.get, "/ready")
        try await server.call(.get, "/metrics", headers: keyed)
        try await server.call(.get, "/openapi.json")
    }

    /// `/api/stream` stays open: only its status and headers are taken, then it is closed.
    func streamHead(port: Int) async throws -> Exchange {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/stream?source=app")
        request.headers.add(name: "X-API-Key", value: Self.key)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let exchange = Exchange(
            route: .init(method: "GET", path: "/api/stream"), status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            body: [])
        // The first frame, then the connection is closed (leaving the loop cancels the
        // request) and the server ends the stream.
        for try await _ in response.body { break }
        return exchange
    }
}

/// Runs `body`, failing with `TimeLimitExceeded` when it takes longer than `limit`.
func withTimeLimit<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeLimitExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct TimeLimitExceeded: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "not done within \(limit)" }
}

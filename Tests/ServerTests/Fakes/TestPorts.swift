import Channels
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import TestServers

/// The outside services as recording fakes, for a server the tests drive through its
/// router: nothing listens on a port, and `ServerApp.waitForDeliveries()` replaces
/// polling for what was sent.
///
/// ```swift
/// let ports = TestPorts()
/// let app = try harness.build(ports: ports)
/// try await app.application.test(.router) { client in
///     _ = try await client.execute(uri: "/send_message", ...)
///     await app.waitForDeliveries()
/// }
/// #expect(ports.staffGroup.sent.count == 1)
/// #expect(ports.violations.isEmpty)
/// ```
struct TestPorts {
    /// The staff group's chat id the configuration gets (staff notices are sent to it).
    static let group: Int64 = -1_001_234_567_890

    let staffGroup = RecordingStaffGroup()
    let telegramChats = RecordingCustomerChannel(.telegram)
    let instagramChats = RecordingCustomerChannel(.brevo)
    let push = RecordingPushSender()
    let assistant = FakeAssistant()

    /// All five fakes; set one to nil to build a server without that service.
    var ports: ServerPorts {
        ServerPorts(staffGroup: staffGroup, telegramChats: telegramChats, instagramChats: instagramChats, push: push, assistant: assistant)
    }

    /// What any fake was given that its real service would have refused, one line each.
    var violations: [String] {
        staffGroup.violations.map { "staff group: " + $0 } + telegramChats.violations.map { "Telegram chats: " + $0 }
            + instagramChats.violations.map { "Instagram chats: " + $0 } + push.violations.map { "push: " + $0 }
            + assistant.violations.map { "assistant: " + $0 }
    }
}

extension ServerHarness {
    /// The app with `ports` in place of the outside services. The configuration gets the
    /// staff group's chat id when it has none (staff notices go to it); no bot token is
    /// set, so nothing polls Telegram.
    /// `storage`, when given, is the database instead of the harness's SQLite file.
    func build(ports: TestPorts, clock: @escaping @Sendable () -> Date = Date.init, storage: ServerStorage? = nil) throws -> ReplyflowServer.ServerApp {
        var configuration = configuration
        if configuration.groupChatID == nil { configuration.groupChatID = TestPorts.group }
        return try ReplyflowServer.buildApplication(configuration: configuration, logger: Self.quietLogger, clock: clock, ports: ports.ports, storage: storage)
    }
}

/// Failures a fake was told to give, as `DeliveryError`s (or any error, for the
/// assistant): the next `count` calls of a kind, after `skip` calls of it that go through.
struct InjectedFailures<Kind: Equatable & Sendable, Failure: Error & Sendable>: Sendable {
    private struct Plan: Sendable {
        var kind: Kind?
        var skip: Int
        var count: Int
        var error: Failure
        var token: String?
    }

    private var plans: [Plan] = []

    /// `kind` nil: any call; `token`: only calls for that recipient (pushes).
    mutating func add(_ count: Int, of kind: Kind? = nil, after skip: Int = 0, token: String? = nil, with error: Failure) {
        plans.append(Plan(kind: kind, skip: skip, count: count, error: error, token: token))
    }

    /// The error this call is to throw, if any (the first plan that matches decides).
    mutating func take(_ kind: Kind, token: String? = nil) -> Failure? {
        guard let index = plans.firstIndex(where: { ($0.kind == nil || $0.kind == kind) && ($0.token == nil || $0.token == token) }) else { return nil }
        if plans[index].skip > 0 {
            plans[index].skip -= 1
            return nil
        }
        let error = plans[index].error
        plans[index].count -= 1
        if plans[index].count <= 0 { plans.remove(at: index) }
        return error
    }
}

/// What a service answers a request it refuses (HTTP 400), as the clients classify it.
func badRequest(_ description: String) -> DeliveryError {
    DeliveryError(.fail, "Bad Request: \(description)", httpStatus: 400)
}

// MARK: A server on the router

extension TestPorts {
    /// The `/api` key and Brevo webhook secret `withServer` configures.
    static let apiKey = "test-api-key-123"
    static let webhookSecret = "brevo-webhook-secret-0123456789"

    var authorized: HTTPFields { [.contentType: "application/json", .init("X-API-Key")!: Self.apiKey] }

    /// Runs `body` against a server on the router with these fakes (the `/api` key and the
    /// Brevo webhook secret set, then `configure`), and removes its files afterwards.
    func withServer(
        configure: (inout ServerConfiguration) -> Void = { _ in }, clock: @escaping @Sendable () -> Date = Date.init,
        _ body: @Sendable (ReplyflowServer.ServerApp, any TestClientProtocol) async throws -> Void
    ) async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.apiKey
        harness.configuration.brevoWebhookSecret = Self.webhookSecret
        configure(&harness.configuration)
        let app = try harness.build(ports: self, clock: clock)
        try await app.application.test(.router) { client in try await body(app, client) }
    }

    /// Posts a Brevo webhook event, with the secret in the path.
    func postWebhook(_ client: some TestClientProtocol, _ event: FakeJSON, secret: String = TestPorts.webhookSecret) async throws -> TestResponse {
        try await client.execute(
            uri: "/webhooks/brevo/\(secret)", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: event.jsonString))
    }

    /// The `/api` chats of a source, newest first.
    func chats(_ client: some TestClientProtocol, source: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/chats?source=\(source)", method: .get, headers: authorized).json["chats"] as? [[String: Any]] ?? []
    }

    /// The `/api` messages of a chat, oldest first.
    func messages(_ client: some TestClientProtocol, chatID: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/chats/\(chatID)/messages", method: .get, headers: authorized).json["messages"] as? [[String: Any]] ?? []
    }
}

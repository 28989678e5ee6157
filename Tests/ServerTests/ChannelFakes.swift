import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import TestServers
import Testing

/// Fake Telegram, Brevo and OpenAI servers, started and wired into a harness's
/// configuration, for the stories of Instagram and Telegram private chats.
struct ChannelFakes {
    static let group: Int64 = -1_001_234_567_890
    static let apiKey = "test-api-key-123"
    static let webhookSecret = "brevo-webhook-secret-0123456789"

    let telegram = FakeTelegramServer()
    let brevo = FakeBrevoServer()
    let openAI = FakeOpenAIServer()

    var authorized: HTTPFields { [.contentType: "application/json", .init("X-API-Key")!: Self.apiKey] }

    /// Starts the fakes and points the harness at them.
    func start(into harness: inout ServerHarness) async throws {
        let telegramURL = try await telegram.start()
        harness.configuration.botToken = telegram.token
        harness.configuration.groupChatID = Self.group
        harness.configuration.telegramAPIURL = telegramURL.absoluteString
        harness.configuration.telegramPollTimeout = 1
        harness.configuration.brevoAPIURL = try await brevo.start().absoluteString
        harness.configuration.brevoAPIKey = brevo.apiKey
        harness.configuration.brevoAgentID = "agent-7"
        harness.configuration.brevoWebhookSecret = Self.webhookSecret
        harness.configuration.openAI.baseURL = try await openAI.start().absoluteString
        harness.configuration.openAI.apiKey = openAI.apiKey
        harness.configuration.openAI.model = "gpt-test"
        harness.configuration.openAI.visionModel = "gpt-test-vision"
        harness.configuration.openAI.audioModel = "whisper-1"
        harness.configuration.openAI.maxAttempts = 2
        harness.configuration.apiKey = Self.apiKey
    }

    /// Runs `body` against a server wired to fresh fakes (its settings adjusted by
    /// `configure`), then stops the fakes and removes the server's files.
    static func withServer(
        configure: (inout ServerConfiguration) -> Void = { _ in }, prepare: (ChannelFakes) async -> Void = { _ in },
        _ body: @Sendable (ChannelFakes, any TestClientProtocol) async throws -> Void
    ) async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let fakes = ChannelFakes()
        try await fakes.start(into: &harness)
        configure(&harness.configuration)
        await prepare(fakes)
        do {
            try await harness.build().application.test(.live) { client in try await body(fakes, client) }
        } catch {
            await fakes.stop()
            throw error
        }
        await fakes.stop()
    }

    func stop() async {
        await telegram.stop()
        await brevo.stop()
        await openAI.stop()
    }

    /// Every request any fake flagged as breaking its service's published shape.
    func violations() async -> [String] {
        let brevoViolations = await brevo.messages().compactMap(\.violation)
        let openAIViolations = await openAI.requests().compactMap(\.violation)
        return await telegram.violations() + brevoViolations + openAIViolations
    }

    /// Posts a Brevo webhook event to the server, with the secret in the path.
    func postWebhook(_ client: some TestClientProtocol, _ event: FakeJSON, secret: String = ChannelFakes.webhookSecret) async throws -> TestResponse {
        try await client.execute(
            uri: "/webhooks/brevo/\(secret)", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: event.jsonString))
    }

    /// Posts a webhook event on a connection of its own (the test client sends one request
    /// at a time), so several can be under way at once.
    func postWebhookAlongside(_ client: some TestClientProtocol, _ event: FakeJSON) async throws {
        let port = try #require(client.port)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/brevo/\(Self.webhookSecret)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: event.jsonString))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
    }

    /// Brevo sends, waiting for at least `count`.
    func brevoMessages(atLeast count: Int) async throws -> [BrevoRecordedMessage] {
        try await waitFor {
            let all = await brevo.messages(); return all.count >= count ? all : nil
        }
    }
}

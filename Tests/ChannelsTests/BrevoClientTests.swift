import AsyncHTTPClient
import Channels
import Foundation
import TestServers
import Testing
import TestSupport

/// The Brevo Conversations client against the fake Brevo: the request it makes, the id it
/// returns (the server keeps it to know its own messages when the webhook echoes them),
/// and how it classifies failures (the outbox retries what is retryable).
@Suite("BrevoClient against FakeBrevoServer", .timeLimit(.minutes(5)), .machineShare)
struct BrevoClientTests {
    func withBrevo(_ body: (FakeBrevoServer, BrevoClient) async throws -> Void) async throws {
        let fake = FakeBrevoServer()
        let base = try await fake.start()
        let client = BrevoClient(
            apiKey: fake.apiKey, agentID: "agent-7", baseURL: base.absoluteString, httpClient: .shared, logger: testLogger(), timeout: .seconds(10))
        do {
            try await body(fake, client)
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    @Test func sendsAnAgentMessageMarkedAsOursAndReturnsBrevosID() async throws {
        try await withBrevo { fake, client in
            let id = try await client.sendMessage(visitorID: "visitor-1", text: "Hello <there> & welcome")
            let sent = try #require(await fake.messages().first)
            #expect(sent.status == 200)
            #expect(id != nil && id == sent.messageID)
            #expect(sent.apiKey == fake.apiKey)
            #expect(sent.visitorID == "visitor-1")
            #expect(sent.agentID == "agent-7")
            #expect(sent.receivedFrom == BrevoClient.receivedFromMark)
            #expect(sent.text == "Hello <there> & welcome", "plain text, not escaped")
            #expect(await fake.messages().compactMap(\.violation).isEmpty)
        }
    }

    @Test func failuresAreClassified() async throws {
        try await withBrevo { fake, client in
            await fake.failNext([.serverError, .tooManyRequests(retryAfter: 1), .tooManyRequests(retryAfter: nil)])
            let server = await expectDeliveryError { _ = try await client.sendMessage(visitorID: "v", text: "x") }
            #expect(server?.disposition == .retry(after: nil))
            #expect(server?.httpStatus == 500)
            let limited = await expectDeliveryError { _ = try await client.sendMessage(visitorID: "v", text: "x") }
            #expect(limited?.disposition == .retry(after: .seconds(1)))
            #expect(limited?.httpStatus == 429)
            let busy = await expectDeliveryError { _ = try await client.sendMessage(visitorID: "v", text: "x") }
            #expect(busy?.disposition == .retry(after: nil))

            // A request Brevo refuses is not retried.
            let refused = await expectDeliveryError { _ = try await client.sendMessage(visitorID: "v", text: "") }
            #expect(refused?.disposition == .fail)
            #expect(refused?.httpStatus == 400)
            #expect(refused?.description.contains("text is required") == true)

            // After the failures, sending works again.
            let again = try await client.sendMessage(visitorID: "v", text: "x")
            #expect(again != nil)
            #expect(await fake.messages().map(\.status) == [500, 429, 429, 400, 200])
        }
    }

    @Test func aWrongKeyIsNotRetried() async throws {
        let fake = FakeBrevoServer()
        let base = try await fake.start()
        let client = BrevoClient(
            apiKey: "not-the-key", agentID: "agent-7", baseURL: base.absoluteString, httpClient: .shared, logger: testLogger(), timeout: .seconds(10))
        let error = await expectDeliveryError { _ = try await client.sendMessage(visitorID: "v", text: "x") }
        await fake.stop()
        #expect(error?.disposition == .fail)
        #expect(error?.httpStatus == 401)
    }
}

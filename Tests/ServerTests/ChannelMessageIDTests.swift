import Channels
import Flows
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import TestServers
import Testing
import TestSupport

/// What the `/api` shows of a message going out on a channel, on the router with recording
/// fakes: its `platformMessageId` is the id the channel gave it once it is sent (Telegram's
/// `message_id`, Brevo's message id), empty until then, and `deliveryStatus` says how its
/// delivery stands. A staff photo relayed from the group is in `TelegramPrivateChatTests`,
/// whose updates come from a fake Telegram on loopback.
@Suite("Outgoing messages carry their channel's id", .machineShare)
struct ChannelMessageIDTests {
    static let customer = "555000333"

    /// A Telegram customer writes to the bot, as the update handler hands it in.
    func customerWrites(_ app: ReplyflowServer.ServerApp, _ text: String, messageID: String) async throws {
        var event = InboundEvent(kind: .telegramMessage, at: Date(), userID: Self.customer, userName: "Ivan", text: text)
        event.platformMessageID = messageID
        _ = try await app.engine.handle(event)
    }

    func telegramChat(_ client: some TestClientProtocol, _ ports: TestPorts) async throws -> String {
        try #require(try await ports.chats(client, source: "telegram").first?["id"] as? String)
    }

    @Test func aFlowsReplyIsPendingUntilSentAndThenCarriesTelegramsMessageID() async throws {
        let ports = TestPorts()
        // The first attempt meets a rate limit: the reply waits in the outbox for a while
        // (long enough for a loaded machine to read the chat before the retry; 3 s was not).
        ports.telegramChats.failNext(1, .text, with: DeliveryError(.retry(after: .seconds(10)), "Telegram: Too Many Requests: retry after 10"))
        try await ports.withServer { app, client in
            try await customerWrites(app, "Where is my order?", messageID: "77")
            _ = try await waitFor { ports.telegramChats.calls.isEmpty ? nil : true }
            let chatID = try await telegramChat(client, ports)
            let waiting = try await ports.messages(client, chatID: chatID)
            #expect(waiting.map { $0["isIncoming"] as? Bool } == [true, false])
            #expect(waiting.last?["platformMessageId"] as? String == "", "not Replyflow's own id while it is not sent")
            #expect(waiting.last?["deliveryStatus"] as? String == "pending")

            await app.waitForDeliveries()
            let telegramID = try #require(ports.telegramChats.sent.first?.id)
            let messages = try await ports.messages(client, chatID: chatID)
            let reply = try #require(messages.last)
            #expect(reply["content"] as? String == "Answer to \"Where is my order?\"")
            #expect(reply["platformMessageId"] as? String == telegramID)
            #expect(reply["platformMessageId"] as? String != reply["id"] as? String)
            #expect(reply["deliveryStatus"] as? String == "sent")
            // The customer's own message has Telegram's id from the start; nothing sends it.
            #expect(messages.first?["platformMessageId"] as? String == "77")
            #expect(messages.first?["deliveryStatus"] is NSNull)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func aMessageSentThroughTheAPIShowsBrevosIDOrThatItFailed() async throws {
        let ports = TestPorts()
        try await ports.withServer(configure: { $0.autoModeDefault = false }) { app, client in
            _ = try await ports.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-1", visitorName: "Olga", messages: [FakeBrevoServer.visitorMessage(id: "in-1", visitorID: "v-1", text: "Hello")]))
            let answered = try await client.execute(
                uri: "/api/messages", method: .post, headers: ports.authorized,
                body: ByteBuffer(string: #"{"platformChatId": "v-1", "source": "instagram", "text": "Hello Olga"}"#))
            #expect(answered.status == .created)
            #expect(answered.json["platformMessageId"] as? String == "")
            #expect(answered.json["deliveryStatus"] as? String == "pending")
            await app.waitForDeliveries()
            let brevoID = try #require(ports.instagramChats.sent.first?.id)
            let chat = try #require(try await ports.chats(client, source: "instagram").first?["id"] as? String)
            let instagram = try await ports.messages(client, chatID: chat)
            #expect(instagram.map { $0["platformMessageId"] as? String } == ["in-1", brevoID])
            #expect(instagram.map { $0["deliveryStatus"] as? String } == [nil, "sent"])

            // Telegram refuses the message for good: it is shown failed, with no id.
            try await customerWrites(app, "Anyone there?", messageID: "78")
            ports.telegramChats.failNext(1, with: badRequest("chat not found"))
            let refused = try await client.execute(
                uri: "/api/messages", method: .post, headers: ports.authorized,
                body: ByteBuffer(string: #"{"platformChatId": "\#(Self.customer)", "source": "telegram", "text": "Yes, here"}"#))
            #expect(refused.status == .created)
            await app.waitForDeliveries()
            let telegram = try await ports.messages(client, chatID: try await telegramChat(client, ports))
            #expect(telegram.last?["content"] as? String == "Yes, here")
            #expect(telegram.last?["platformMessageId"] as? String == "")
            #expect(telegram.last?["deliveryStatus"] as? String == "failed")
        }
    }

    @Test func aReplyOnAChannelThatIsNotSetUpSaysSo() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = TestPorts.apiKey
        harness.configuration.brevoWebhookSecret = TestPorts.webhookSecret
        harness.configuration.groupChatID = TestPorts.group
        let ports = TestPorts()
        var withoutBrevo = ports.ports
        withoutBrevo.instagramChats = nil
        let app = try ReplyflowServer.buildApplication(configuration: harness.configuration, logger: ServerHarness.quietLogger, ports: withoutBrevo)
        try await app.application.test(.router) { client in
            _ = try await ports.postWebhook(
                client, FakeBrevoServer.webhookEvent(visitorID: "v-2", messages: [FakeBrevoServer.visitorMessage(id: "in-2", visitorID: "v-2", text: "Hi")]))
            await app.waitForDeliveries()
            let chat = try #require(try await ports.chats(client, source: "instagram").first?["id"] as? String)
            let reply = try #require(try await ports.messages(client, chatID: chat).last)
            #expect(reply["content"] as? String == "Answer to \"Hi\"")
            #expect(reply["platformMessageId"] as? String == "")
            #expect(reply["deliveryStatus"] as? String == "not_configured")
        }
    }
}

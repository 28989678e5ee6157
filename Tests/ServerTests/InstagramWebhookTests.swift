import Channels
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// Instagram DMs through Brevo Conversations, on the router: the webhook is an HTTP input,
/// and the replies go to recording fakes (Brevo, the staff group, the assistant). The
/// assistant's own protocol (memory, vision, voice, timeouts) and staff answering from
/// the Telegram group stay in `InstagramTests`, against fakes on loopback.
@Suite("Instagram through Brevo, on the router", .machineShare)
struct InstagramWebhookTests {
    @Test func theAssistantAnswersTextAndVoiceAndItsMemoryIsCommittedWithEachRun() async throws {
        let ports = TestPorts()
        ports.assistant.transcribing { audio in audio.fileName == "voice.ogg" ? "Where is my parcel?" : "" }
        try await ports.withServer { app, client in
            let first = FakeBrevoServer.visitorMessage(id: "in-1", visitorID: "visitor-1", text: "Hello, is the shop open?")
            let started = try await ports.postWebhook(
                client, FakeBrevoServer.webhookEvent(name: "conversationStarted", visitorID: "visitor-1", visitorName: "Olga", messages: [first]))
            #expect(started.status == .ok)
            #expect(started.json["handled"] as? Int == 1)
            let memory = SQLiteAssistantMemory(database: app.database)
            #expect(try await memory.previousResponseID(source: .instagram, platformChatID: "visitor-1") == "resp_fake1")

            // A voice note: not fetched by the webhook; the assistant is given its address.
            let voice = FakeBrevoServer.visitorMessage(
                id: "in-2", visitorID: "visitor-1", text: "",
                files: [
                    ["fileName": "voice.ogg", "url": "https://files.brevo.example/voice.ogg", "isImage": false]
                ])
            _ = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "visitor-1", visitorName: "Olga", messages: [voice]))
            #expect(try await memory.previousResponseID(source: .instagram, platformChatID: "visitor-1") == "resp_fake2")
            #expect(ports.assistant.transcribed.map(\.location) == ["https://files.brevo.example/voice.ogg"])
            #expect(ports.assistant.transcribed.map(\.contentType) == ["audio/ogg"])

            await app.waitForDeliveries()
            let sent = ports.instagramChats.sent
            #expect(sent.map(\.chatID) == ["visitor-1", "visitor-1"])
            #expect(sent.map(\.text) == ["Answer to \"Hello, is the shop open?\"", "Answer to \"Where is my parcel?\""])
            let asked = ports.assistant.questions
            #expect(asked.map(\.prompt) == ["Hello, is the shop open?", "Where is my parcel?"])
            #expect(asked.allSatisfy { $0.chat.source == .instagram && $0.chat.platformChatID == "visitor-1" && $0.photos.isEmpty })
            #expect(ports.staffGroup.calls.isEmpty)

            let chat = try #require(try await ports.chats(client, source: "instagram").first)
            #expect(chat["platformChatId"] as? String == "visitor-1")
            #expect(chat["name"] as? String == "Olga")
            #expect(chat["autoMode"] as? Bool == true)
            let stored = try await ports.messages(client, chatID: try #require(chat["id"] as? String))
            #expect(stored.map { $0["isIncoming"] as? Bool } == [true, false, true, false])
            #expect(stored.map { $0["content"] as? String }[1] == "Answer to \"Hello, is the shop open?\"")
            #expect(stored.last?["content"] as? String == "Answer to \"Where is my parcel?\"")
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func whenTheAICannotAnswerTheChatIsHandedToStaffWhoAnswerThroughTheAPI() async throws {
        let ports = TestPorts()
        try await ports.withServer { app, client in
            _ = try await ports.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-3",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "f-1", visitorID: "v-3", text: "first")
                    ]))
            await app.waitForDeliveries()
            #expect(ports.instagramChats.sent.map(\.text) == ["Answer to \"first\""])

            // The AI fails (its retries spent): auto mode goes off and staff get the message.
            ports.assistant.failNext(1)
            _ = try await ports.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-3",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "f-2", visitorID: "v-3", text: "second, during the outage")
                    ]))
            await app.waitForDeliveries()
            let forward = try #require(ports.staffGroup.messages.first)
            #expect(forward.kind == .text)
            #expect(forward.plainText?.contains("second, during the outage") == true)
            #expect(ports.assistant.prompts == ["first", "second, during the outage"])
            #expect(try await ports.chats(client, source: "instagram").first?["autoMode"] as? Bool == false)
            #expect(ports.instagramChats.calls.count == 1)

            // Staff answer through the API; it goes out through Brevo.
            let reply = try await client.execute(
                uri: "/api/messages", method: .post, headers: ports.authorized,
                body: ByteBuffer(
                    string:
                        #"{"platformChatId": "v-3", "source": "instagram", "text": "Staff here, sorry for the wait", "senderName": "Maria", "visitorId": "v-3-brevo"}"#
                ))
            #expect(reply.status == .created)
            #expect(reply.json["senderName"] as? String == "Maria")
            await app.waitForDeliveries()
            let sent = ports.instagramChats.sent
            #expect(sent.count == 2)
            #expect(sent.last?.text == "Staff here, sorry for the wait")
            #expect(sent.last?.chatID == "v-3-brevo")
            let chat = try #require(try await ports.chats(client, source: "instagram").first)
            let stored = try await ports.messages(client, chatID: try #require(chat["id"] as? String))
            #expect(stored.last?["senderName"] as? String == "Maria")
            #expect(stored.last?["responseMode"] as? String == "manual")
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func ourOwnEchoesAndReplayedWebhooksAreNotAnsweredAgain() async throws {
        let ports = TestPorts()
        try await ports.withServer { app, client in
            let event = FakeBrevoServer.webhookEvent(visitorID: "v-4", messages: [FakeBrevoServer.visitorMessage(id: "r-1", visitorID: "v-4", text: "hi")])
            _ = try await ports.postWebhook(client, event)
            await app.waitForDeliveries()
            let answer = try #require(ports.instagramChats.sent.first)
            let answerID = try #require(answer.id)
            // Brevo echoes a message once its API has answered, and so once the server has
            // recorded the id it was given.
            let recorded = try await app.database.writer.read { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM brevo_messages WHERE message_id = ? AND direction = 'sent'", arguments: [answerID])
            }
            #expect(recorded == true)

            let replayed = try await ports.postWebhook(client, event)
            #expect(replayed.status == .ok)
            #expect(replayed.json["handled"] as? Int == 0)
            #expect(replayed.json["ignored"] as? Int == 1)

            // Our answer comes back: once marked with receivedFrom, once only by its id.
            let marked: FakeJSON = [
                "id": "echo-1", "type": "agent", "text": .string(answer.text ?? ""), "visitorId": "v-4", "agentId": "agent-7", "receivedFrom": "replyflow",
            ]
            let byID: FakeJSON = ["id": .string(answerID), "type": "agent", "text": .string(answer.text ?? ""), "visitorId": "v-4", "agentId": "agent-7"]
            let echoes = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-4", messages: [marked, byID]))
            #expect(echoes.json["ignored"] as? Int == 2)

            // Staff writing in Brevo's own inbox: stored and shown, not answered.
            let staff: FakeJSON = ["id": "staff-1", "type": "agent", "text": "I will check", "visitorId": "v-4", "agentId": "agent-2"]
            let stored = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-4", messages: [staff]))
            #expect(stored.json["handled"] as? Int == 1)

            await app.waitForDeliveries()
            #expect(ports.instagramChats.calls.count == 1)
            #expect(ports.assistant.questions.count == 1)
            let chat = try #require(try await ports.chats(client, source: "instagram").first)
            let contents = try await ports.messages(client, chatID: try #require(chat["id"] as? String)).map { $0["content"] as? String }
            #expect(contents == ["hi", answer.text, "I will check"])
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func badWebhooksGetClearErrors() async throws {
        let ports = TestPorts()
        try await ports.withServer { _, client in
            let event = FakeBrevoServer.webhookEvent(visitorID: "v-5", messages: [FakeBrevoServer.visitorMessage(id: "b-1", visitorID: "v-5", text: "x")])
            let wrong = try await ports.postWebhook(client, event, secret: "not-the-secret-at-all")
            #expect(wrong.status == .forbidden)
            #expect(wrong.json["success"] as? Bool == false)
            let noSecret = try await client.execute(
                uri: "/webhooks/brevo", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: event.jsonString))
            #expect(noSecret.status == .forbidden)
            let bearer = try await client.execute(
                uri: "/webhooks/brevo", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(TestPorts.webhookSecret)"], body: ByteBuffer(string: event.jsonString))
            #expect(bearer.status == .ok)

            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/webhooks/brevo/\(TestPorts.webhookSecret)", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }
            let cases: [(String, String)] = [
                ("{not json", "not a Brevo Conversations webhook event"),
                (#"{"messages": []}"#, "eventName is missing"),
                (#"{"eventName": "conversationFragment"}"#, "has no message"),
                (#"{"eventName": "conversationFragment", "messages": [{"type": "visitor", "text": "x", "visitorId": "v"}]}"#, "has no id"),
                (#"{"eventName": "conversationFragment", "messages": [{"id": "z", "type": "visitor", "text": "x"}]}"#, "has no visitorId"),
                (#"{"eventName": "conversationFragment", "messages": [{"id": "z", "type": "visitor", "text": 5, "visitorId": "v"}]}"#, "text"),
            ]
            for (body, error) in cases {
                let response = try await post(body)
                #expect(response.status == .badRequest, "\(body)")
                #expect((response.json["error"] as? String)?.contains(error) == true, "\(body): \(response.json)")
            }
            let other = try await post(#"{"eventName": "conversationTranscript", "messages": []}"#)
            #expect(other.status == .ok)
            #expect(other.json["handled"] as? Int == 0)
            let huge = try await post(#"{"eventName": "conversationFragment", "pad": ""# + String(repeating: "x", count: 1_100_000) + #""}"#)
            #expect(huge.status == .contentTooLarge)
        }
        #expect(ports.violations.isEmpty)

        let closed = try ServerHarness()
        defer { closed.remove() }
        try await closed.build().application.test(.router) { client in
            let response = try await client.execute(uri: "/webhooks/brevo/anything-at-all-here", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .forbidden)
            #expect((response.json["error"] as? String)?.contains("BREVO_WEBHOOK_SECRET") == true)
        }
    }

    @Test func aBrevoOutageIsRetriedFromTheOutbox() async throws {
        let ports = TestPorts()
        // Brevo's 500, then its 429 with Retry-After, as the Brevo client classifies them.
        ports.instagramChats.failNext(
            1, with: DeliveryError(.retry(after: nil), "Brevo conversations/messages: HTTP 500: Internal server error", httpStatus: 500))
        ports.instagramChats.failNext(
            1, with: DeliveryError(.retry(after: .seconds(1)), "Brevo conversations/messages: HTTP 429: Too many requests", httpStatus: 429))
        try await ports.withServer { app, client in
            _ = try await ports.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-7",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "o-1", visitorID: "v-7", text: "anyone?")
                    ]))
            await app.waitForDeliveries()
        }
        let attempts = ports.instagramChats.calls
        #expect(attempts.map { $0.failure?.httpStatus ?? 200 } == [500, 429, 200])
        #expect(Set(attempts.compactMap(\.text)).count == 1)
        #expect(attempts.allSatisfy { $0.chatID == "v-7" })
        #expect(ports.violations.isEmpty)
    }
}

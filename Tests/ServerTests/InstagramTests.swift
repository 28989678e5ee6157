import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// Instagram DMs through Brevo Conversations, answered by the assistant, against fake
/// Brevo, OpenAI and Telegram on loopback: the requests the Brevo and OpenAI adapters make,
/// the assistant's memory, vision, voice, timeouts and retries, and staff answering from
/// the Telegram group. The webhook's own behaviour (replays, echoes, bad bodies), the
/// hand-off to staff and Brevo outages are tested on the router with recording fakes
/// (`InstagramWebhookTests`); how the Brevo client classifies failures, in `ChannelsTests`.
@Suite("Instagram through Brevo", .serialized, .machineShare)
struct InstagramTests {
    func chats(_ client: some TestClientProtocol, _ fakes: ChannelFakes) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/chats?source=instagram", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]] ?? []
    }

    func messages(_ client: some TestClientProtocol, _ fakes: ChannelFakes, chatID: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/chats/\(chatID)/messages", method: .get, headers: fakes.authorized).json["messages"] as? [[String: Any]] ?? []
    }

    @Test func autoModeOnTheAssistantAnswersWithTheChatsMemory() async throws {
        try await ChannelFakes.withServer { fakes, client in
            let first = FakeBrevoServer.visitorMessage(id: "in-1", visitorID: "visitor-1", text: "Hello, is the shop open?")
            let started = try await fakes.postWebhook(
                client, FakeBrevoServer.webhookEvent(name: "conversationStarted", visitorID: "visitor-1", visitorName: "Olga", messages: [first]))
            #expect(started.status == .ok)
            #expect(started.json["handled"] as? Int == 1)

            let sent = try #require(try await fakes.brevoMessages(atLeast: 1).first)
            #expect(sent.status == 200)
            #expect(sent.visitorID == "visitor-1")
            #expect(sent.agentID == "agent-7")
            #expect(sent.receivedFrom == "replyflow")
            #expect(sent.text == "Answer to \"Hello, is the shop open?\" [turn 1]")

            let asked = try #require(await fakes.openAI.requests().first)
            #expect(asked.endpoint == "responses")
            #expect(asked.authorization == "Bearer \(fakes.openAI.apiKey)")
            #expect(asked.model == "gpt-test")
            #expect(asked.previousResponseID == nil)
            #expect(asked.body?["instructions"]?.stringValue?.isEmpty == false)
            #expect(asked.body?["input"]?[0]?["content"]?[0]?["text"]?.stringValue == "Hello, is the shop open?")

            let second = FakeBrevoServer.visitorMessage(id: "in-2", visitorID: "visitor-1", text: "And tomorrow?")
            _ = try await fakes.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "visitor-1", visitorName: "Olga", messages: [second]))
            let answers = try await fakes.brevoMessages(atLeast: 2)
            #expect(answers[1].text == "Answer to \"And tomorrow?\" [turn 2]")
            let requests = await fakes.openAI.requests()
            #expect(requests[1].previousResponseID == "resp_fake1")

            let chat = try #require(try await chats(client, fakes).first)
            #expect(chat["platformChatId"] as? String == "visitor-1")
            #expect(chat["name"] as? String == "Olga")
            #expect(chat["autoMode"] as? Bool == true)
            let stored = try await messages(client, fakes, chatID: try #require(chat["id"] as? String))
            #expect(
                stored.map { $0["content"] as? String } == [
                    "Hello, is the shop open?", "Answer to \"Hello, is the shop open?\" [turn 1]", "And tomorrow?", "Answer to \"And tomorrow?\" [turn 2]",
                ])
            #expect(stored.map { $0["isIncoming"] as? Bool } == [true, false, true, false])
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func memorySurvivesARestartAndAnExpiredMemoryStartsAfresh() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let fakes = ChannelFakes()
        try await fakes.start(into: &harness)
        try await harness.build().application.test(.live) { client in
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-9",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "m-1", visitorID: "v-9", text: "one")
                    ]))
            _ = try await fakes.brevoMessages(atLeast: 1)
        }
        // A new server on the same database remembers the chat's response id.
        try await harness.build().application.test(.live) { client in
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-9",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "m-2", visitorID: "v-9", text: "two")
                    ]))
            #expect(try await fakes.brevoMessages(atLeast: 2)[1].text == "Answer to \"two\" [turn 2]")

            await fakes.openAI.forgetResponses()
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-9",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "m-3", visitorID: "v-9", text: "three")
                    ]))
            #expect(try await fakes.brevoMessages(atLeast: 3)[2].text == "Answer to \"three\" [turn 1]")
            let requests = await fakes.openAI.requests()
            #expect(requests.last?.previousResponseID == nil)
            #expect(requests.dropLast().last?.status == 400)
        }
        await fakes.stop()
    }

    @Test func quickMessagesOfOneChatAreAnsweredInOrderEachWithTheMemoryBefore() async throws {
        try await ChannelFakes.withServer { fakes, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...3 {
                    group.addTask {
                        try await fakes.postWebhookAlongside(
                            client,
                            FakeBrevoServer.webhookEvent(
                                visitorID: "v-q",
                                messages: [
                                    FakeBrevoServer.visitorMessage(id: "q-\(index)", visitorID: "v-q", text: "message \(index)")
                                ]))
                    }
                }
                try await group.waitForAll()
            }
            let turns = try await fakes.brevoMessages(atLeast: 3).compactMap(\.text).map { $0.suffix(8) }
            #expect(Set(turns) == ["[turn 1]", "[turn 2]", "[turn 3]"])
            let previous = await fakes.openAI.requests().map(\.previousResponseID)
            #expect(previous == [nil, "resp_fake1", "resp_fake2"])
        }
    }

    @Test func aPhotoGoesToTheVisionModelAndAVoiceNoteIsTranscribed() async throws {
        try await ChannelFakes.withServer { fakes, client in
            let photoURL = try await fakes.brevo.addFile(name: "photo.png", data: Data(tinyPNG), contentType: "image/png")
            let photo = FakeBrevoServer.visitorMessage(
                id: "p-1", visitorID: "v-2", text: "What is this?",
                files: [
                    ["fileName": "photo.png", "url": .string(photoURL), "isImage": true, "size": .int(Int64(tinyPNG.count))]
                ])
            _ = try await fakes.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-2", messages: [photo]))
            #expect(try await fakes.brevoMessages(atLeast: 1)[0].text == "Answer to \"What is this?\" (1 image) [turn 1]")
            let vision = try #require(await fakes.openAI.requests().first)
            #expect(vision.model == "gpt-test-vision")
            let image = vision.body?["input"]?[0]?["content"]?[1]
            #expect(image?["type"]?.stringValue == "input_image")
            #expect(image?["image_url"]?.stringValue == "data:image/png;base64,\(Data(tinyPNG).base64EncodedString())")

            let voiceURL = try await fakes.brevo.addFile(name: "voice.ogg", data: Data("Where is my parcel?".utf8), contentType: "audio/ogg")
            let voice = FakeBrevoServer.visitorMessage(
                id: "p-2", visitorID: "v-2", text: "",
                files: [
                    ["fileName": "voice.ogg", "url": .string(voiceURL), "isImage": false]
                ])
            _ = try await fakes.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-2", messages: [voice]))
            #expect(try await fakes.brevoMessages(atLeast: 2)[1].text == "Answer to \"Where is my parcel?\" [turn 2]")
            let transcription = try #require(await fakes.openAI.requests().first { $0.endpoint == "audio/transcriptions" })
            #expect(transcription.fields["model"] == "whisper-1")
            #expect(transcription.files["file"]?.filename == "voice.ogg")
            #expect(transcription.files["file"]?.contentType == "audio/ogg")
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func theAIsRateLimitIsWaitedOutAndAnOutageIsRetriedBeforeTheChatGoesToStaff() async throws {
        try await ChannelFakes.withServer { fakes, client in
            // A 429 with Retry-After is waited out, then answered.
            await fakes.openAI.failNext([.rateLimited(retryAfter: 1)])
            let started = ContinuousClock.now
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-3",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "f-1", visitorID: "v-3", text: "first")
                    ]))
            #expect(ContinuousClock.now - started >= .seconds(1))
            #expect(try await fakes.brevoMessages(atLeast: 1)[0].text == "Answer to \"first\" [turn 1]")

            // An outage outlasts the retries: auto mode goes off and staff get the message.
            await fakes.openAI.setOutage(.serverError)
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-3",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "f-2", visitorID: "v-3", text: "second, during the outage")
                    ]))
            let forward = try #require(try await fakes.telegram.waitForRequests(1, method: "sendMessage").first)
            #expect(forward.int("chat_id") == ChannelFakes.group)
            #expect(forward.plainText?.contains("second, during the outage") == true)
            #expect(await fakes.openAI.requests().filter { $0.status == 500 }.count == 2)
            #expect(try await chats(client, fakes).first?["autoMode"] as? Bool == false)
            #expect(await fakes.brevo.messages().count == 1)
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func withAutoModeOffStaffAnswerFromTheGroupByReplying() async throws {
        try await ChannelFakes.withServer(configure: { configuration in configuration.autoModeDefault = false }) { fakes, client in
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-8", visitorName: "Olga",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "s-1", visitorID: "v-8", text: "Can a person help me?")
                    ]))
            let forward = try #require(try await fakes.telegram.waitForRequests(1, method: "sendMessage").first)
            #expect(forward.int("chat_id") == ChannelFakes.group)
            #expect(forward.plainText?.contains("Olga (ID: v-8) · Instagram") == true)
            #expect(await fakes.openAI.requests().isEmpty)

            let groupMessageID = try #require(forward.result?["message_id"]?.intValue)
            try await fakes.telegram.staffReply(to: groupMessageID, text: "Hello Olga, I am here")
            let sent = try #require(try await fakes.brevoMessages(atLeast: 1).first)
            #expect(sent.visitorID == "v-8")
            #expect(sent.text == "Hello Olga, I am here")

            let chat = try #require(try await chats(client, fakes).first)
            #expect(chat["autoMode"] as? Bool == false)
            let stored = try await messages(client, fakes, chatID: try #require(chat["id"] as? String))
            #expect(stored.map { $0["content"] as? String } == ["Can a person help me?", "Hello Olga, I am here"])
            #expect(stored.map { $0["isIncoming"] as? Bool } == [true, false])
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func aStaffPhotoForInstagramIsNotLostSilently() async throws {
        try await ChannelFakes.withServer(configure: { configuration in configuration.autoModeDefault = false }) { fakes, client in
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-9", visitorName: "Olga",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "p-1", visitorID: "v-9", text: "What does it look like?")
                    ]))
            let forward = try #require(try await fakes.telegram.waitForRequests(1, method: "sendMessage").first)
            let groupMessageID = try #require(forward.result?["message_id"]?.intValue)

            // Brevo's API takes text: the caption goes, and staff are told under their
            // message that the photo did not.
            let withCaption = try await fakes.telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG, caption: "Like this")
            let sent = try #require(try await fakes.brevoMessages(atLeast: 1).first)
            #expect(sent.text == "Like this")
            let firstNotice = try await waitFor {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == ChannelFakes.group && $0.sequence != forward.sequence }
            }
            #expect(firstNotice.plainText?.contains("Only the text was sent") == true)
            #expect(firstNotice.json("reply_parameters")?["message_id"]?.intValue == withCaption["message"]?["message_id"]?.intValue)

            // A photo alone: nothing goes to Brevo, and the notice says so.
            try await fakes.telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG)
            let secondNotice = try await waitFor {
                let notices = await fakes.telegram.requests(method: "sendMessage").filter { $0.plainText?.hasPrefix("Not sent") == true }
                return notices.first
            }
            #expect(secondNotice.int("chat_id") == ChannelFakes.group)
            #expect(await fakes.brevo.messages().count == 1)

            let chat = try #require(try await chats(client, fakes).first)
            let stored = try await messages(client, fakes, chatID: try #require(chat["id"] as? String))
            #expect(stored.map { $0["type"] as? String } == ["text", "photo", "photo"])
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func anAIThatDoesNotAnswerInTimeIsAskedAgain() async throws {
        try await ChannelFakes.withServer(
            configure: { configuration in configuration.openAI.timeoutSeconds = 1 }, prepare: { fakes in await fakes.openAI.failNext([.slow(seconds: 6)]) }
        ) { fakes, client in
            let started = ContinuousClock.now
            _ = try await fakes.postWebhook(
                client,
                FakeBrevoServer.webhookEvent(
                    visitorID: "v-t",
                    messages: [
                        FakeBrevoServer.visitorMessage(id: "t-1", visitorID: "v-t", text: "hello?")
                    ]))
            let waited = ContinuousClock.now - started
            // One timeout (1 s) and one backoff (1 s), then the second attempt answers at
            // once; waiting for the slow answer would take 6 s.
            #expect(waited >= .seconds(2) && waited < .seconds(5), "waited \(waited)")
            #expect(try await fakes.brevoMessages(atLeast: 1)[0].text == "Answer to \"hello?\" [turn 1]")
            let asked = try await waitFor {
                let all = await fakes.openAI.requests(); return all.count >= 2 ? all : nil
            }
            #expect(asked.map(\.endpoint) == ["responses", "responses"])
        }
    }

    @Test func chatCompletionsModeSendsTheChatsHistory() async throws {
        try await ChannelFakes.withServer(configure: { configuration in configuration.openAI.mode = .chatCompletions }) { fakes, client in
            for (index, text) in ["first question", "second question"].enumerated() {
                _ = try await fakes.postWebhook(
                    client,
                    FakeBrevoServer.webhookEvent(
                        visitorID: "v-6",
                        messages: [
                            FakeBrevoServer.visitorMessage(id: "c-\(index)", visitorID: "v-6", text: text)
                        ]))
                _ = try await fakes.brevoMessages(atLeast: index + 1)
            }
            let requests = await fakes.openAI.requests()
            #expect(requests.map(\.endpoint) == ["chat/completions", "chat/completions"])
            let roles = requests[1].body?["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue }
            #expect(roles == ["system", "user", "assistant", "user"])
            #expect(requests[1].body?["messages"]?[3]?["content"]?.stringValue == "second question")
            #expect(await fakes.brevo.messages()[1].text == "Answer to \"second question\" [turn 2]")
        }
    }

    @Test func inChatCompletionsModeAMessageWaitingForTheOneBeforeIsSentOnce() async throws {
        try await ChannelFakes.withServer(
            configure: { configuration in configuration.openAI.mode = .chatCompletions },
            prepare: { fakes in
                await fakes.openAI.slowAnswers(containing: "first", seconds: 1)
            }
        ) { fakes, client in
            // "second" waits for the answer to "first"; meanwhile an app message commits
            // everything queued, "second" included. Its history must still end before it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, text) in ["first", "second"].enumerated() {
                    group.addTask {
                        try await fakes.postWebhookAlongside(
                            client,
                            FakeBrevoServer.webhookEvent(
                                visitorID: "v-w",
                                messages: [
                                    FakeBrevoServer.visitorMessage(id: "w-\(index)", visitorID: "v-w", text: text)
                                ]))
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                _ = try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"user_id": "app-user", "message": "meanwhile"}"#))
                try await group.waitForAll()
            }
            let second = try #require(await fakes.openAI.requests().first { $0.body?["messages"]?.arrayValue?.last?["content"]?.stringValue == "second" })
            let contents = second.body?["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue }
            #expect(contents?.dropFirst() == ["first", "Answer to \"first\" [turn 1]", "second"])
        }
    }
}

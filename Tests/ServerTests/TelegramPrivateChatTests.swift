import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// Customers writing to the bot directly (fake Telegram and fake OpenAI on loopback): the
/// assistant answers in the same chat, voice is downloaded and transcribed, photos go to
/// the vision model, and with auto mode off staff answer through the `/api`.
@Suite("Telegram private chats", .serialized, .machineShare)
struct TelegramPrivateChatTests {
    static let customer: Int64 = 555_000_111

    func privateMessage(
        from customer: Int64 = customer, text: String? = nil, voice: TelegramFakeFile? = nil, photo: TelegramFakeFile? = nil, caption: String? = nil
    ) -> FakeJSON {
        var message: [String: FakeJSON] = [
            "message_id": .int(Int64.random(in: 1...1_000_000)), "date": .int(Int64(Date().timeIntervalSince1970)),
            "chat": ["id": .int(customer), "type": "private", "first_name": "Ivan"],
            "from": ["id": .int(customer), "is_bot": false, "first_name": "Ivan", "last_name": "Petrov"],
        ]
        if let text { message["text"] = .string(text) }
        if let caption { message["caption"] = .string(caption) }
        if let voice {
            message["voice"] = ["file_id": .string(voice.fileID), "file_unique_id": .string(voice.fileUniqueID), "duration": 2, "mime_type": "audio/ogg"]
        }
        if let photo {
            message["photo"] = [["file_id": .string(photo.fileID), "file_unique_id": .string(photo.fileUniqueID), "width": 1, "height": 1]]
        }
        return ["message": .object(message)]
    }

    func repliesToCustomer(_ fakes: ChannelFakes, atLeast count: Int) async throws -> [TelegramRecordedRequest] {
        try await waitFor {
            let sent = await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == Self.customer }
            return sent.count >= count ? sent : nil
        }
    }

    @Test func theAssistantAnswersTextVoiceAndPhotosInTheChat() async throws {
        try await ChannelFakes.withServer { fakes, client in
            try await fakes.telegram.enqueueUpdate(privateMessage(text: "Do you deliver on Sundays?"))
            let first = try await repliesToCustomer(fakes, atLeast: 1)
            #expect(first[0].plainText == "Answer to \"Do you deliver on Sundays?\" [turn 1]")

            let voice = await fakes.telegram.registerFile(data: Data("Is my order shipped?".utf8), path: "voice/file_1.oga")
            try await fakes.telegram.enqueueUpdate(privateMessage(voice: voice))
            let second = try await repliesToCustomer(fakes, atLeast: 2)
            #expect(second[1].plainText == "Answer to \"Is my order shipped?\" [turn 2]")
            let transcription = try #require(await fakes.openAI.requests().first { $0.endpoint == "audio/transcriptions" })
            #expect(transcription.files["file"]?.data == Data("Is my order shipped?".utf8))
            #expect(transcription.files["file"]?.filename == "voice.ogg")

            let photo = await fakes.telegram.registerFile(data: Data(tinyPNG), path: "photos/file_2.png")
            try await fakes.telegram.enqueueUpdate(privateMessage(photo: photo, caption: "Is this the right size?"))
            let third = try await repliesToCustomer(fakes, atLeast: 3)
            #expect(third[2].plainText == "Answer to \"Is this the right size?\" (1 image) [turn 3]")
            #expect(await fakes.openAI.requests().last?.model == "gpt-test-vision")

            let chats = try await client.execute(uri: "/api/chats?source=telegram", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]]
            #expect(chats?.first?["platformChatId"] as? String == String(Self.customer))
            #expect(chats?.first?["name"] as? String == "Ivan Petrov")
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func aSlowAnswerForOneCustomerDoesNotHoldUpAnother() async throws {
        let other: Int64 = 555_000_222
        // Both messages are waiting before the server's first getUpdates: one batch.
        try await ChannelFakes.withServer(prepare: { fakes in
            await fakes.openAI.slowAnswers(containing: "first, slow", seconds: 4)
            _ = try? await fakes.telegram.enqueueUpdate(privateMessage(text: "first, slow"))
            _ = try? await fakes.telegram.enqueueUpdate(privateMessage(from: other, text: "second, quick"))
        }) { fakes, _ in
            let started = ContinuousClock.now
            let quick = try await waitFor {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == other }
            }
            #expect(ContinuousClock.now - started < .seconds(3), "the quick answer did not wait for the slow one")
            #expect(quick.plainText == "Answer to \"second, quick\" [turn 1]")
            let slow = try await waitFor(timeout: .seconds(15)) {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == Self.customer }
            }
            #expect(slow.plainText == "Answer to \"first, slow\" [turn 1]")
        }
    }

    @Test func aMessageArrivingWhileAnotherChatWaitsForTheAIIsAnsweredAtOnce() async throws {
        let other: Int64 = 555_000_333
        try await ChannelFakes.withServer(prepare: { fakes in
            await fakes.openAI.slowAnswers(containing: "slow one", seconds: 6)
        }) { fakes, _ in
            try await fakes.telegram.enqueueUpdate(privateMessage(text: "the slow one"))
            // The server has taken it (and is waiting for the AI) before the next arrives.
            _ = try await waitFor {
                await fakes.telegram.requests(method: "getUpdates").first { $0.result?.arrayValue?.isEmpty == false }
            }
            try await Task.sleep(for: .milliseconds(300))
            try await fakes.telegram.enqueueUpdate(privateMessage(from: other, text: "a quick one"))
            let quick = try await waitFor(timeout: .seconds(30)) {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == other }
            }
            #expect(quick.plainText == "Answer to \"a quick one\" [turn 1]")
            let slow = try await waitFor(timeout: .seconds(30)) {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == Self.customer }
            }
            #expect(slow.plainText == "Answer to \"the slow one\" [turn 1]")
            // Waiting for the slow chat's batch before polling again would answer it first.
            #expect(quick.sequence < slow.sequence, "polling went on while the slow chat waited")
        }
    }

    @Test func updatesLeftInTheInboxByACrashAreHandledAtTheNextStart() async throws {
        let databasePath = CapturedSetting()
        try await ChannelFakes.withServer(configure: { configuration in
            databasePath.value = configuration.databasePath
            // A previous run took this update from Telegram (which forgot it) and stopped
            // before handling it.
            let update =
                #"{"update_id": 100, "message": {"message_id": 7, "date": 1767261600, "chat": {"id": \#(Self.customer), "type": "private", "first_name": "Ivan"}, "from": {"id": \#(Self.customer), "is_bot": false, "first_name": "Ivan"}, "text": "are you there?"}}"#
            let database = try? ReplyflowDatabase(path: configuration.databasePath)
            try? database?.writer.write { db in
                try db.execute(sql: "INSERT INTO telegram_inbox (update_id, body, received_at) VALUES (100, ?, 0)", arguments: [update])
            }
        }) { fakes, _ in
            let answer = try await repliesToCustomer(fakes, atLeast: 1)[0]
            #expect(answer.plainText == "Answer to \"are you there?\" [turn 1]")
            // Polling resumes after it (the answer can come before the first poll: the
            // inbox's leftovers are handled at start), and the handled update leaves the inbox.
            let polls = try await waitFor {
                let polls = await fakes.telegram.requests(method: "getUpdates")
                return polls.isEmpty ? nil : polls
            }
            #expect(polls.first?.int("offset") == 101)
            let inbox = SQLiteTelegramInbox(database: try ReplyflowDatabase(path: databasePath.value))
            _ = try await waitFor { try await inbox.pending().isEmpty ? true : nil }
        }
    }

    @Test func staffAnswerFromTheGroupWithAPhotoAndTheCustomerGetsIt() async throws {
        try await ChannelFakes.withServer(configure: { configuration in configuration.autoModeDefault = false }) { fakes, client in
            try await fakes.telegram.enqueueUpdate(privateMessage(text: "Where is your shop?"))
            let forward = try await waitFor {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == ChannelFakes.group }
            }
            let groupMessageID = try #require(forward.result?["message_id"]?.intValue)
            let caption = "Here is the map <b>not bold</b> & the entrance"
            let staff = try await fakes.telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG, caption: caption)
            let staffPhotoID = try #require(staff["message"]?["photo"]?.arrayValue?.last?["file_id"]?.stringValue)

            // Sent by Telegram's file id (no second upload), the caption as the staff wrote it.
            let sent = try await waitFor {
                await fakes.telegram.requests(method: "sendPhoto").first { $0.int("chat_id") == Self.customer }
            }
            #expect(sent.string("photo") == staffPhotoID)
            #expect(sent.plainText == caption)
            #expect(await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == Self.customer }.isEmpty)

            // Stored with the photo, which is kept in uploads, and, once sent, the id of the
            // customer's copy in Telegram.
            let chats = try await client.execute(uri: "/api/chats?source=telegram", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]]
            let chatID = try #require(chats?.first?["id"] as? String)
            let answer = try await waitFor {
                let stored =
                    try await client.execute(uri: "/api/chats/\(chatID)/messages", method: .get, headers: fakes.authorized).json["messages"]
                    as? [[String: Any]]
                return stored?.last.flatMap { $0["deliveryStatus"] as? String == "sent" ? $0 : nil }
            }
            #expect(answer["platformMessageId"] as? String == sent.result?["message_id"]?.intValue.map { String($0) })
            #expect(answer["type"] as? String == "photo")
            #expect(answer["content"] as? String == caption)
            #expect(answer["isIncoming"] as? Bool == false)
            // Stored with the name Telegram gives the staff member who wrote it.
            #expect(answer["senderName"] as? String == "Sam Staff")
            let media = try #require(answer["media"] as? String)
            #expect(try await client.execute(uri: media, method: .get).status == .ok)
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func withAutoModeOffStaffSeeTheMessageAndAnswerThroughTheAPI() async throws {
        try await ChannelFakes.withServer(configure: { configuration in configuration.autoModeDefault = false }) { fakes, client in
            try await fakes.telegram.enqueueUpdate(privateMessage(text: "I need a person"))
            let forward = try await waitFor {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == ChannelFakes.group }
            }
            #expect(forward.plainText?.contains("I need a person") == true)
            #expect(await fakes.openAI.requests().isEmpty)

            let reply = try await client.execute(
                uri: "/api/messages", method: .post, headers: fakes.authorized,
                body: ByteBuffer(string: #"{"platformChatId": "\#(Self.customer)", "source": "telegram", "text": "Hello, this is Maria"}"#))
            #expect(reply.status == .created)
            #expect(try await repliesToCustomer(fakes, atLeast: 1)[0].plainText == "Hello, this is Maria")

            // Staff turn the assistant on for this chat; the next message is answered by it.
            let chats = try await client.execute(uri: "/api/chats?source=telegram", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]]
            let chatID = try #require(chats?.first?["id"] as? String)
            let patched = try await client.execute(
                uri: "/api/chats/\(chatID)/autoMode", method: .patch, headers: fakes.authorized, body: ByteBuffer(string: #"{"autoMode": true}"#))
            #expect(patched.status == .ok)
            try await fakes.telegram.enqueueUpdate(privateMessage(text: "Thanks! And prices?"))
            #expect(try await repliesToCustomer(fakes, atLeast: 2)[1].plainText == "Answer to \"Thanks! And prices?\" [turn 1]")
        }
    }
}

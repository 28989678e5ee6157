import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import TestServers
import Testing
import TestSupport

/// Nothing a Telegram customer sends is lost on the way to staff (fake Telegram on
/// loopback, whose updates bring the messages in): voice notes, stickers, locations and
/// files reach the group as a copy of the message, and what the AI cannot read goes to
/// staff without turning auto mode off. Messages carry Telegram's id as
/// `platformMessageId`. Instagram's attachments come by webhook: `InstagramAttachmentsTests`,
/// on the router.
@Suite("Customer attachments reach staff", .serialized, .machineShare)
struct CustomerAttachmentsTests {
    static let customer: Int64 = 555_000_222

    func messages(_ client: some TestClientProtocol, _ fakes: ChannelFakes, source: String) async throws -> [[String: Any]] {
        let chats = try await client.execute(uri: "/api/chats?source=\(source)", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]]
        let chatID = try #require(chats?.first?["id"] as? String)
        return try await client.execute(uri: "/api/chats/\(chatID)/messages", method: .get, headers: fakes.authorized).json["messages"] as? [[String: Any]]
            ?? []
    }

    func chat(_ client: some TestClientProtocol, _ fakes: ChannelFakes, source: String) async throws -> [String: Any]? {
        let chats = try await client.execute(uri: "/api/chats?source=\(source)", method: .get, headers: fakes.authorized).json["chats"] as? [[String: Any]]
        return chats?.first
    }

    func privateMessage(id: Int64, extra: [String: FakeJSON]) -> FakeJSON {
        var message: [String: FakeJSON] = [
            "message_id": .int(id), "date": .int(Int64(Date().timeIntervalSince1970)),
            "chat": ["id": .int(Self.customer), "type": "private", "first_name": "Ivan"],
            "from": ["id": .int(Self.customer), "is_bot": false, "first_name": "Ivan"],
        ]
        message.merge(extra) { _, new in new }
        return ["message": .object(message)]
    }

    @Test func aTelegramStickerIsCopiedToStaffWhoCanReplyToTheCopy() async throws {
        try await ChannelFakes.withServer { fakes, client in
            let sticker: FakeJSON = [
                "file_id": "sticker-file-1", "file_unique_id": "u-1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false,
            ]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 4242, extra: ["sticker": sticker]))

            let copy = try #require(try await fakes.telegram.waitForRequests(1, method: "copyMessage", timeout: .seconds(30)).first)
            #expect(copy.int("chat_id") == ChannelFakes.group)
            #expect(copy.int("from_chat_id") == Self.customer)
            #expect(copy.int("message_id") == 4242)
            let header = try #require(await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == ChannelFakes.group })
            #expect(header.plainText?.contains("ID: \(Self.customer)") == true)
            #expect(await fakes.openAI.requests().isEmpty)

            let chat = try #require(try await chat(client, fakes, source: "telegram"))
            #expect(chat["autoMode"] as? Bool == true)
            let stored = try await messages(client, fakes, source: "telegram")
            #expect(stored.first?["platformMessageId"] as? String == "4242")
            #expect(stored.first?["type"] as? String == "sticker")

            // Staff answer the copy; the answer reaches the customer's chat.
            let copyID = try #require(copy.result?["message_id"]?.intValue)
            try await fakes.telegram.staffReply(to: copyID, text: "Nice sticker! How can we help?")
            let answer = try await waitFor(timeout: .seconds(30)) {
                await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == Self.customer }
            }
            #expect(answer.plainText == "Nice sticker! How can we help?")
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func aTelegramVoiceNoteForStaffFollowsItsHeaderAsACopy() async throws {
        try await ChannelFakes.withServer(configure: { $0.autoModeDefault = false }) { fakes, client in
            let voice: FakeJSON = ["file_id": "voice-file-1", "file_unique_id": "u-2", "duration": 3, "mime_type": "audio/ogg"]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 77, extra: ["voice": voice]))
            let copy = try #require(try await fakes.telegram.waitForRequests(1, method: "copyMessage", timeout: .seconds(30)).first)
            #expect(copy.int("from_chat_id") == Self.customer)
            #expect(copy.int("message_id") == 77)
            let sent = await fakes.telegram.requests()
            let headerIndex = try #require(sent.firstIndex { $0.method == "sendMessage" && $0.int("chat_id") == ChannelFakes.group })
            let copyIndex = try #require(sent.firstIndex { $0.method == "copyMessage" })
            #expect(headerIndex < copyIndex)
            #expect(await fakes.openAI.requests().isEmpty)
            #expect(await fakes.violations().isEmpty)
        }
    }

    @Test func aTextMessageIsNotCopied() async throws {
        try await ChannelFakes.withServer(configure: { $0.autoModeDefault = false }) { fakes, client in
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 78, extra: ["text": "Just text"]))
            // A second message behind it in the group's lane: once it is sent, the first
            // forward is over.
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 79, extra: ["text": "More text"]))
            let forwards = try await fakes.telegram.waitForRequests(2, method: "sendMessage", timeout: .seconds(30))
            #expect(forwards[0].plainText?.contains("Just text") == true)
            #expect(forwards[1].plainText?.contains("More text") == true)
            #expect(await fakes.telegram.requests(method: "copyMessage").isEmpty)
            #expect(try await messages(client, fakes, source: "telegram").first?["platformMessageId"] as? String == "78")
        }
    }

    @Test func aTelegramLocationIsCopiedToStaff() async throws {
        try await ChannelFakes.withServer(configure: { $0.autoModeDefault = false }) { fakes, _ in
            let location: FakeJSON = ["latitude": .double(55.75), "longitude": .double(37.62)]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 91, extra: ["location": location]))
            let copy = try #require(try await fakes.telegram.waitForRequests(1, method: "copyMessage", timeout: .seconds(30)).first)
            #expect(copy.int("from_chat_id") == Self.customer)
            #expect(copy.int("message_id") == 91)
        }
    }

    @Test func aMessageTelegramWillNotCopyIsReportedToStaffAndTheForwardCompletes() async throws {
        try await ChannelFakes.withServer(configure: { $0.autoModeDefault = false }) { fakes, _ in
            await fakes.telegram.failNext(1, method: "copyMessage", with: .badRequest("message to copy not found"))
            let voice: FakeJSON = ["file_id": "voice-file-2", "file_unique_id": "u-3", "duration": 3]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 92, extra: ["voice": voice]))
            let sent = try await fakes.telegram.waitForRequests(2, method: "sendMessage", timeout: .seconds(30))
            #expect(sent[0].plainText?.contains("ID: \(Self.customer)") == true)
            #expect(sent[1].int("chat_id") == ChannelFakes.group)
            #expect(sent[1].plainText?.contains("could not be copied here") == true)
            #expect(sent[1].plainText?.contains("message to copy not found") == true)
            #expect(await fakes.telegram.requests(method: "copyMessage").count == 1)
        }
    }

    @Test func aCopyRetriedAfterAnOutageDoesNotRepeatTheHeader() async throws {
        try await ChannelFakes.withServer(configure: { $0.autoModeDefault = false }) { fakes, _ in
            await fakes.telegram.failNext(1, method: "copyMessage", with: .serverError)
            let sticker: FakeJSON = [
                "file_id": "sticker-file-2", "file_unique_id": "u-5", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false,
            ]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 94, extra: ["sticker": sticker]))
            let copies = try await fakes.telegram.waitForRequests(2, method: "copyMessage", timeout: .seconds(60))
            #expect(copies.map { $0.int("message_id") } == [94, 94])
            #expect(copies[1].responseStatus == 200)
            let headers = await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == ChannelFakes.group }
            #expect(headers.count == 1, "the header went out once; only the copy was tried again")
        }
    }

    @Test func aTelegramPhotoThatCannotBeFetchedGoesToStaffAsACopy() async throws {
        try await ChannelFakes.withServer { fakes, client in
            // The fake knows no such file: getFile fails, so the server cannot keep the photo.
            let photo: FakeJSON = [["file_id": "no-such-file", "file_unique_id": "u-4", "width": 1, "height": 1]]
            try await fakes.telegram.enqueueUpdate(privateMessage(id: 93, extra: ["photo": photo, "caption": "Is this the right part?"]))
            let copy = try #require(try await fakes.telegram.waitForRequests(1, method: "copyMessage", timeout: .seconds(30)).first)
            #expect(copy.int("message_id") == 93)
            let header = try #require(await fakes.telegram.requests(method: "sendMessage").first { $0.int("chat_id") == ChannelFakes.group })
            #expect(header.plainText?.contains("Is this the right part?") == true)
            #expect(await fakes.openAI.requests().isEmpty, "the AI would have answered without seeing the photo")
            #expect(try await chat(client, fakes, source: "telegram")?["autoMode"] as? Bool == true)
        }
    }
}

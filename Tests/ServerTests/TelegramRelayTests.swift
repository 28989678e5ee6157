import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// The server against a fake Telegram on loopback: how staff replies come back (Telegram's
/// updates, polled or by webhook), the requests the staff group adapter makes, and topics.
/// What reaches the group from the app, with retries and restarts, is tested on the router
/// with a recording staff group (`StaffGroupDeliveryTests`).
@Suite("Telegram relay", .serialized, .machineShare)
struct TelegramRelayTests {
    static let group: Int64 = -1_001_234_567_890
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func configured(_ harness: inout ServerHarness, telegram: FakeTelegramServer) async throws {
        let url = try await telegram.start()
        harness.configuration.botToken = telegram.token
        harness.configuration.groupChatID = Self.group
        harness.configuration.telegramAPIURL = url.absoluteString
        harness.configuration.telegramPollTimeout = 1
    }

    func history(_ client: some TestClientProtocol, _ userID: String) async throws -> [[String: Any]] {
        let response = try await client.execute(uri: "/message_history/\(userID)", method: .get)
        return response.json["messages"] as? [[String: Any]] ?? []
    }

    @Test func messageGoesToTheGroupAndTheStaffReplyComesBack() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        try await harness.build().application.test(.live) { client in
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders,
                body: json(["user_id": "42", "user_name": "Анна <VIP>", "message": "Где мой заказ? 5 < 6 & 7 > 3"]))
            #expect(sent.status == .ok)

            let forwarded = try await telegram.waitForRequests(1, method: "sendMessage")
            let request = try #require(forwarded.first)
            #expect(request.int("chat_id") == Self.group)
            #expect(request.string("parse_mode") == "HTML")
            #expect(request.plainText?.contains("Анна <VIP>") == true)
            #expect(request.plainText?.contains("ID: 42") == true)
            #expect(request.plainText?.contains("Где мой заказ? 5 < 6 & 7 > 3") == true)
            let groupMessageID = try #require(request.result?["message_id"]?.intValue)

            try await telegram.staffReply(to: groupMessageID, text: "Заказ в пути")
            let reply = try await waitFor {
                try await history(client, "42").first { $0["direction"] as? String == "support" && $0["message"] as? String == "Заказ в пути" }
            }
            #expect(reply["photo_url"] is NSNull)
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
    }

    @Test func aPhotoGoesToTheGroupAndAStaffPhotoComesBackAsAnUpload() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        try await harness.build().application.test(.live) { client in
            var one = MultipartBody()
            one.field("user_id", "8")
            one.field("message", "Одно фото")
            one.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: one.contentType], body: ByteBuffer(bytes: one.finished()))
            let photo = try #require(try await telegram.waitForRequests(1, method: "sendPhoto").first)
            #expect(photo.int("chat_id") == Self.group)
            #expect(photo.files.values.first?.data == Data(tinyPNG))
            #expect(photo.plainText?.contains("Одно фото") == true)

            let photoMessageID = try #require(photo.result?["message_id"]?.intValue)
            try await telegram.staffReply(to: photoMessageID, photo: FakeTelegramServer.sampleJPEG, caption: "Вот так")
            let reply = try await waitFor {
                try await history(client, "8").first { $0["direction"] as? String == "support" && $0["photo_url"] is String }
            }
            #expect(reply["message"] as? String == "Вот так")
            let url = try #require(reply["photo_url"] as? String)
            let served = try await client.execute(uri: url, method: .get)
            #expect(served.status == .ok)
            #expect(served.headers[.contentType] == "image/jpeg")
            #expect(Data(served.body.readableBytesView) == FakeTelegramServer.sampleJPEG)
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
    }

    @Test func aStaffPhotoTelegramFailsToGiveAtFirstIsFetchedOnARetry() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        try await harness.build().application.test(.live) { client in
            _ = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "14", "message": "Как это выглядит?"]))
            let forward = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            let groupMessageID = try #require(forward.result?["message_id"]?.intValue)

            await telegram.failNext(1, method: "getFile", with: .serverError)
            try await telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG, caption: "Вот так")
            let reply = try await waitFor {
                try await history(client, "14").first { $0["direction"] as? String == "support" && $0["message"] as? String == "Вот так" }
            }
            #expect(reply["photo_url"] is String)
            #expect(await telegram.requests(method: "getFile").count == 2)
            #expect(await telegram.requests(method: "sendMessage").count == 1, "no notice to staff")
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
    }

    @Test("a staff photo that cannot be fetched: the app gets the caption alone, or nothing, and staff are told under their message")
    func aStaffPhotoThatCannotBeFetchedIsReportedToStaff() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        try await harness.build().application.test(.live) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "15", "message": "Пришлите фото"]))
            let forward = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            let groupMessageID = try #require(forward.result?["message_id"]?.intValue)

            // Telegram keeps failing: retried, then the caption goes alone.
            await telegram.failNext(3, method: "getFile", with: .serverError)
            let withCaption = try await telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG, caption: "Вот так")
            let firstNotice = try await waitFor { await telegram.requests(method: "sendMessage").dropFirst().first }
            #expect(firstNotice.int("chat_id") == Self.group)
            #expect(firstNotice.plainText?.hasPrefix("Only the text was sent") == true)
            #expect(firstNotice.json("reply_parameters")?["message_id"]?.intValue == withCaption["message"]?["message_id"]?.intValue)
            #expect(await telegram.requests(method: "getFile").count == 3)
            let caption = try #require(try await history(client, "15").first { $0["message"] as? String == "Вот так" })
            #expect(caption["direction"] as? String == "support")
            #expect(caption["photo_url"] is NSNull)

            // A photo alone that Telegram refuses for good: not retried, nothing reaches the
            // app (never an empty message), and staff are told.
            await telegram.failNext(1, method: "getFile", with: .badRequest("Bad Request: wrong file_id or the file is temporarily unavailable"))
            let alone = try await telegram.staffReply(to: groupMessageID, photo: FakeTelegramServer.sampleJPEG)
            let secondNotice = try await waitFor { await telegram.requests(method: "sendMessage").dropFirst(2).first }
            #expect(secondNotice.plainText?.hasPrefix("Not sent") == true)
            #expect(secondNotice.json("reply_parameters")?["message_id"]?.intValue == alone["message"]?["message_id"]?.intValue)
            #expect(await telegram.requests(method: "getFile").count == 4)
            let empty = try await history(client, "15").filter { $0["direction"] as? String == "support" && $0["message"] as? String == "" }
            #expect(empty.isEmpty)
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
    }

    @Test func aRedeliveredUpdateIsHandledOnce() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        try await harness.build().application.test(.live) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "11", "message": "Привет"]))
            let forwarded = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            let groupMessageID = try #require(forwarded.result?["message_id"]?.intValue)
            let update = try await telegram.staffReply(to: groupMessageID, text: "Один раз")
            _ = try await waitFor { try await history(client, "11").first { $0["message"] as? String == "Один раз" } }
            try await telegram.enqueueUpdate(update)  // the same update_id again
            try await Task.sleep(for: .seconds(2))
            #expect(try await history(client, "11").filter { $0["message"] as? String == "Один раз" }.count == 1)
        }
        await telegram.stop()
    }

    @Test func webhookNeedsItsSecret() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        harness.configuration.telegramWebhookURL = "https://support.example.test/webhooks/telegram"
        harness.configuration.telegramWebhookSecret = "s3cret-token_1"
        try await harness.build().application.test(.live) { client in
            let registered = try await waitFor { await telegram.webhook() }
            #expect(registered.url == "https://support.example.test/webhooks/telegram")
            #expect(registered.secretToken == "s3cret-token_1")
            #expect(try await telegram.requests(method: "getUpdates").isEmpty)

            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "12", "message": "Вебхук"]))
            let forwarded = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            let groupMessageID = try #require(forwarded.result?["message_id"]?.intValue)
            let update = try await telegram.staffReply(to: groupMessageID, text: "Через вебхук")
            let body = ByteBuffer(string: update.jsonString)

            let wrong = try await client.execute(
                uri: "/webhooks/telegram", method: .post, headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "nope"],
                body: body)
            #expect(wrong.status == .forbidden)
            let missing = try await client.execute(uri: "/webhooks/telegram", method: .post, headers: jsonHeaders, body: body)
            #expect(missing.status == .forbidden)
            let malformed = try await client.execute(
                uri: "/webhooks/telegram", method: .post,
                headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "s3cret-token_1"],
                body: ByteBuffer(string: "{\"update_id\": \"x\""))
            #expect(malformed.status == .badRequest)
            let right = try await client.execute(
                uri: "/webhooks/telegram", method: .post,
                headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "s3cret-token_1"], body: body)
            #expect(right.status == .ok)
            // Kept in the inbox before the 200, handled right after.
            _ = try await waitFor { try await history(client, "12").contains { $0["message"] as? String == "Через вебхук" } ? true : nil }
        }
        await telegram.stop()
    }

    @Test func topicsGiveEachUserAThread() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        harness.configuration.telegramTopics = true
        try await harness.build().application.test(.live) { client in
            _ = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "13", "user_name": "Олег", "message": "Первое"]))
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "13", "message": "Второе"]))
            let sends = try await telegram.waitForRequests(2, method: "sendMessage")
            let created = try await telegram.requests(method: "createForumTopic")
            #expect(created.count == 1)
            #expect(created.first?.string("name")?.contains("Олег") == true)
            let thread = try #require(created.first?.result?["message_thread_id"]?.intValue)
            #expect(sends.allSatisfy { $0.int("message_thread_id") == thread })

            try await telegram.staffMessage(inThread: thread, chatID: Self.group, text: "Ответ в теме")
            _ = try await waitFor { try await history(client, "13").first { $0["message"] as? String == "Ответ в теме" } }
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
    }
}

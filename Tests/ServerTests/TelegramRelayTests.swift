import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing

/// The server against a fake Telegram on loopback: what reaches the staff group, how
/// staff replies come back, retries, webhooks, topics, and restarts with deliveries pending.
@Suite("Telegram relay", .serialized) struct TelegramRelayTests {
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
            let sent = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "42", "user_name": "Анна <VIP>", "message": "Где мой заказ? 5 < 6 & 7 > 3"]))
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

    @Test func photosGoAsPhotoOrAlbumAndStaffPhotosComeBackAsUploads() async throws {
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

            var two = MultipartBody()
            two.field("user_id", "8")
            two.field("message", "Два фото")
            two.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            two.file("photo", filename: "b.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: two.contentType], body: ByteBuffer(bytes: two.finished()))
            let album = try #require(try await telegram.waitForRequests(1, method: "sendMediaGroup").first)
            #expect(album.json("media")?.arrayValue?.count == 2)
            #expect(album.files.count == 2)

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

    @Test func longTextIsSplitAndA429IsRetriedAfterItsRetryAfter() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        await telegram.failNext(1, method: "sendMessage", with: .tooManyRequests(retryAfter: 1))
        let built = try harness.build()
        let long = String(repeating: "Очень длинное сообщение. ", count: 400)  // 10,000 characters
        try await built.application.test(.live) { client in
            let started = ContinuousClock.now
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "9", "message": long]))
            let sent = try await telegram.waitForRequests(4, method: "sendMessage", timeout: .seconds(10))
            #expect(ContinuousClock.now - started >= .seconds(1))
            let delivered = sent.filter { !$0.injectedFailure }
            #expect(delivered.count == 3)
            let joined = delivered.compactMap(\.plainText).joined(separator: " ")
            #expect(joined.split(whereSeparator: \.isWhitespace).filter { $0 == "Очень" }.count == 400)
            #expect(await telegram.violations().isEmpty)
            await built.waitForDeliveries()
        }
        let row = try await built.database.writer.read { db in try Row.fetchOne(db, sql: "SELECT status, attempts FROM outbox WHERE kind = 'telegram.forward'") }
        #expect(row?["status"] as String? == "delivered")
        #expect(row?["attempts"] as Int? == 2)
        await telegram.stop()
    }

    @Test("a long forward whose second part fails is retried from that part: staff never get the first part twice")
    func aRetryResumesAfterThePartsAlreadySent() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        await telegram.failNext(1, method: "sendMessage", after: 1, with: .serverError)
        let built = try harness.build()
        let long = String(repeating: "Очень длинное сообщение. ", count: 400)  // 10,000 characters: 3 parts
        try await built.application.test(.live) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "19", "message": long]))
            await built.waitForDeliveries()
        }
        let sent = try await telegram.requests(method: "sendMessage")
        #expect(sent.count == 4, "3 parts and the failed attempt of the second")
        let delivered = sent.filter { !$0.injectedFailure }
        #expect(delivered.count == 3)
        let joined = delivered.compactMap(\.plainText).joined(separator: " ")
        #expect(joined.split(whereSeparator: \.isWhitespace).filter { $0 == "Очень" }.count == 400)
        #expect(delivered.first?.plainText?.contains("ID: 19") == true, "the header goes first, once")
        let row = try await built.database.writer.read { db in try Row.fetchOne(db, sql: "SELECT status, attempts, parts_sent FROM outbox WHERE kind = 'telegram.forward'") }
        #expect(row?["status"] as String? == "delivered")
        #expect(row?["attempts"] as Int? == 2)
        // The third part is not noted: the item is marked delivered right after it.
        #expect(row?["parts_sent"] as Int? == 2)
        // Every part still leads a staff reply back to the user.
        let mapped = try await built.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM group_forwards WHERE user_id = '19'") }
        #expect(mapped == 3)
        await telegram.stop()
    }

    @Test("an album whose text after it fails is not sent again on the retry")
    func aRetryDoesNotResendTheAlbum() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        await telegram.failNext(1, method: "sendMessage", with: .serverError)
        let built = try harness.build()
        let long = String(repeating: "Текст под фотографиями. ", count: 100)  // 2,400 characters: caption, then one message
        try await built.application.test(.live) { client in
            var body = MultipartBody()
            body.field("user_id", "21")
            body.field("message", long)
            body.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            body.file("photo", filename: "b.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: body.contentType], body: ByteBuffer(bytes: body.finished()))
            await built.waitForDeliveries()
        }
        let albums = try await telegram.requests(method: "sendMediaGroup")
        #expect(albums.count == 1, "the album went out once")
        let texts = try await telegram.requests(method: "sendMessage")
        #expect(texts.map(\.injectedFailure) == [true, false])
        let caption = albums.first?.json("media")?.arrayValue?.first?["caption"]?.stringValue ?? ""
        let words = (caption + " " + (texts.last?.plainText ?? "")).split(whereSeparator: \.isWhitespace)
        #expect(words.filter { $0 == "Текст" }.count == 100)
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

            let wrong = try await client.execute(uri: "/webhooks/telegram", method: .post, headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "nope"], body: body)
            #expect(wrong.status == .forbidden)
            let missing = try await client.execute(uri: "/webhooks/telegram", method: .post, headers: jsonHeaders, body: body)
            #expect(missing.status == .forbidden)
            let malformed = try await client.execute(uri: "/webhooks/telegram", method: .post, headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "s3cret-token_1"], body: ByteBuffer(string: "{\"update_id\": \"x\""))
            #expect(malformed.status == .badRequest)
            let right = try await client.execute(uri: "/webhooks/telegram", method: .post, headers: [.contentType: "application/json", .init("X-Telegram-Bot-Api-Secret-Token")!: "s3cret-token_1"], body: body)
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
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "13", "user_name": "Олег", "message": "Первое"]))
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

    @Test func aRestartDeliversWhatWasPending() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        try await configured(&harness, telegram: telegram)
        await telegram.failNext(3, method: "sendMessage", with: .serverError)
        try await harness.build().application.test(.live) { client in
            let sent = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "14", "message": "Не потеряйся"]))
            #expect(sent.status == .ok)
            _ = try await telegram.waitForRequests(1, method: "sendMessage")
        }
        // The first server is gone with its message undelivered; a new one on the same
        // database delivers it once Telegram recovers.
        await telegram.resetRecords()
        try await harness.build().application.test(.live) { _ in
            let delivered = try await waitFor(timeout: .seconds(12)) {
                try await telegram.requests(method: "sendMessage").first { !$0.injectedFailure }
            }
            #expect(delivered.plainText?.contains("Не потеряйся") == true)
        }
        await telegram.stop()
    }
}

import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import Testing
import TestSupport

/// The seed server's whole story, end to end, with fake Telegram and FCM on loopback and
/// python-socketio as the app's chat screen: register a device, join the room, write,
/// get the staff reply as a push, a `new_message` and in the history.
@Suite("Whole story", .serialized, .machineShare)
struct WholeStoryTests {
    static let group: Int64 = -1_009_876_543_210
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func makeHarness(telegram: FakeTelegramServer, fcm: FakeFCMServer) async throws -> ServerHarness {
        var harness = try ServerHarness()
        harness.configuration.botToken = telegram.token
        harness.configuration.groupChatID = Self.group
        harness.configuration.telegramAPIURL = try await telegram.start().absoluteString
        harness.configuration.telegramPollTimeout = 1
        let fcmURL = try await fcm.start()
        let accountPath = harness.directory + "/firebase-service-account.json"
        try await fcm.serviceAccountJSON().write(toFile: accountPath, atomically: true, encoding: .utf8)
        harness.configuration.fcmServiceAccountPath = accountPath
        harness.configuration.fcmAPIURL = fcmURL.absoluteString
        return harness
    }

    @Test(arguments: ["polling", "websocket", "upgrade"])
    func staffReplyReachesThePhoneTheOpenChatAndTheHistory(transport: String) async throws {
        let telegram = FakeTelegramServer()
        let fcm = FakeFCMServer()
        let harness = try await makeHarness(telegram: telegram, fcm: fcm)
        defer { harness.remove() }
        let built = try harness.build()
        try await built.application.test(.live) { client in
            let registered = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders,
                body: json(["user_id": "u1", "fcm_token": "device-token-1", "platform": "android", "device_id": "pixel"]))
            #expect(registered.json["device_count"] as? Int == 1)

            let chat = try ChatClientProcess(url: "http://127.0.0.1:\(client.port!)", userID: "u1", transport: transport)
            defer { chat.stop() }
            let ready = try await chat.line(startingWith: "READY")
            // python-socketio reports the transport in use once joined.
            #expect(ready == "READY transport=\(transport == "upgrade" ? "websocket" : transport)")

            let text = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders,
                body: json(["user_id": "u1", "user_name": "Мария", "message": "Здравствуйте, вопрос"]))
            #expect(text.status == .ok)
            var form = MultipartBody()
            form.field("user_id", "u1")
            form.field("message", "И фото")
            form.file("photo", filename: "p.png", contentType: "image/png", tinyPNG)
            let photo = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: form.contentType], body: ByteBuffer(bytes: form.finished()))
            #expect(photo.json["photo_count"] as? Int == 1)

            let forwarded = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            _ = try await telegram.waitForRequests(1, method: "sendPhoto")
            let groupMessageID = try #require(forwarded.result?["message_id"]?.intValue)
            try await telegram.staffReply(to: groupMessageID, text: "Отвечаем: всё хорошо")

            // The phone: one push with the seed's title and the reply as its body.
            let push = try #require(try await fcm.waitForMessages(1).first)
            #expect(push.token == "device-token-1")
            #expect(push.title == "Служба поддержки")
            #expect(push.text == "Отвечаем: всё хорошо")
            #expect(await fcm.violations().isEmpty)

            // The open chat: new_message with the history item and user_id.
            let live = try await chat.newMessage()
            #expect(live["message"] as? String == "Отвечаем: всё хорошо")
            #expect(live["direction"] as? String == "support")
            #expect(live["user_id"] as? String == "u1")
            #expect(live.keys.contains("photo_url"))
            #expect((live["created_at"] as? String)?.count == 19)

            // The history: both user messages and the reply, oldest first.
            let history = try await client.execute(uri: "/message_history/u1", method: .get)
            let messages = (history.json["messages"] as? [[String: Any]] ?? []).filter { ($0["message"] as? String)?.hasPrefix("Здравствуйте!") == false }
            let texts = messages.compactMap { $0["message"] as? String }
            #expect(Array(texts.suffix(3)) == ["Здравствуйте, вопрос", "И фото", "Отвечаем: всё хорошо"])
            #expect(await telegram.violations().isEmpty)
        }
        await telegram.stop()
        await fcm.stop()
    }

    @Test func anUnregisteredTokenIsRemovedAndABusyFCMIsRetried() async throws {
        let telegram = FakeTelegramServer()
        let fcm = FakeFCMServer()
        let harness = try await makeHarness(telegram: telegram, fcm: fcm)
        defer { harness.remove() }
        await fcm.setOutcome(.unregistered, forToken: "old-token")
        await fcm.setOutcome(.quotaExceeded(retryAfter: 1), forToken: "new-token", times: 1)
        let built = try harness.build()
        try await built.application.test(.live) { client in
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "old-token", "device_id": "a"]))
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "new-token", "device_id": "b"]))
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "message": "?"]))
            let forwarded = try #require(try await telegram.waitForRequests(1, method: "sendMessage").first)
            try await telegram.staffReply(to: try #require(forwarded.result?["message_id"]?.intValue), text: "!")

            let delivered = try await waitFor(timeout: .seconds(10)) {
                await fcm.deliveredMessages().first { $0.token == "new-token" }
            }
            #expect(delivered.text == "!")
            let devices = try await client.execute(uri: "/check_device/u2", method: .get)
            #expect(devices.json["device_count"] as? Int == 1)
            // One access token served every send.
            #expect(await fcm.tokenRequests().count == 1)
        }
        await telegram.stop()
        await fcm.stop()
    }
}

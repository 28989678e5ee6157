import AsyncHTTPClient
import Foundation
import NIOCore
import TestServers
import Testing
import TestSupport

/// The fake must reject what Telegram would reject, or tests built on it prove nothing.
@Suite("FakeTelegramServer validation", .timeLimit(.minutes(5)), .machineShare)
struct FakeTelegramServerTests {
    /// Posts a raw JSON body and returns (status, envelope).
    func post(_ base: URL, token: String, method: String, _ body: FakeJSON) async throws -> (Int, FakeJSON) {
        var request = HTTPClientRequest(url: "\(base.absoluteString)/bot\(token)/\(method)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonString))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try FakeJSON.parse(Data(bytes.readableBytesView)))
    }

    @Test func rejectsWhatTelegramRejects() async throws {
        let fake = FakeTelegramServer()
        let base = try await fake.start()
        let token = fake.token

        func expectRejected(
            _ method: String, _ body: FakeJSON, _ fragment: String, status: Int = 400,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let (code, envelope) = try await post(base, token: token, method: method, body)
            #expect(code == status, sourceLocation: sourceLocation)
            #expect(envelope["ok"] == false, sourceLocation: sourceLocation)
            #expect(envelope["error_code"]?.intValue == Int64(status), sourceLocation: sourceLocation)
            let description = envelope["description"]?.stringValue ?? ""
            #expect(description.contains(fragment), "\(description)", sourceLocation: sourceLocation)
        }

        // Length is counted after entity parsing: 4096 "&lt;" is 4096 characters, one more is too long.
        let (ok, envelope) = try await post(
            base, token: token, method: "sendMessage",
            [
                "chat_id": 1, "text": .string(String(repeating: "&lt;", count: 4096)), "parse_mode": "HTML",
            ])
        #expect(ok == 200)
        #expect(envelope["result"]?["text"]?.stringValue?.count == 4096)
        try await expectRejected(
            "sendMessage",
            [
                "chat_id": 1, "text": .string(String(repeating: "&lt;", count: 4097)), "parse_mode": "HTML",
            ], "message is too long")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": .string(String(repeating: "😀", count: 2049))], "too long")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "   "], "message text is empty")
        try await expectRejected("sendMessage", ["text": "hi"], "chat_id is empty")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": 5], "must be a string")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "<div>x</div>", "parse_mode": "HTML"], "Unsupported start tag \"div\"")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "<b>x</i>", "parse_mode": "HTML"], "can't parse entities")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "<b>x", "parse_mode": "HTML"], "Can't find end tag")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "a &nbsp; b", "parse_mode": "HTML"], "Unsupported HTML entity")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "x", "parse_mode": "Fancy"], "unsupported parse_mode")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "x", "message_thread_id": 99], "message thread not found")
        try await expectRejected("sendMessage", ["chat_id": 1, "text": "x", "reply_parameters": ["message_id": 424242]], "message to be replied not found")
        try await expectRejected(
            "sendMediaGroup",
            [
                "chat_id": -100, "media": [["type": "photo", "media": "attach://a"]],
            ], "2-10 items")
        try await expectRejected(
            "sendMediaGroup",
            [
                "chat_id": -100, "media": [["type": "photo", "media": "attach://a"], ["type": "photo", "media": "attach://b"]],
            ], "does not name an uploaded part")
        try await expectRejected(
            "sendMediaGroup",
            [
                "chat_id": -100, "media": [["type": "sticker", "media": "x"], ["type": "photo", "media": "y"]],
            ], "type must be")
        try await expectRejected("sendPhoto", ["chat_id": 1, "photo": "no-such-file-id"], "wrong file identifier")
        try await expectRejected(
            "sendPhoto",
            [
                "chat_id": 1, "photo": "https://example.com/a.jpg", "caption": .string(String(repeating: "c", count: 1025)),
            ], "caption is too long")
        try await expectRejected("createForumTopic", ["chat_id": 5, "name": "t"], "not a forum")
        try await expectRejected("createForumTopic", ["chat_id": -100, "name": .string(String(repeating: "n", count: 129))], "TOPIC_TITLE_INVALID")
        try await expectRejected("getUpdates", ["limit": 0], "limit")
        try await expectRejected("sendSticker", ["chat_id": 1], "Not Found", status: 404)
        let violationsBeforeWrongToken = await fake.violations().count
        let (wrongTokenStatus, _) = try await post(base, token: "1:nope", method: "getMe", [:])
        #expect(wrongTokenStatus == 401)
        #expect(await fake.violations().count == violationsBeforeWrongToken + 1)

        // Accepted, but a misspelt parameter is still reported.
        let (typoStatus, _) = try await post(base, token: token, method: "sendMessage", ["chat_id": 1, "text": "x", "parse_mod": "HTML"])
        #expect(typoStatus == 200)
        #expect(await fake.violations().last?.contains("unknown parameter \"parse_mod\"") == true)

        // Every rejection above is on the violation list, with its method.
        let violations = await fake.violations()
        #expect(violations.count == 23)
        #expect(violations.first?.hasPrefix("sendMessage: Bad Request: message is too long") == true)
        await fake.stop()
    }
}

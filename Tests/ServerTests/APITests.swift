import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server
import TestSupport

/// The messenger-autoreply seed's `/api` over the app's conversations.
@Suite("API", .machineShare)
struct APITests {
    let key = "test-key-123"
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]
    var authorized: HTTPFields { [.contentType: "application/json", .init("X-API-Key")!: key] }

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func harness() throws -> ServerHarness {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        harness.configuration.autoModeDefault = true
        return harness
    }

    @Test func everyRouteNeedsTheKey() async throws {
        let harness = try harness()
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            for (uri, method) in [
                ("/api/chats", HTTPRequest.Method.get), ("/api/chats/1/messages", .get), ("/api/chats/1/autoMode", .patch), ("/api/messages", .post),
            ] {
                let missing = try await client.execute(uri: uri, method: method)
                #expect(missing.status == .unauthorized, "\(method) \(uri)")
                #expect(missing.json["error"] as? String == "missing or wrong X-API-Key")
                let wrong = try await client.execute(uri: uri, method: method, headers: [.init("X-API-Key")!: "test-key-124"])
                #expect(wrong.status == .unauthorized)
            }
        }
        var off = try ServerHarness()
        defer { off.remove() }
        off.configuration.apiKey = nil
        try await off.build().application.test(.router) { client in
            let response = try await client.execute(uri: "/api/chats", method: .get, headers: [.init("X-API-Key")!: ""])
            #expect(response.status == .unauthorized)
            #expect((response.json["error"] as? String)?.contains("API_KEY") == true)
        }
    }

    @Test func chatsNewestFirstWithPagingAndMessagesOldestFirst() async throws {
        let harness = try harness()
        defer { harness.remove() }
        let clock = TestClock()
        let ports = TestPorts()
        let app = try harness.build(ports: ports, clock: clock.function)
        try await app.application.test(.router) { client in
            for (user, text) in [("a", "first from a"), ("b", "first from b"), ("a", "second from a")] {
                clock.advance(10)
                _ = try await client.execute(
                    uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": user, "user_name": "User \(user)", "message": text]))
            }
            let list = try await client.execute(uri: "/api/chats", method: .get, headers: authorized)
            #expect(list.status == .ok)
            let chats = list.json["chats"] as? [[String: Any]] ?? []
            #expect(chats.compactMap { $0["platformChatId"] as? String } == ["a", "b"])
            let first = try #require(chats.first)
            #expect(first["source"] as? String == "app")
            #expect(first["name"] as? String == "User a")
            #expect(first["autoMode"] as? Bool == true)
            #expect(first["updated"] as? String == "2026-01-01 10:00:30.000Z")
            #expect(first["id"] is String)

            let second = try await client.execute(uri: "/api/chats?perPage=1&page=2", method: .get, headers: authorized)
            #expect((second.json["chats"] as? [[String: Any]])?.compactMap { $0["platformChatId"] as? String } == ["b"])
            #expect(second.json["totalItems"] as? Int == 2)
            #expect(second.json["totalPages"] as? Int == 2)
            #expect(list.json["totalPages"] as? Int == 1)
            let telegramOnly = try await client.execute(uri: "/api/chats?source=telegram", method: .get, headers: authorized)
            #expect((telegramOnly.json["chats"] as? [Any])?.isEmpty == true)

            let chatID = try #require(first["id"] as? String)
            let messages = try await client.execute(uri: "/api/chats/\(chatID)/messages", method: .get, headers: authorized)
            let records = messages.json["messages"] as? [[String: Any]] ?? []
            #expect(records.compactMap { $0["content"] as? String } == ["first from a", "second from a"])
            let record = try #require(records.first)
            #expect(record["isIncoming"] as? Bool == true)
            #expect(record["type"] as? String == "text")
            #expect(record["chatId"] as? String == chatID)
            #expect(record["senderId"] as? String == "a")
            #expect(record["senderName"] as? String == "User a")
            #expect(record["timestamp"] as? String == "2026-01-01 10:00:10.000Z")
            let newestOnly = try await client.execute(uri: "/api/chats/\(chatID)/messages?perPage=1", method: .get, headers: authorized)
            #expect((newestOnly.json["messages"] as? [[String: Any]])?.compactMap { $0["content"] as? String } == ["second from a"])

            // Staff got the three messages, in the order they came.
            await app.waitForDeliveries()
            let forwarded = ports.staffGroup.messages.compactMap(\.plainText)
            #expect(forwarded.count == 3)
            for (forward, text) in zip(forwarded, ["first from a", "first from b", "second from a"]) {
                #expect(forward.contains(text), "\(forward)")
            }
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func autoModeIsSetAndShown() async throws {
        let harness = try harness()
        defer { harness.remove() }
        let built = try harness.build()
        try await built.application.test(.router) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "m", "message": "hi"]))
            let chatID = try #require(
                ((try await client.execute(uri: "/api/chats", method: .get, headers: authorized)).json["chats"] as? [[String: Any]])?.first?["id"] as? String)
            let patched = try await client.execute(uri: "/api/chats/\(chatID)/autoMode", method: .patch, headers: authorized, body: json(["autoMode": false]))
            #expect(patched.status == .ok)
            #expect(patched.json["autoMode"] as? Bool == false)
            let listed = try await client.execute(uri: "/api/chats", method: .get, headers: authorized)
            #expect((listed.json["chats"] as? [[String: Any]])?.first?["autoMode"] as? Bool == false)
            let stored = try await built.database.writer.read { db in
                try Bool.fetchOne(db, sql: "SELECT auto_mode FROM chats WHERE source = 'app' AND user_id = 'm'")
            }
            #expect(stored == false)

            let notBool = try await client.execute(uri: "/api/chats/\(chatID)/autoMode", method: .patch, headers: authorized, body: json(["autoMode": "off"]))
            #expect(notBool.status == .badRequest)
            let unknown = try await client.execute(uri: "/api/chats/999999/autoMode", method: .patch, headers: authorized, body: json(["autoMode": true]))
            #expect(unknown.status == .notFound)
        }
    }

    @Test func sendingToAnAppChatStoresItAsSupport() async throws {
        let harness = try harness()
        defer { harness.remove() }
        let built = try harness.build()
        try await built.application.test(.router) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "s1", "message": "вопрос"]))
            let sent = try await client.execute(
                uri: "/api/messages", method: .post, headers: authorized,
                body: json(["platformChatId": "s1", "source": "app", "text": "ответ из API", "senderName": "Бот"]))
            #expect(sent.status == .created)
            #expect(sent.json["content"] as? String == "ответ из API")
            #expect(sent.json["isIncoming"] as? Bool == false)
            #expect(sent.json["responseMode"] as? String == "manual")
            let history = try await client.execute(uri: "/message_history/s1", method: .get)
            let texts = (history.json["messages"] as? [[String: Any]] ?? []).filter { $0["direction"] as? String == "support" }.compactMap {
                $0["message"] as? String
            }
            #expect(texts.contains("ответ из API"))

            func expectError(_ body: [String: Any], _ status: HTTPResponse.Status, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation)
                async throws
            {
                let response = try await client.execute(uri: "/api/messages", method: .post, headers: authorized, body: json(body))
                #expect(response.status == status, sourceLocation: sourceLocation)
                #expect((response.json["error"] as? String)?.contains(fragment) == true, "\(response.json)", sourceLocation: sourceLocation)
            }
            try await expectError(["platformChatId": "s1", "source": "fax", "text": "x"], .badRequest, "source must be one of")
            try await expectError(["platformChatId": "s1", "source": "app", "text": "  "], .badRequest, "text is required")
            try await expectError(["source": "app", "text": "x"], .badRequest, "platformChatId is required")
            try await expectError(["platformChatId": "nobody", "source": "app", "text": "x"], .notFound, "no app chat nobody")
            try await expectError(["platformChatId": "abc", "source": "telegram", "text": "x"], .badRequest, "number")
        }
    }
}

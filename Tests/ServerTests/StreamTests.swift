import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server
import TestSupport

/// `/api/stream` seen by a real SSE client (sseclient-py): updates as they happen, the
/// filters, a reconnect with `Last-Event-ID` that misses nothing, and the token for
/// `EventSource`.
@Suite("Live stream", .serialized, .machineShare)
struct StreamTests {
    let key = "stream-key"
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func send(_ client: some TestClientProtocol, _ user: String, _ text: String) async throws {
        let response = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": user, "message": text]))
        #expect(response.status == .ok)
    }

    @Test func updatesArriveAndAReconnectResumesWithoutGaps() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/api/stream?source=app"
            let first = try ChatClientProcess(script: "sse_client.py", arguments: [url, key, "2"])
            defer { first.stop() }
            _ = try await first.line(startingWith: "READY text/event-stream")
            try await send(client, "sse-1", "первое")
            let events = try await first.jsonLines(2)
            #expect(events.count == 2)
            let message = try #require(events.first)
            #expect(message["event"] as? String == "update")
            let data = try #require(message["data"] as? [String: Any])
            #expect(data["type"] as? String == "message")
            #expect((data["record"] as? [String: Any])?["content"] as? String == "первое")
            #expect((data["record"] as? [String: Any])?["isIncoming"] as? Bool == true)
            #expect((events.last?["data"] as? [String: Any])?["type"] as? String == "chat")
            let lastSeen = try #require(events.last?["id"] as? String)

            // Disconnected: two more messages happen. The reconnect gets both, in order.
            first.stop()
            try await send(client, "sse-1", "второе")
            try await send(client, "sse-2", "третье")
            let resumed = try ChatClientProcess(script: "sse_client.py", arguments: [url, key, "4", lastSeen])
            defer { resumed.stop() }
            let missed = try await resumed.jsonLines(4)
            let contents = missed.compactMap { (($0["data"] as? [String: Any])?["record"] as? [String: Any])?["content"] as? String }
            #expect(contents == ["второе", "третье"])
            let ids = missed.compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
            #expect(ids == ids.sorted() && Set(ids).count == 4)
            #expect(ids.allSatisfy { $0 > Int64(lastSeen)! })
        }
    }

    @Test func aMessageSentThroughTheAPIShowsItsSenderOnTheStream() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in
            try await send(client, "sse-sender", "нужна помощь")
            let url = "http://127.0.0.1:\(client.port!)/api/stream?source=app"
            let subscriber = try ChatClientProcess(script: "sse_client.py", arguments: [url, key, "2"])
            defer { subscriber.stop() }
            _ = try await subscriber.line(startingWith: "READY text/event-stream")
            let headers: HTTPFields = [.contentType: "application/json", .init("X-API-Key")!: key]
            let sent = try await client.execute(
                uri: "/api/messages", method: .post, headers: headers,
                body: json(["platformChatId": "sse-sender", "source": "app", "text": "Мария на связи", "senderName": "Мария"]))
            #expect(sent.status == .created)
            let events = try await subscriber.jsonLines(2)
            let record = try #require((events.first?["data"] as? [String: Any])?["record"] as? [String: Any])
            #expect(record["content"] as? String == "Мария на связи")
            #expect(record["senderName"] as? String == "Мария")
            #expect(record["responseMode"] as? String == "manual")
            #expect(record["senderName"] as? String == sent.json["senderName"] as? String)
        }
    }

    @Test func filtersAndTheEventSourceToken() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in
            try await send(client, "f-1", "один")
            let chats = try await client.execute(uri: "/api/chats", method: .get, headers: [.init("X-API-Key")!: key])
            let chatID = try #require((chats.json["chats"] as? [[String: Any]])?.first?["id"] as? String)

            let denied = try await client.execute(uri: "/api/stream?token=made-up", method: .get)
            #expect(denied.status == .unauthorized)
            let issued = try await client.execute(uri: "/api/stream/token", method: .post, headers: [.init("X-API-Key")!: key])
            let token = try #require(issued.json["token"] as? String)

            let url = "http://127.0.0.1:\(client.port!)/api/stream?chatId=\(chatID)&token=\(token)"
            let watcher = try ChatClientProcess(script: "sse_client.py", arguments: [url, "-", "2"])
            defer { watcher.stop() }
            _ = try await watcher.line(startingWith: "READY")
            try await send(client, "f-2", "чужой чат")
            try await send(client, "f-1", "свой чат")
            let events = try await watcher.jsonLines(2)
            let contents = events.compactMap { (($0["data"] as? [String: Any])?["record"] as? [String: Any])?["content"] as? String }
            #expect(contents == ["свой чат"])
            #expect(
                events.allSatisfy {
                    (($0["data"] as? [String: Any])?["record"] as? [String: Any]).map { $0["chatId"] as? String == chatID || $0["id"] as? String == chatID }
                        ?? false
                })
        }
    }
}

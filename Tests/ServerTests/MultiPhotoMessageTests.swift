import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing
import TestSupport

/// A message with several photos reaches the app whole: a history item carries one
/// `photo_url`, so each photo is an item of its own (the text on the first), in the
/// history, in socket.io's `new_message` and on the `/api`, in the order they were sent.
@Suite("Messages with several photos", .serialized, .machineShare)
struct MultiPhotoMessageTests {
    /// Three different images, so their order can be told apart (bytes after a PNG's end are read past).
    static let photos: [[UInt8]] = (1...3).map { tinyPNG + Array("photo \($0)".utf8) }

    func threePhotos(user: String, text: String) -> MultipartBody {
        var form = MultipartBody()
        form.field("user_id", user)
        form.field("message", text)
        for (index, photo) in Self.photos.enumerated() { form.file("photo", filename: "\(index).png", contentType: "image/png", photo) }
        return form
    }

    /// The bytes each address serves, in order.
    func served(_ urls: [String], _ client: some TestClientProtocol) async throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        for url in urls { result.append(Array(try await client.execute(uri: url, method: .get).body.readableBytesView)) }
        return result
    }

    @Test(arguments: ["polling", "websocket"])
    func threePhotosInAreThreeHistoryItemsThreeNewMessagesAndThreeOnTheAPI(transport: String) async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = TestPorts.apiKey
        // Flows that also show the app's own messages in its open chats (another device).
        try """
        name: Forward and show app messages
        on: app_message
        do:
          - forward_to_group: {}
          - broadcast: {}
        """.write(toFile: harness.directory + "/flows/app-message-to-staff.yaml", atomically: true, encoding: .utf8)
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.live) { client in
            let chat = try ChatClientProcess(url: "http://127.0.0.1:\(client.port!)", userID: "m1", transport: transport, count: 3)
            defer { chat.stop() }
            _ = try await chat.line(startingWith: "READY")

            let form = threePhotos(user: "m1", text: "Три фото")
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: form.contentType], body: ByteBuffer(bytes: form.finished()))
            #expect(sent.status == .ok)
            #expect(sent.json["photo_count"] as? Int == 3)

            // The open chat: three new_message events, the text on the first.
            let live = try await chat.jsonLines(3)
            #expect(live.map { $0["message"] as? String } == ["Три фото", "", ""])
            #expect(live.allSatisfy { $0["user_id"] as? String == "m1" && $0["direction"] as? String == "user" })
            let urls = live.compactMap { $0["photo_url"] as? String }
            #expect(urls.count == 3 && Set(urls).count == 3)
            #expect(urls.first == sent.json["photo_url"] as? String)
            #expect(try await served(urls, client) == Self.photos)

            // The history: the same three items.
            let history = try await client.execute(uri: "/message_history/m1", method: .get)
            let items = (history.json["messages"] as? [[String: Any]] ?? []).filter { $0["direction"] as? String == "user" }
            #expect(items.map { $0["message"] as? String } == ["Три фото", "", ""])
            #expect(items.compactMap { $0["photo_url"] as? String } == urls)
            #expect(Set(items.compactMap { $0["created_at"] as? String }).count == 1)

            // The /api: three messages, each with its photo.
            let chats = try await ports.chats(client, source: "app")
            let chatID = try #require(chats.first { $0["platformChatId"] as? String == "m1" }?["id"] as? String)
            // (The history fetch's greeting is there too, from support.)
            let messages = try await ports.messages(client, chatID: chatID).filter { $0["isIncoming"] as? Bool == true }
            #expect(messages.map { $0["content"] as? String } == ["Три фото", "", ""])
            #expect(messages.compactMap { $0["media"] as? String } == urls)
            #expect(messages.allSatisfy { $0["type"] as? String == "photo" })
            // The answer's message_id is the first of them.
            #expect((sent.json["message_id"] as? Int).map(String.init) == messages.first?["id"] as? String)

            // Staff get the three as one album, in the same order.
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.map(\.kind) == [.album])
            #expect(ports.staffGroup.messages.first?.photos.map { [UInt8]($0.data) } == Self.photos)
        }
        #expect(ports.violations.isEmpty)
    }
}

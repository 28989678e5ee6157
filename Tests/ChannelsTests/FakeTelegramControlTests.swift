import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestServers
import Testing

// The client's own multipart builder writes the forms a person would send with curl -F.
@testable import Channels
import TestSupport

/// `POST /fake/staff-reply` and `/fake/private-message`: what a person trying the server by
/// hand has the fake Telegram deliver, and the clear 4xx their mistakes get.
@Suite("FakeTelegramServer control endpoints", .timeLimit(.minutes(5)), .machineShare)
struct FakeTelegramControlTests {
    static let group: Int64 = -1_001_000_000_001

    struct Answer {
        var status: Int
        var json: FakeJSON
        var error: String { json["error"]?.stringValue ?? "" }
    }

    /// Posts `body` as `curl -d` does (labelled a form, whatever it holds) unless told otherwise.
    func post(_ base: URL, _ path: String, _ body: [UInt8], contentType: String = "application/x-www-form-urlencoded", method: HTTPMethod = .POST)
        async throws -> Answer
    {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), json: (try? FakeJSON.parse(Data(bytes.readableBytesView))) ?? .null)
    }

    func post(_ base: URL, _ path: String, _ body: String) async throws -> Answer {
        try await post(base, path, Array(body.utf8))
    }

    func post(_ base: URL, _ path: String, _ form: MultipartForm) async throws -> Answer {
        let (body, contentType) = try form.encoded()
        return try await post(base, path, Array(body.readableBytesView), contentType: contentType)
    }

    @Test func aStaffReplyAndACustomerMessageAreReturnedByGetUpdates() async throws {
        try await withTelegram { fake, client in
            let base = try #require(await fake.baseURL)
            let forward = try await client.sendMessage(chatID: Self.group, text: "Anna (app): where is my order?")

            let reply = try await post(base, "/fake/staff-reply", #"{"reply_to": \#(forward.messageID), "text": "On its way"}"#)
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["delivered_by"] == "getUpdates")
            var form = MultipartForm()
            form.field("user_id", "5550001")
            form.field("first_name", "Anna")
            form.field("caption", "My parcel")
            form.file("photo", data: FakeTelegramServer.sampleJPEG, filename: "parcel.jpg", contentType: "image/jpeg")
            let photo = try await post(base, "/fake/private-message", form)
            #expect(photo.status == 200, "\(photo.json)")

            let updates = try await client.getUpdates(offset: nil, timeout: 0)
            #expect(updates.count == 2)
            let staff = try #require(updates.first?.message)
            #expect(staff.chat.id == Self.group)
            #expect(staff.text == "On its way")
            #expect(staff.replyToMessage?.messageID == forward.messageID)
            let customer = try #require(updates.last?.message)
            #expect(customer.chat.id == 5_550_001)
            #expect(customer.chat.type == "private")
            #expect(customer.from?.firstName == "Anna")
            #expect(customer.caption == "My parcel")
            let file = try await client.getFile(fileID: try #require(customer.photo?.last?.fileID))
            #expect(try await client.downloadFile(path: try #require(file.filePath)) == FakeTelegramServer.sampleJPEG)
            #expect(await fake.violations().isEmpty)
        }
    }

    @Test func mistakesGetA4xxThatSaysWhatToSend() async throws {
        try await withTelegram { fake, client in
            let base = try #require(await fake.baseURL)
            let forward = try await client.sendMessage(chatID: Self.group, text: "a forward").messageID

            func expectRefused(
                _ path: String, _ body: String, _ status: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws {
                let answer = try await post(base, path, body)
                #expect(answer.status == status, "\(answer.json)", sourceLocation: sourceLocation)
                #expect(answer.json["ok"] == false, sourceLocation: sourceLocation)
                #expect(answer.error.contains(fragment), "\(answer.error)", sourceLocation: sourceLocation)
            }
            try await expectRefused("/fake/staff-replies", "{}", 404, "use POST /fake/staff-reply")
            try await expectRefused("/fake/staff-reply", #"{"text": "hi"}"#, 400, "reply_to is required")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": 999999, "text": "hi"}"#, 404, "the bot's latest there: \(forward)")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": "the last one", "text": "hi"}"#, 400, "reply_to must be a whole number")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": \#(forward)}"#, 400, "give text, or a photo")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": \#(forward), "text": "hi", "colour": "red"}"#, 400, #"unknown field "colour""#)
            try await expectRefused("/fake/staff-reply", #"{"reply_to": \#(forward), "photo": "cat.jpg"}"#, 400, "curl -F photo=@picture.jpg")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": \#(forward), "caption": "look"}"#, 400, "caption goes with a photo")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": \#(forward), "text": 5}"#, 400, "text must be a string")
            try await expectRefused("/fake/staff-reply", #"{"reply_to": "#, 400, "not valid JSON")
            try await expectRefused("/fake/private-message", #"{"text": "hi"}"#, 400, "user_id is required")
            try await expectRefused("/fake/private-message", #"{"user_id": -5, "text": "hi"}"#, 400, "positive number")

            var notAPhoto = MultipartForm()
            notAPhoto.field("reply_to", String(forward))
            notAPhoto.file("photo", data: Data("just words".utf8), filename: "notes.txt", contentType: "text/plain")
            let refused = try await post(base, "/fake/staff-reply", notAPhoto)
            #expect(refused.status == 400)
            #expect(refused.error.contains("not JPEG, PNG, GIF or WebP"), "\(refused.error)")

            let get = try await post(base, "/fake/staff-reply", [], method: .GET)
            #expect(get.status == 405)
            #expect(get.error.contains("use POST"))

            // With a webhook set nothing is queued: the update goes there, or the person hears
            // why not (here the fake itself answers the webhook's path with 404).
            try await client.setWebhook(url: base.absoluteString + "/webhooks/telegram", secretToken: "s3cret")
            let refusedByWebhook = try await post(base, "/fake/staff-reply", #"{"reply_to": \#(forward), "text": "hi"}"#)
            #expect(refusedByWebhook.status == 502)
            #expect(refusedByWebhook.error.contains("/webhooks/telegram answered 404"), "\(refusedByWebhook.error)")
            #expect(await fake.pendingUpdates().isEmpty)
        }
    }
}

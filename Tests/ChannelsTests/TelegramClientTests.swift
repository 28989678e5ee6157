import AsyncHTTPClient
import Channels
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TestServers
import Testing
import TestSupport

@Suite("TelegramClient against FakeTelegramServer", .timeLimit(.minutes(5)), .machineShare)
struct TelegramClientTests {
    static let group: Int64 = -1_001_234_567_890

    @Test func sendMessageSendsJSONAndDecodesTheMessage() async throws {
        try await withTelegram { fake, client in
            let sent = try await client.sendMessage(chatID: 42, text: "Hello &lt;world&gt; <b>bold</b>")
            #expect(sent.messageID == 1000)
            #expect(sent.chat.id == 42)
            #expect(sent.chat.type == "private")
            #expect(sent.from?.isBot == true)
            #expect(sent.text == "Hello <world> bold")

            let second = try await client.sendMessage(chatID: 42, text: "plain", parseMode: nil, replyToMessageID: sent.messageID)
            #expect(second.messageID == 1001)
            #expect(second.replyToMessage?.messageID == 1000)

            let requests = try await fake.waitForRequests(2, method: "sendMessage")
            #expect(requests[0].encoding == .json)
            #expect(requests[0].httpMethod == "POST")
            #expect(requests[0].params["chat_id"] == .int(42))
            #expect(requests[0].string("text") == "Hello &lt;world&gt; <b>bold</b>")
            #expect(requests[0].string("parse_mode") == "HTML")
            #expect(requests[0].params["message_thread_id"] == nil)
            #expect(requests[0].plainText == "Hello <world> bold")
            #expect(requests[1].params["parse_mode"] == nil)
            #expect(requests[1].json("reply_parameters")?["message_id"] == .int(1000))
            #expect(await fake.violations().isEmpty)
        }
    }

    @Test func forumTopicNameIsClippedAndThreadIsUsed() async throws {
        try await withTelegram { fake, client in
            let longName = String(repeating: "Я", count: 120) + String(repeating: "😀", count: 10)  // 140 UTF-16 units
            let thread = try await client.createForumTopic(chatID: Self.group, name: longName)
            let created = try #require(await fake.requests(method: "createForumTopic").first)
            let recordedName = try #require(created.string("name"))
            #expect(recordedName.utf16.count <= 128)
            #expect(longName.hasPrefix(recordedName))
            #expect(!recordedName.unicodeScalars.contains("\u{FFFD}"))
            #expect(await fake.topics().map(\.threadID) == [thread])

            let message = try await client.sendMessage(chatID: Self.group, text: "in topic", messageThreadID: thread)
            #expect(message.messageThreadID == thread)
            #expect(message.isTopicMessage == true)
            #expect(message.replyToMessage?.forumTopicCreated != nil)
            let sent = try #require(await fake.requests(method: "sendMessage").first)
            #expect(sent.int("message_thread_id") == thread)

            // A deleted topic is reported the way Telegram does, as a non-retryable failure.
            await fake.deleteTopic(chatID: Self.group, threadID: thread)
            let error = await expectDeliveryError {
                _ = try await client.sendMessage(chatID: Self.group, text: "gone", messageThreadID: thread)
            }
            #expect(error?.disposition == .fail)
            #expect(error?.description.contains("message thread not found") == true)
        }
    }

    @Test func sendPhotoUploadsMultipart() async throws {
        try await withTelegram { fake, client in
            let bytes = FakeTelegramServer.sampleJPEG + Data((0..<5000).map { UInt8($0 % 251) })
            let upload = TelegramUpload(data: bytes, filename: "screenshot.jpg", contentType: "image/jpeg")
            let message = try await client.sendPhoto(
                chatID: Self.group, photo: upload, caption: "A <i>photo</i> &amp; caption", parseMode: "HTML"
            )
            #expect(message.caption == "A photo & caption")
            let largest = try #require(message.largestPhoto)

            let request = try #require(await fake.requests(method: "sendPhoto").first)
            #expect(request.encoding == .multipart)
            #expect(request.string("chat_id") == String(Self.group))
            #expect(request.string("caption") == "A <i>photo</i> &amp; caption")
            #expect(request.string("parse_mode") == "HTML")
            let file = try #require(request.files["photo"])
            #expect(file.filename == "screenshot.jpg")
            #expect(file.contentType == "image/jpeg")
            #expect(file.data == bytes)

            // The uploaded photo can be fetched back through getFile and the file path.
            let info = try await client.getFile(fileID: largest.fileID)
            let path = try #require(info.filePath)
            #expect(info.fileSize == Int64(bytes.count))
            let downloaded = try await client.downloadFile(path: path)
            #expect(downloaded == bytes)
            #expect(await fake.violations().isEmpty)
        }
    }

    @Test func sendMediaGroupUsesAttachReferences() async throws {
        try await withTelegram { fake, client in
            let photos = (0..<3).map { index in
                TelegramUpload(
                    data: FakeTelegramServer.sampleJPEG + Data(repeating: UInt8(index), count: 100 + index),
                    filename: "p\(index).jpg", contentType: "image/jpeg"
                )
            }
            let messages = try await client.sendMediaGroup(
                chatID: Self.group, photos: photos, caption: "three &lt;photos&gt;", parseMode: "HTML"
            )
            #expect(messages.count == 3)
            #expect(Set(messages.compactMap(\.mediaGroupID)).count == 1)
            #expect(messages.map(\.messageID) == [1000, 1001, 1002])
            #expect(messages[0].caption == "three <photos>")
            #expect(messages[1].caption == nil)

            let request = try #require(await fake.requests(method: "sendMediaGroup").first)
            #expect(request.encoding == .multipart)
            let media = try #require(request.json("media")?.arrayValue)
            #expect(media.count == 3)
            for (index, item) in media.enumerated() {
                #expect(item["type"] == "photo")
                let reference = try #require(item["media"]?.stringValue)
                #expect(reference.hasPrefix("attach://"))
                let part = try #require(request.files[String(reference.dropFirst("attach://".count))])
                #expect(part.data == photos[index].data)
                #expect(part.filename == photos[index].filename)
            }
            #expect(media[0]["caption"] == "three &lt;photos&gt;")
            #expect(media[0]["parse_mode"] == "HTML")
            #expect(media[1]["caption"] == nil)
            #expect(request.files.count == 3)
            #expect(await fake.violations().isEmpty)

            // Fewer than two photos is refused before any request is made.
            let error = await expectDeliveryError {
                _ = try await client.sendMediaGroup(chatID: Self.group, photos: [photos[0]])
            }
            #expect(error?.disposition == .fail)
            #expect(await fake.requests(method: "sendMediaGroup").count == 1)
        }
    }

    @Test func failuresAreClassified() async throws {
        try await withTelegram { fake, client in
            await fake.failNext(1, method: "sendMessage", with: .tooManyRequests(retryAfter: 1))
            let limited = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "x") }
            #expect(limited?.disposition == .retry(after: .seconds(1)))
            #expect(limited?.httpStatus == 429)

            await fake.failNext(1, with: .serverError)
            let server = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "x") }
            #expect(server?.disposition == .retry(after: nil))

            await fake.failNext(1, with: .badGateway)
            let gateway = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "x") }
            #expect(gateway?.disposition == .retry(after: nil))

            await fake.failNext(1, with: .forbidden("bot was blocked by the user"))
            let forbidden = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "x") }
            #expect(forbidden?.disposition == .fail)
            #expect(forbidden?.description.contains("Forbidden: bot was blocked by the user") == true)

            // After the programmed failures, sending works again.
            let ok = try await client.sendMessage(chatID: 1, text: "x")
            #expect(ok.text == "x")
            #expect(await fake.requests(method: "sendMessage").filter(\.injectedFailure).count == 4)
            #expect(await fake.violations().isEmpty)

            // A request Telegram would reject: unescaped "<" in HTML. Fails, and the fake records a violation.
            let bad = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "1 < 2") }
            #expect(bad?.disposition == .fail)
            #expect(bad?.description.contains("can't parse entities") == true)
            #expect(await fake.violations().count == 1)
        }
    }

    @Test func transportErrorsAreRetryable() async throws {
        // Nothing listens on port 1. (A stopped fake's port was used before, but the tests
        // running beside this one could bind it again in between.)
        // AsyncHTTPClient keeps retrying a refused connection until the request deadline, so keep it short.
        let client = TelegramClient(
            token: "123:abc", baseURL: "http://127.0.0.1:1", httpClient: .shared, logger: testLogger(),
            requestTimeout: .seconds(2)
        )
        let error = await expectDeliveryError { _ = try await client.sendMessage(chatID: 1, text: "x") }
        #expect(error?.disposition == .retry(after: nil))
    }

    @Test func wrongTokenIsUnauthorized() async throws {
        try await withTelegram(token: "1:wrong") { fake, client in
            let error = await expectDeliveryError { _ = try await client.getMe() }
            #expect(error?.disposition == .fail)
            #expect(error?.httpStatus == 401)
            #expect(await fake.violations().count == 1)
        }
    }

    @Test func getUpdatesLongPollsAndHonoursOffset() async throws {
        try await withTelegram { fake, client in
            // Nothing queued: the poll waits about `timeout` seconds and returns nothing.
            let clock = ContinuousClock()
            let start = clock.now
            let none = try await client.getUpdates(offset: nil, timeout: 1, allowedUpdates: ["message"])
            #expect(none.isEmpty)
            #expect(clock.now - start >= .milliseconds(900))

            // A poll in progress returns as soon as an update arrives.
            let bot = try await client.sendMessage(chatID: Self.group, text: "question from a user")
            let poll = Task { try await client.getUpdates(offset: nil, timeout: 20, allowedUpdates: ["message"]) }
            try await fake.waitForRequests(2, method: "getUpdates")
            let pollStart = clock.now
            let queued = try await fake.staffReply(to: bot.messageID, text: "staff answer")
            let updates = try await poll.value
            #expect(clock.now - pollStart < .seconds(5))
            let update = try #require(updates.first)
            #expect(updates.count == 1)
            #expect(update.updateID == queued["update_id"]?.intValue)
            #expect(update.message?.text == "staff answer")
            #expect(update.message?.from?.isBot == false)
            #expect(update.message?.replyToMessage?.messageID == bot.messageID)
            #expect(update.message?.chat.id == Self.group)

            // Not confirmed yet: polling without an offset returns it again.
            let again = try await client.getUpdates(offset: nil, timeout: 0)
            #expect(again.map(\.updateID) == [update.updateID])

            // Confirmed by offset = update_id + 1.
            let after = try await client.getUpdates(offset: update.updateID + 1, timeout: 0)
            #expect(after.isEmpty)
            #expect(await fake.pendingUpdates().isEmpty)

            let polls = await fake.requests(method: "getUpdates")
            #expect(polls.last?.int("offset") == update.updateID + 1)
            #expect(polls[0].int("timeout") == 1)
            #expect(polls[0].json("allowed_updates") == ["message"])
            #expect(await fake.violations().isEmpty)
        }
    }

    @Test func rawUpdatesDecodeWithUnknownFieldsAndForumReplies() async throws {
        try await withTelegram { fake, client in
            let topic = try await client.createForumTopic(chatID: Self.group, name: "Ticket #1")
            try await fake.staffMessage(inThread: topic, chatID: Self.group, text: "note inside the topic")
            try await fake.enqueueUpdate(
                #"""
                {"message":{"message_id":77,"date":1700000000,"chat":{"id":5,"type":"private","first_name":"Ann","some_new_field":1},
                 "from":{"id":5,"is_bot":false,"first_name":"Ann","language_code":"ru"},
                 "voice":{"file_id":"V1","file_unique_id":"UV1","duration":3,"mime_type":"audio/ogg","file_size":1234},
                 "brand_new_field":{"x":[1,2,3]}}}
                """#)
            let updates = try await client.getUpdates(offset: nil, timeout: 0)
            #expect(updates.count == 2)
            let inTopic = try #require(updates[0].message)
            #expect(inTopic.messageThreadID == topic)
            #expect(inTopic.replyToMessage?.forumTopicCreated?.name == "Ticket #1")
            #expect(inTopic.replyToMessage?.messageID == topic)
            let voice = try #require(updates[1].message?.voice)
            #expect(voice.fileID == "V1")
            #expect(voice.duration == 3)
            #expect(voice.mimeType == "audio/ogg")
            #expect(updates[1].message?.from?.languageCode == "ru")

            // An update whose message does not decode does not block the batch (or the offset).
            let broken = try await fake.enqueueUpdate(#"{"message":{"message_id":"not a number","text":"?"}}"#)
            try await fake.enqueueUpdate(#"{"message":{"message_id":90,"date":1,"chat":{"id":5,"type":"private"},"text":"ok"}}"#)
            let next = try await client.getUpdates(offset: updates[1].updateID + 1, timeout: 0)
            #expect(next.map(\.updateID) == [broken, broken + 1])
            #expect(next[0].message == nil)
            #expect(next[1].message?.text == "ok")
        }
    }

    @Test func staffPhotoCanBeDownloadedWithSizeCap() async throws {
        try await withTelegram { fake, client in
            let bot = try await client.sendMessage(chatID: Self.group, text: "hello")
            let image = FakeTelegramServer.sampleJPEG + Data(repeating: 7, count: 50_000)
            try await fake.staffReply(to: bot.messageID, photo: image, caption: "see this")
            let update = try #require(try await client.getUpdates(offset: nil, timeout: 0).first)
            let photo = try #require(update.message?.largestPhoto)
            #expect(update.message?.caption == "see this")

            let file = try await client.getFile(fileID: photo.fileID)
            let data = try await client.downloadFile(path: try #require(file.filePath))
            #expect(data == image)

            let tooBig = await expectDeliveryError {
                _ = try await client.downloadFile(path: try #require(file.filePath), maxBytes: 10_000)
            }
            #expect(tooBig?.disposition == .fail)

            let unknown = await expectDeliveryError { _ = try await client.getFile(fileID: "nope") }
            #expect(unknown?.disposition == .fail)
            #expect(await fake.requests(method: "file").count == 2)
        }
    }

    @Test func webhookIsRecordedAndBlocksPolling() async throws {
        try await withTelegram { fake, client in
            let receiver = try await WebhookReceiver.start()
            try await client.setWebhook(url: receiver.url, secretToken: "s3cr3t_token-1", allowedUpdates: ["message"])
            let webhook = try #require(await fake.webhook())
            #expect(webhook.url == receiver.url)
            #expect(webhook.secretToken == "s3cr3t_token-1")
            #expect(webhook.allowedUpdates == ["message"])
            #expect(try await client.getWebhookInfo().url == receiver.url)

            // Telegram refuses getUpdates while a webhook is set.
            let conflict = await expectDeliveryError { _ = try await client.getUpdates(offset: nil, timeout: 0) }
            #expect(conflict?.httpStatus == 409)
            #expect(conflict?.disposition == .fail)
            #expect(await fake.violations().count == 1)

            let status = try await fake.postUpdate(
                to: webhook.url, secret: webhook.secretToken,
                update: ["message": ["message_id": 1, "date": 1, "chat": ["id": 9, "type": "private"], "text": "hi"]]
            )
            #expect(status == 200)
            let delivered = try #require(await receiver.received().first)
            #expect(delivered.secret == "s3cr3t_token-1")
            let decoded = try JSONDecoder().decode(TelegramUpdate.self, from: delivered.body)
            #expect(decoded.message?.text == "hi")
            #expect(decoded.updateID > 0)

            try await client.deleteWebhook()
            #expect(await fake.webhook() == nil)
            _ = try await client.getUpdates(offset: nil, timeout: 0)
            #expect(await fake.requests(method: "setWebhook").count == 1)
            #expect(await fake.requests(method: "deleteWebhook").count == 1)

            // Telegram only allows A-Z, a-z, 0-9, _ and - in the secret token.
            let badSecret = await expectDeliveryError {
                try await client.setWebhook(url: receiver.url, secretToken: "not allowed!")
            }
            #expect(badSecret?.disposition == .fail)
            await receiver.stop()
        }
    }
}

/// A tiny webhook endpoint that records what it receives.
actor WebhookReceiver {
    struct Delivery: Sendable {
        var secret: String?
        var body: Data
    }

    private var deliveries: [Delivery] = []
    private var task: Task<Void, Never>?
    nonisolated let url: String

    private init(url: String) { self.url = url }

    static func start() async throws -> WebhookReceiver {
        let holder = ReceiverHolder()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "WebhookReceiver")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                await holder.receiver?.record(
                    Delivery(
                        secret: request.headers[HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!],
                        body: Data(body.readableBytesView)
                    ))
                return Response(status: .ok)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let task = Task {
            try? await app.run(); continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let receiver = WebhookReceiver(url: "http://127.0.0.1:\(port)/telegram/webhook")
        await receiver.setTask(task)
        await holder.set(receiver)
        return receiver
    }

    private func setTask(_ task: Task<Void, Never>) { self.task = task }
    func record(_ delivery: Delivery) { deliveries.append(delivery) }
    func received() -> [Delivery] { deliveries }
    func stop() async {
        task?.cancel()
        await task?.value
    }

    actor ReceiverHolder {
        var receiver: WebhookReceiver?
        func set(_ receiver: WebhookReceiver) { self.receiver = receiver }
    }
}

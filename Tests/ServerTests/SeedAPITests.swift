import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The seed server's HTTP API with no outside services configured: every field, status
/// and error the apps in the field depend on.
@Suite("Seed HTTP API", .machineShare)
struct SeedAPITests {
    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    @Test func healthAnswersOK() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "ok")
            #expect(response.json["database"] as? String == "ok")
        }
    }

    @Test func sentMessageIsStoredInHistoryAndRecordedForTheGroup() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let clock = TestClock()
        let built = try harness.build(clock: clock.function)
        try await built.application.test(.router) { client in
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": 42, "user_name": "Анна", "message": "Где мой заказ?"]))
            #expect(sent.status == .ok)
            #expect(sent.json["success"] as? Bool == true)
            #expect(sent.json["message_id"] as? Int != nil)
            #expect(sent.json["photo_count"] as? Int == 0)
            #expect(sent.json.keys.contains("photo_url"))

            let history = try await client.execute(uri: "/message_history/42?user_name=%D0%90%D0%BD%D0%BD%D0%B0", method: .get)
            #expect(history.status == .ok)
            let messages = history.json["messages"] as? [[String: Any]] ?? []
            #expect(messages.first?["message"] as? String == "Где мой заказ?")
            #expect(messages.first?["direction"] as? String == "user")
            #expect(messages.first?["created_at"] as? String == "2026-01-01 10:00:00")
            #expect(messages.first?.keys.contains("photo_url") == true)
        }
        // Telegram is not configured: the forward is kept as what would have been sent.
        let rows = try await built.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, status, payload FROM outbox")
        }
        #expect(rows.count == 1)
        #expect(rows.first?["kind"] as String? == "telegram.forward")
        #expect(rows.first?["status"] as String? == "recorded")
        #expect((rows.first?["payload"] as String?)?.contains("Где мой заказ?") == true)
    }

    @Test func greetingOncePerDayOnTheFirstHistoryFetch() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let clock = TestClock()
        try await harness.build(clock: clock.function).application.test(.router) { client in
            let first = try await client.execute(uri: "/message_history/7?user_name=Anna", method: .get)
            #expect(first.json["greeting_sent"] as? Bool == true)
            let messages = first.json["messages"] as? [[String: Any]] ?? []
            #expect(messages.count == 1)
            #expect(messages.first?["message"] as? String == "Здравствуйте, Anna!")
            #expect(messages.first?["direction"] as? String == "support")

            clock.advance(3600)
            let second = try await client.execute(uri: "/message_history/7?user_name=Anna", method: .get)
            #expect(second.json["greeting_sent"] as? Bool == false)
            #expect((second.json["messages"] as? [[String: Any]])?.count == 1)

            clock.advance(24 * 3600)
            let nextDay = try await client.execute(uri: "/message_history/7", method: .get)
            #expect(nextDay.json["greeting_sent"] as? Bool == true)
            let all = nextDay.json["messages"] as? [[String: Any]] ?? []
            #expect(all.count == 2)
            #expect(all.last?["message"] as? String == "Здравствуйте, Anna!" || all.last?["message"] as? String == "Здравствуйте!")
        }
    }

    /// As Dart's `Uri`, Java's `URLEncoder`, Python's clients and the seed's Flask server
    /// have it: `+` is a space, `%2B` a plus, and a name blank once decoded is no name.
    @Test func queryStringsAreReadAsClientsWriteThem() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            func greeting(_ userID: String, _ query: String) async throws -> String? {
                let page = try await client.execute(uri: "/message_history/\(userID)?\(query)", method: .get)
                return page.status == .ok ? (page.json["messages"] as? [[String: Any]])?.last?["message"] as? String : nil
            }
            let spaced = try await greeting("q1", "user_name=Anna+Maria")
            let blank = try await greeting("q2", "user_name=+++")
            let plus = try await greeting("q3", "limit=5&user_name=C%2B%2B")
            let both = try await greeting("q4", "user_name=%D0%90%D0%BD%D0%BD%D0%B0+%D0%9C.&limit=+2")
            let malformed = try await greeting("q5", "user_name=100%+sure")
            #expect(spaced == "Здравствуйте, Anna Maria!")
            #expect(blank == "Здравствуйте!")
            #expect(plus == "Здравствуйте, C++!")
            #expect(both == "Здравствуйте, Анна М.!")
            #expect(malformed == "Здравствуйте, 100% sure!")
        }
    }

    /// The seed's JSON form takes a photo the app uploaded elsewhere: no text needed, the
    /// link is shown in the history and forwarded to staff, and `photo_count` counts
    /// only files uploaded with the message.
    @Test func aPhotoLinkIsAMessageOfItsOwnForwardedWithItsLink() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        let link = "https://cdn.example.com/photos/1.jpg?size=large"
        try await app.application.test(.router) { client in
            let alone = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "l1", "photo_url": link]))
            #expect(alone.status == .ok)
            #expect(alone.json["success"] as? Bool == true)
            #expect(alone.json["photo_count"] as? Int == 0)
            #expect(alone.json["photo_url"] as? String == link)
            let withText = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "l1", "message": "И ещё", "photo_url": link]))
            #expect(withText.json["photo_count"] as? Int == 0)

            let history = try await client.execute(uri: "/message_history/l1", method: .get)
            let items = (history.json["messages"] as? [[String: Any]] ?? []).filter { $0["direction"] as? String == "user" }
            #expect(items.map { $0["message"] as? String } == ["", "И ещё"])
            #expect(items.map { $0["photo_url"] as? String } == [link, link])

            await app.waitForDeliveries()
            let forwarded = ports.staffGroup.messages
            #expect(forwarded.map(\.kind) == [.text, .text])
            #expect(forwarded.allSatisfy { $0.plainText?.contains(link) == true })
            #expect(forwarded.last?.plainText?.contains("И ещё") == true)

            let notALink = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "l1", "photo_url": "file:///etc/passwd"]))
            #expect(notALink.status == .badRequest)
            #expect((notALink.json["error"] as? String)?.contains("photo_url") == true)
        }
        #expect(ports.violations.isEmpty)
    }

    /// Found by schemathesis: `https://` alone parsed as a URL and was forwarded to staff as
    /// a link to nowhere. A photo link needs a host.
    @Test func aPhotoLinkWithoutAHostIsRefused() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            for link in ["https://", "http://", "https://?size=large", "https:///photos/1.jpg", "http://#top"] {
                let response = try await client.execute(
                    uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "l2", "message": "фото", "photo_url": link]))
                #expect(response.status == .badRequest, "\(link)")
                #expect(response.json["error"] as? String == "photo_url must be an http(s) URL", "\(link)")
            }
            let history = try await client.execute(uri: "/message_history/l2", method: .get)
            #expect((history.json["messages"] as? [[String: Any]] ?? []).allSatisfy { $0["direction"] as? String != "user" })
            await app.waitForDeliveries()
        }
        #expect(ports.staffGroup.messages.isEmpty)
    }

    @Test func historyIsTheNewestLimitOldestFirst() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let clock = TestClock()
        try await harness.build(clock: clock.function).application.test(.router) { client in
            _ = try await client.execute(uri: "/message_history/9", method: .get)  // greeting first
            for index in 1...5 {
                clock.advance(1)
                _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "9", "message": "m\(index)"]))
            }
            let page = try await client.execute(uri: "/message_history/9?limit=3", method: .get)
            let texts = (page.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            #expect(texts == ["m3", "m4", "m5"])
        }
    }

    @Test func aCachedHistoryPageNeverHidesANewerMessage() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let clock = TestClock()
        try await harness.build(clock: clock.function).application.test(.router) { client in
            func texts(_ limit: Int) async throws -> [String] {
                let page = try await client.execute(uri: "/message_history/c1?limit=\(limit)", method: .get)
                return (page.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            }
            #expect(try await texts(50) == ["Здравствуйте!"])  // the day's first fetch greets
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "c1", "message": "one"]))
            #expect(try await texts(50).suffix(1) == ["one"])
            #expect(try await texts(50).suffix(1) == ["one"])  // served from the cache
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "c1", "message": "two"]))
            #expect(try await texts(50).suffix(2) == ["one", "two"])
            #expect(try await texts(1) == ["two"])
            clock.advance(24 * 3600)  // the next day's greeting is newer still
            let nextDay = try await client.execute(uri: "/message_history/c1?limit=1", method: .get)
            #expect(nextDay.json["greeting_sent"] as? Bool == true)
            #expect((nextDay.json["messages"] as? [[String: Any]])?.first?["message"] as? String == "Здравствуйте!")
        }
    }

    /// A photo larger than one read chunk (128 KB) comes back whole and byte for byte:
    /// files are streamed from disk, not read into memory.
    @Test func aLargeUploadIsServedWhole() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let large = tinyPNG + (0..<(600 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileManager.default.createDirectory(atPath: harness.configuration.uploadsDirectory, withIntermediateDirectories: true)
        let name = String(repeating: "ab", count: 16) + ".png"
        try Data(large).write(to: URL(fileURLWithPath: harness.configuration.uploadsDirectory + "/" + name))
        try await harness.build().application.test(.live) { client in
            let served = try await client.execute(uri: "/uploads/" + name, method: .get)
            #expect(served.status == .ok)
            #expect(served.headers[.contentType] == "image/png")
            #expect(served.body.readableBytes == large.count)
            #expect(Array(served.body.readableBytesView) == large)
        }
    }

    @Test func multipartPhotosAreStoredAndServedByContent() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            var form = MultipartBody()
            form.field("user_id", "5")
            form.field("message", "Смотрите фото")
            form.file("photo", filename: "a.jpg", contentType: "image/jpeg", tinyPNG)  // the name lies; the bytes decide
            form.file("photo", filename: "b.png", contentType: "image/png", tinyPNG)
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: form.contentType], body: ByteBuffer(bytes: form.finished()))
            #expect(sent.status == .ok)
            #expect(sent.json["photo_count"] as? Int == 2)
            let url = try #require(sent.json["photo_url"] as? String)
            #expect(url.hasPrefix("/uploads/") && url.hasSuffix(".png"))

            let served = try await client.execute(uri: url, method: .get)
            #expect(served.status == .ok)
            #expect(served.headers[.contentType] == "image/png")
            #expect(Array(served.body.readableBytesView) == tinyPNG)

            let history = try await client.execute(uri: "/message_history/5", method: .get)
            let messages = history.json["messages"] as? [[String: Any]] ?? []
            #expect(messages.contains { $0["photo_url"] as? String == url && $0["message"] as? String == "Смотрите фото" })

            // Staff get both photos as one album, the text as its caption.
            await app.waitForDeliveries()
            let album = try #require(ports.staffGroup.messages.first)
            #expect(ports.staffGroup.messages.count == 1)
            #expect(album.kind == .album)
            #expect(album.photos.map(\.data) == [Data(tinyPNG), Data(tinyPNG)])
            #expect(album.plainText?.contains("Смотрите фото") == true)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func devicesRegisterAndCheck() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            let before = try await client.execute(uri: "/check_device/77", method: .get)
            #expect(before.json["registered"] as? Bool == false)
            #expect(before.json["device_count"] as? Int == 0)
            #expect(before.json["has_tokens"] as? Bool == false)

            let registered = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders,
                body: json(["user_id": "77", "fcm_token": "token-a", "platform": "android", "device_id": "d1"]))
            #expect(registered.status == .ok)
            #expect(registered.json["success"] as? Bool == true)
            #expect(registered.json["message"] as? String == "Устройство зарегистрировано успешно")
            #expect(registered.json["device_count"] as? Int == 1)
            // The same device with a new token replaces the old one; another device adds one.
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "77", "fcm_token": "token-b", "device_id": "d1"]))
            let second = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "77", "fcm_token": "token-c", "device_id": "d2"]))
            #expect(second.json["device_count"] as? Int == 2)

            let after = try await client.execute(uri: "/check_device/77", method: .get)
            #expect(after.json["user_id"] as? String == "77")
            #expect(after.json["registered"] as? Bool == true)
            #expect(after.json["device_count"] as? Int == 2)
            #expect(after.json["has_tokens"] as? Bool == true)
        }
    }

    @Test func badInputGetsA4xxWithTheSeedErrorShape() async throws {
        var harness = try ServerHarness()
        harness.configuration.maxUploadBytes = 64 * 1024
        harness.configuration.maxPhotosPerMessage = 2
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(response.status == status, sourceLocation: sourceLocation)
                #expect(response.json["success"] as? Bool == false, sourceLocation: sourceLocation)
                #expect(
                    (response.json["error"] as? String)?.contains(fragment) == true, "error was \(response.json["error"] ?? "none")",
                    sourceLocation: sourceLocation)
            }
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["message": "hi"])), .badRequest, "user_id")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "1", "message": "   "])),
                .badRequest, "message")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": true, "message": "x"])), .badRequest,
                "user_id")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{\"user_id\": ")), .badRequest,
                "JSON")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "[1,2]")), .badRequest, "object")
            expectError(try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders), .badRequest, "empty")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi")),
                .unsupportedMediaType, "Content-Type")
            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: ByteBuffer(repeating: 0x20, count: 2 * 1024 * 1024)),
                .contentTooLarge, "larger")

            var notImage = MultipartBody()
            notImage.field("user_id", "1")
            notImage.field("message", "x")
            notImage.file("photo", filename: "cat.jpg", contentType: "image/jpeg", Array("#!/bin/sh\necho hi\n".utf8))
            expectError(
                try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: notImage.contentType], body: ByteBuffer(bytes: notImage.finished())),
                .unsupportedMediaType, "image")

            var tooLarge = MultipartBody()
            tooLarge.field("user_id", "1")
            tooLarge.field("message", "x")
            tooLarge.file("photo", filename: "big.png", contentType: "image/png", tinyPNG + [UInt8](repeating: 0, count: 64 * 1024))
            expectError(
                try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: tooLarge.contentType], body: ByteBuffer(bytes: tooLarge.finished())),
                .contentTooLarge, "larger")

            var tooMany = MultipartBody()
            tooMany.field("user_id", "1")
            tooMany.field("message", "x")
            for index in 0..<3 { tooMany.file("photo", filename: "\(index).png", contentType: "image/png", tinyPNG) }
            expectError(
                try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: tooMany.contentType], body: ByteBuffer(bytes: tooMany.finished())),
                .contentTooLarge, "at most 2")

            expectError(
                try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: "multipart/form-data"], body: ByteBuffer(string: "x")),
                .badRequest, "boundary")
            expectError(
                try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: "multipart/form-data; boundary=zzz"], body: ByteBuffer(string: "garbage")),
                .badRequest, "multipart")
            expectError(
                try await client.execute(uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "1"])), .badRequest, "fcm_token")
            // As the seed: a limit that is not a number is the default, not an error.
            let lenient = try await client.execute(uri: "/message_history/1?limit=abc", method: .get)
            #expect(lenient.status == .ok)
            expectError(
                try await client.execute(
                    uri: "/send_message", method: .post, headers: jsonHeaders,
                    body: json(["user_id": "1", "user_name": "A" + String(repeating: "\u{0301}", count: 300), "message": "x"])), .badRequest, "user_name")
            expectError(try await client.execute(uri: "/uploads/..%2Fstate.sqlite", method: .get), .notFound, "no such file")
            expectError(try await client.execute(uri: "/uploads/state.sqlite", method: .get), .notFound, "no such file")
            expectError(try await client.execute(uri: "/nope", method: .get), .notFound, "no such endpoint")
        }
    }

    @Test func requestsPerAddressAreRateLimitedWhenAsked() async throws {
        var harness = try ServerHarness()
        harness.configuration.rateLimitPerAddress = 3
        defer { harness.remove() }
        // A still clock, so a slow run cannot see the first request leave the window.
        let clock = TestClock()
        try await harness.build(clock: clock.function).application.test(.live) { client in
            for _ in 0..<3 {
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            }
            let limited = try await client.execute(uri: "/health", method: .get)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.json["success"] as? Bool == false)
        }
    }

    @Test func messagesPerUserAreRateLimited() async throws {
        var harness = try ServerHarness()
        harness.configuration.rateLimitPerUser = 2
        defer { harness.remove() }
        let clock = TestClock()
        try await harness.build(clock: clock.function).application.test(.router) { client in
            for _ in 0..<2 {
                let ok = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "r", "message": "x"]))
                #expect(ok.status == .ok)
            }
            let limited = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "r", "message": "x"]))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter].flatMap(Int.init) ?? 0 >= 1)
            #expect(limited.json["success"] as? Bool == false)
            let other = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "s", "message": "x"]))
            #expect(other.status == .ok)
            clock.advance(61)
            let later = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "r", "message": "x"]))
            #expect(later.status == .ok)
        }
    }
}

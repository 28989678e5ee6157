import Channels
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import Testing
import TestSupport

/// What reaches the staff group from the app, on the router with a recording staff group:
/// photos as a photo or an album, long texts split, failed parts retried without repeats,
/// and deliveries left pending by a stopped server. (Staff replies coming back need
/// Telegram's updates: `TelegramRelayTests`, against a fake Telegram on loopback.)
@Suite("Seed messages reach the staff group", .machineShare)
struct StaffGroupDeliveryTests {
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    /// Telegram's 429 and 500, as the Telegram client classifies them.
    static let tooManyRequests = DeliveryError(.retry(after: .seconds(1)), "Telegram sendMessage failed: Too Many Requests: retry after 1", httpStatus: 429)
    static let serverError = DeliveryError(.retry(after: nil), "Telegram sendMessage failed: 500 Internal Server Error", httpStatus: 500)

    func words(_ word: Substring, in texts: [String?]) -> Int {
        texts.compactMap { $0 }.joined(separator: " ").split(whereSeparator: \.isWhitespace).filter { $0 == word }.count
    }

    @Test func photosGoAsAPhotoOrAnAlbumWithTheTextAsTheirCaption() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            var one = MultipartBody()
            one.field("user_id", "8")
            one.field("message", "Одно фото")
            one.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: one.contentType], body: ByteBuffer(bytes: one.finished()))
            await app.waitForDeliveries()
            let photo = try #require(ports.staffGroup.messages.first)
            #expect(photo.kind == .photo)
            #expect(photo.photos.map(\.data) == [Data(tinyPNG)])
            #expect(photo.plainText?.contains("Одно фото") == true)

            var two = MultipartBody()
            two.field("user_id", "8")
            two.field("message", "Два фото")
            two.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            two.file("photo", filename: "b.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: two.contentType], body: ByteBuffer(bytes: two.finished()))
            await app.waitForDeliveries()
            let messages = ports.staffGroup.messages
            #expect(messages.count == 2)
            let album = try #require(messages.last)
            #expect(album.kind == .album)
            #expect(album.photos.count == 2)
            #expect(album.ids.count == 2)
            #expect(album.plainText?.contains("Два фото") == true)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func longTextIsSplitAndA429IsRetriedAfterItsRetryAfter() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        ports.staffGroup.failNext(1, .text, with: Self.tooManyRequests)
        let app = try harness.build(ports: ports)
        let long = String(repeating: "Очень длинное сообщение. ", count: 400)  // 10,000 characters
        try await app.application.test(.router) { client in
            let started = ContinuousClock.now
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "9", "message": long]))
            await app.waitForDeliveries()
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
        let sent = ports.staffGroup.calls.filter { $0.kind == .text }
        #expect(sent.count == 4)
        let delivered = sent.filter(\.succeeded)
        #expect(delivered.count == 3)
        #expect(words("Очень", in: delivered.map(\.plainText)) == 400)
        #expect(ports.violations.isEmpty)
        let row = try await app.database.writer.read { db in try Row.fetchOne(db, sql: "SELECT status, attempts FROM outbox WHERE kind = 'telegram.forward'") }
        #expect(row?["status"] as String? == "delivered")
        #expect(row?["attempts"] as Int? == 2)
    }

    @Test("a long forward whose second part fails is retried from that part: staff never get the first part twice")
    func aRetryResumesAfterThePartsAlreadySent() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        ports.staffGroup.failNext(1, .text, after: 1, with: Self.serverError)
        let app = try harness.build(ports: ports)
        let long = String(repeating: "Очень длинное сообщение. ", count: 400)  // 10,000 characters: 3 parts
        try await app.application.test(.router) { client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "19", "message": long]))
            await app.waitForDeliveries()
        }
        let sent = ports.staffGroup.calls.filter { $0.kind == .text }
        #expect(sent.count == 4, "3 parts and the failed attempt of the second")
        let delivered = sent.filter(\.succeeded)
        #expect(delivered.count == 3)
        #expect(words("Очень", in: delivered.map(\.plainText)) == 400)
        #expect(delivered.first?.plainText?.contains("ID: 19") == true, "the header goes first, once")
        let row = try await app.database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT status, attempts, parts_sent FROM outbox WHERE kind = 'telegram.forward'")
        }
        #expect(row?["status"] as String? == "delivered")
        #expect(row?["attempts"] as Int? == 2)
        // The third part is not noted: the item is marked delivered right after it.
        #expect(row?["parts_sent"] as Int? == 2)
        // Every part still leads a staff reply back to the user.
        let mapped = try await app.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM group_forwards WHERE user_id = '19'") }
        #expect(mapped == 3)
        #expect(ports.violations.isEmpty)
    }

    @Test("an album whose text after it fails is not sent again on the retry")
    func aRetryDoesNotResendTheAlbum() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        ports.staffGroup.failNext(1, .text, with: Self.serverError)
        let app = try harness.build(ports: ports)
        let long = String(repeating: "Текст под фотографиями. ", count: 100)  // 2,400 characters: caption, then one message
        try await app.application.test(.router) { client in
            var body = MultipartBody()
            body.field("user_id", "21")
            body.field("message", long)
            body.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            body.file("photo", filename: "b.png", contentType: "image/png", tinyPNG)
            _ = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: body.contentType], body: ByteBuffer(bytes: body.finished()))
            await app.waitForDeliveries()
        }
        let albums = ports.staffGroup.calls.filter { $0.kind == .album }
        #expect(albums.count == 1, "the album went out once")
        let texts = ports.staffGroup.calls.filter { $0.kind == .text }
        #expect(texts.map(\.injectedFailure) == [true, false])
        #expect(words("Текст", in: [albums.first?.plainText, texts.last?.plainText]) == 100)
        #expect(ports.violations.isEmpty)
    }

    @Test func aRestartDeliversWhatWasPending() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        // The first server's attempt fails with a minute to wait (so, however slow the
        // machine, it stops before trying again), and the new server's first attempt too.
        ports.staffGroup.failNext(1, .text, with: DeliveryError(.retry(after: .seconds(60)), "Too Many Requests: retry after 60", httpStatus: 429))
        ports.staffGroup.failNext(1, .text, with: Self.serverError)
        let first = try harness.build(ports: ports)
        try await first.application.test(.router) { client in
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "14", "message": "Не потеряйся"]))
            #expect(sent.status == .ok)
            // The server stops while the item waits for its retry.
            _ = try await waitFor { ports.staffGroup.calls.isEmpty ? nil : true }
        }
        #expect(ports.staffGroup.sent.isEmpty)
        // A new server on the same database, two minutes later, delivers it once the group
        // takes messages again.
        let second = try harness.build(ports: ports, clock: { Date().addingTimeInterval(120) })
        try await second.application.test(.router) { _ in
            await second.waitForDeliveries()
        }
        #expect(ports.staffGroup.calls.map(\.injectedFailure) == [true, true, false])
        let delivered = ports.staffGroup.sent
        #expect(delivered.count == 1)
        #expect(delivered.first?.plainText?.contains("Не потеряйся") == true)
        #expect(ports.violations.isEmpty)
    }
}

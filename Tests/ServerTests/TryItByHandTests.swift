import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport

/// The README's "try it by hand", done as a person would: `replyflow-fakes` started first,
/// `replyflow serve` on the settings it wrote, the fake's printed lines read for the
/// `message_id` to answer, and the fake told over HTTP what Telegram should deliver. The
/// answer reaches the app's history, by `getUpdates` and by the webhook.
@Suite("Trying it by hand", .serialized, .machineShare)
struct TryItByHandTests {
    static let group = "-1001000000001"

    @Test(.timeLimit(.minutes(5))) func byPollingStaffRepliesReachTheAppAndCustomersTheAI() async throws {
        try await Scene.run(webhook: false) { scene in
            let forward = try await scene.appMessage(user: "hand-1", text: "Где мой заказ?")
            let reply = try await scene.control(
                "/fake/staff-reply", #"{"reply_to": \#(forward), "text": "Заказ в пути"}"#, contentType: "application/x-www-form-urlencoded")
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["delivered_by"] as? String == "getUpdates")
            let answer = try await scene.historyItem(user: "hand-1") { $0["message"] as? String == "Заказ в пути" }
            #expect(answer["direction"] as? String == "support")
            _ = try await scene.fakes.line("getUpdates line") { $0.hasPrefix("telegram  getUpdates → update ") }

            // A customer writing to the bot: the fake AI answers in their private chat.
            let message = try await scene.control(
                "/fake/private-message", #"{"user_id": 5550001, "first_name": "Anna", "text": "Привет"}"#,
                contentType: "application/x-www-form-urlencoded")
            #expect(message.status == 200, "\(message.json)")
            let answered = try await scene.fakes.line("AI answer to Anna") { $0.hasPrefix("telegram  sendMessage to 5550001 ") }
            #expect(answered.contains("Answer to \"Привет\""), "\(answered)")
        }
    }

    @Test(.timeLimit(.minutes(5))) func byWebhookAStaffPhotoReachesTheApp() async throws {
        try await Scene.run(webhook: true) { scene in
            let forward = try await scene.appMessage(user: "hand-2", text: "Покажите посылку")
            var form = MultipartBody()
            form.field("reply_to", String(forward))
            form.field("caption", "Вот она")
            form.file("photo", filename: "parcel.png", contentType: "image/png", tinyPNG)
            let reply = try await scene.control("/fake/staff-reply", form.finished(), contentType: form.contentType)
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["delivered_by"] as? String == "webhook")
            #expect(reply.json["webhook_status"] as? Int == 200)
            let photo = try await scene.historyItem(user: "hand-2") { $0["photo_url"] is String }
            #expect(photo["message"] as? String == "Вот она")
            #expect(photo["direction"] as? String == "support")
        }
    }

    /// The fakes and a server on their settings, in a folder of their own.
    struct Scene {
        let fakes: ChatClientProcess
        let server: ServerProcess
        let telegramURL: String
        /// The server's settings (its database is `DATABASE_PATH`).
        let environment: [String: String]
        /// The scene's own folder, removed afterwards.
        let directory: String

        static func run(webhook: Bool, settings extra: [String: String] = [:], _ body: (Scene) async throws -> Void) async throws {
            let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
            let fakesBinary = try #require(ServerProcess.executable(named: "replyflow-fakes"), "build replyflow-fakes first (swift build)")
            let harness = try ServerHarness()
            defer { harness.remove() }
            let settingsPath = harness.directory + "/fakes.env"
            let fakes = try ChatClientProcess(executable: fakesBinary, arguments: [settingsPath])
            defer { fakes.stop() }
            // The curl lines come after the settings file is written.
            _ = try await fakes.line("curl lines") { $0.contains("/fake/private-message") }
            let settings = try Self.settings(in: settingsPath)
            let telegramURL = try #require(settings["TELEGRAM_API_URL"])
            let port = try ServerProcess.freePort()
            var environment = ServerProcess.environment(harness, port: port).merging(settings) { $1 }.merging(extra) { $1 }
            if webhook { environment["TELEGRAM_WEBHOOK_URL"] = "http://127.0.0.1:\(port)/webhooks/telegram" }
            let server = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/server.log")
            defer { server.kill() }
            try await server.waitForHealth()
            if webhook {
                _ = try await fakes.line("setWebhook") { $0 == "telegram  setWebhook http://127.0.0.1:\(port)/webhooks/telegram" }
            }
            try await body(Scene(fakes: fakes, server: server, telegramURL: telegramURL, environment: environment, directory: harness.directory))
        }

        /// The `KEY=value` lines of the file the fakes wrote (what `cp fakes.env .env` would use).
        static func settings(in path: String) throws -> [String: String] {
            var settings: [String: String] = [:]
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return settings
        }

        /// Sends an app message and returns the `message_id` of its forward to the group, as
        /// the fakes printed it.
        func appMessage(user: String, text: String) async throws -> Int64 {
            let sent = try await server.postJSON("/send_message", #"{"user_id": "\#(user)", "message": "\#(text)"}"#)
            #expect(sent.status == 200)
            let line = try await fakes.line("forward of \(text)") {
                $0.hasPrefix("telegram  sendMessage to \(TryItByHandTests.group) → message_id ") && $0.contains(text)
            }
            let digits = line.dropFirst("telegram  sendMessage to \(TryItByHandTests.group) → message_id ".count).prefix { $0.isNumber }
            return try #require(Int64(digits), "no message_id in \(line)")
        }

        /// `POST` to the fake Telegram's control endpoint, with the Content-Type `curl -d` or `curl -F` would send.
        func control(_ path: String, _ body: String, contentType: String) async throws -> ServerProcess.Response {
            try await control(path, Array(body.utf8), contentType: contentType)
        }

        func control(_ path: String, _ body: [UInt8], contentType: String) async throws -> ServerProcess.Response {
            var request = HTTPClientRequest(url: telegramURL + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return ServerProcess.Response(status: Int(response.status.code), body: Data(bytes.readableBytesView))
        }

        /// Waits for the history item of `user` that `matches`.
        func historyItem(user: String, where matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
            try await waitFor(timeout: .seconds(20)) {
                let history = try await server.request("GET", "/message_history/\(user)")
                return (history.json["messages"] as? [[String: Any]] ?? []).first(where: matches)
            }
        }
    }
}

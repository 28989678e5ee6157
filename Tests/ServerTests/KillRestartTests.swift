import Foundation
import TestServers
import TestSupport
import Testing

/// The real `replyflow serve` binary stopped (SIGKILL, as a crash would; SIGTERM, as a
/// deployment does) and started again on the same files: the accepted message still
/// reaches Telegram, a photo cut off by the crash leaves no file, and an app connected by
/// long-polling comes back by itself.
@Suite("Kill and restart", .serialized, .machineShare)
struct KillRestartTests {
    func startServer(_ binary: String, harness: ServerHarness, telegramURL: String, token: String, name: String) throws -> ServerProcess {
        var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        environment.merge([
            "BOT_TOKEN": token, "GROUP_CHAT_ID": "-100555", "TELEGRAM_API_URL": telegramURL, "TELEGRAM_POLL_TIMEOUT": "1", "LOG_LEVEL": "error",
        ]) { $1 }
        return try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/\(name).log")
    }

    @Test func aKilledServerDeliversAfterRestart() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        await telegram.failNext(1_000, method: "sendMessage", with: .serverError)

        let first = try startServer(binary, harness: harness, telegramURL: telegramURL, token: telegram.token, name: "first")
        defer { first.kill() }
        try await first.waitForHealth()
        let response = try await first.postJSON("/send_message", #"{"user_id": "k1", "message": "Пережить kill -9"}"#)
        #expect(response.status == 200)
        _ = try await telegram.waitForRequests(1, method: "sendMessage", timeout: .seconds(10))
        first.kill()

        let telegram2 = FakeTelegramServer()
        let telegram2URL = try await telegram2.start().absoluteString
        let second = try startServer(binary, harness: harness, telegramURL: telegram2URL, token: telegram2.token, name: "second")
        defer { second.kill() }
        let delivered = try await telegram2.waitForRequests(1, method: "sendMessage", timeout: .seconds(15))
        #expect(delivered.first?.plainText?.contains("Пережить kill -9") == true)
        #expect(delivered.first?.int("chat_id") == -100555)
        await telegram.stop()
        await telegram2.stop()
    }

    @Test func sigtermStopsTheServerCleanly() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        let server = try startServer(binary, harness: harness, telegramURL: telegramURL, token: telegram.token, name: "server")
        defer { server.kill() }
        try await server.waitForHealth()
        server.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(15)
        while server.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning, "replyflow serve still running 15 s after SIGTERM")
        server.kill()
        #expect(server.terminationReason == .exit)
        #expect(server.terminationStatus == 0)
        await telegram.stop()
    }

    @Test(.timeLimit(.minutes(5))) func aPhotoHalfReceivedWhenTheServerIsKilledIsRemovedAtTheNextStart() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        let first = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/first.log")
        defer { first.kill() }
        try await first.waitForHealth()
        var form = MultipartBody()
        form.field("user_id", "1")
        let head = "POST /send_message HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(1024 * 1024)\r\n\r\n"
        let photoStart = "--\(form.boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"cut.png\"\r\n\r\n"
        // The body stays unfinished; the blocking socket calls run off the cooperative pool
        // and end when the server dies.
        let port = first.port
        let unfinished = Array(head.utf8) + form.bytes + Array(photoStart.utf8) + tinyPNG
        let upload = Task {
            try await offThePool {
                let connection = try LoopbackConnection(port: port)
                defer { connection.close() }
                try connection.send(unfinished)
                return try connection.receive(until: "\r\n\r\n", timeout: 30)
            }
        }
        let uploads = harness.configuration.uploadsDirectory
        func staged() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? []).filter { $0.hasPrefix(".arriving-") }
        }
        _ = try await waitFor(timeout: .seconds(15)) { staged().isEmpty ? nil : true }
        first.kill()
        #expect(try await upload.value.isEmpty, "the server answered a body it had not received")
        #expect(staged().count == 1)

        let second = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/second.log")
        defer { second.kill() }
        try await second.waitForHealth()
        #expect(staged().isEmpty, "left in uploads/: \(staged())")
    }

    @Test(.timeLimit(.minutes(5))) func anAppPollingThroughAGracefulRestartReconnects() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        environment["API_KEY"] = "restart-test-key"
        let first = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/first.log")
        defer { first.kill() }
        try await first.waitForHealth()
        #expect(try await first.postJSON("/send_message", #"{"user_id": "r1", "message": "Здравствуйте"}"#).status == 200)
        // python-socketio with its default settings, long-polling only, as some apps connect.
        let app = try ChatClientProcess(script: "reconnecting_chat_client.py", arguments: [first.url(""), "r1", "polling", "90"])
        defer { app.stop() }
        _ = try await app.line(startingWith: "JOINED 1", timeout: .seconds(20))

        first.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(15)
        while first.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!first.isRunning, "replyflow serve still running 15 s after SIGTERM")
        // A lost connection, not the server sending it away (after which it would not come back).
        let dropped = try await app.line(startingWith: "DISCONNECTED", timeout: .seconds(5))
        #expect(dropped == "DISCONNECTED transport error")

        let second = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/second.log")
        defer { second.kill() }
        try await second.waitForHealth()
        _ = try await app.line(startingWith: "JOINED 2", timeout: .seconds(30))
        let sent = try await second.postJSON(
            "/api/messages", #"{"platformChatId": "r1", "source": "app", "text": "После перезапуска"}"#, headers: ["X-API-Key": "restart-test-key"])
        #expect(sent.status == 201)
        #expect(try await app.line(startingWith: "MESSAGE", timeout: .seconds(15)) == "MESSAGE После перезапуска")
    }
}

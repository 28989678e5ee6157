import Foundation
import TestServers
import Testing

/// The real `replyflow serve` binary, killed with SIGKILL while a delivery is pending and
/// started again on the same database: the accepted message still reaches Telegram.
@Suite("Kill and restart", .serialized) struct KillRestartTests {
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
}

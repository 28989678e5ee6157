import Foundation
import TestServers
import Testing
import TestSupport

/// A second `replyflow serve` started by mistake on the port of one already running (its
/// own database, so the per-database lock does not stop it): it must fail with the
/// port-in-use line before telling Telegram anything, or it would take the running
/// server's webhook (or its updates) away on its way out.
@Suite("A second server on a port in use", .serialized, .machineShare)
struct SecondServerTests {
    @Test(.timeLimit(.minutes(5)), arguments: ["polling", "webhook"]) func itStopsBeforeTouchingTelegram(mode: String) async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let runningHarness = try ServerHarness()
        defer { runningHarness.remove() }
        let port = try ServerProcess.freePort()
        let running = try ServerProcess(
            binary: binary, environment: ServerProcess.environment(runningHarness, port: port), logPath: runningHarness.directory + "/running.log")
        defer { running.kill() }
        try await running.waitForHealth()

        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        let secondHarness = try ServerHarness()
        defer { secondHarness.remove() }
        var environment = ServerProcess.environment(secondHarness, port: port)
        environment.merge(["BOT_TOKEN": telegram.token, "GROUP_CHAT_ID": "-100777", "TELEGRAM_API_URL": telegramURL, "TELEGRAM_POLL_TIMEOUT": "1"]) { $1 }
        if mode == "webhook" { environment["TELEGRAM_WEBHOOK_URL"] = "https://replyflow.example/webhooks/telegram" }
        let second = try ServerProcess(binary: binary, environment: environment, logPath: secondHarness.directory + "/second.log")
        defer { second.kill() }
        _ = try await waitFor(timeout: .seconds(20)) { second.isRunning ? nil : true }

        #expect(second.terminationStatus != 0)
        #expect(second.logTail().contains("port \(port) on 127.0.0.1 is already in use"), "\(second.logTail())")
        // Whatever it might have sent would have left by now.
        try await Task.sleep(for: .milliseconds(300))
        let sent = await telegram.requests().map(\.method)
        #expect(sent.isEmpty, "the second server called Telegram: \(sent)")
        #expect(running.isRunning)
        await telegram.stop()
    }

    /// The same server, on a free port, does reach Telegram: the wait is for the port, not forever.
    @Test(.timeLimit(.minutes(5))) func onAFreePortItRegistersTheWebhookOnceListening() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        environment.merge([
            "BOT_TOKEN": telegram.token, "GROUP_CHAT_ID": "-100777", "TELEGRAM_API_URL": telegramURL,
            "TELEGRAM_WEBHOOK_URL": "https://replyflow.example/webhooks/telegram",
        ]) { $1 }
        let server = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/server.log")
        defer { server.kill() }
        try await server.waitForHealth()
        let registered = try await telegram.waitForRequests(1, method: "setWebhook", timeout: .seconds(10))
        #expect(registered.first?.string("url") == "https://replyflow.example/webhooks/telegram")
        await telegram.stop()
    }
}

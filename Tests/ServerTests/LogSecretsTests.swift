import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestServers
import Testing

@testable import Server
import TestSupport

/// No secret in any log line: the server runs with distinctive secrets against services
/// that fail the way real ones do (an error page that quotes the request's path, which for
/// Telegram holds the bot token), through start-up, Telegram polls, deliveries, the AI, a
/// failed sign-in and the webhooks, at `LOG_LEVEL=trace`, in both formats; in process
/// (every line through a capturing output) and as the real `replyflow serve`.
@Suite("No secret in the log", .serialized, .machineShare)
struct LogSecretsTests {
    static let botToken = "7000000001:AAHsecretBotTokenValue_abcdefghijklmn"
    static let apiKey = "api-key-SECRET-31415926"
    static let brevoKey = "xkeysib-SECRET-27182818"
    static let brevoWebhookSecret = "brevoHookSECRET_1618033988"
    static let telegramWebhookSecret = "tgHookSECRET_141421356"
    static let aiKey = "sk-SECRET-ai-key-173205080"
    static let staffPassword = "staff-password-SECRET-9999"
    /// Every string that must never be logged (the private key by a line of its body).
    static var secrets: [String] {
        [botToken, "AAHsecretBotTokenValue", apiKey, brevoKey, brevoWebhookSecret, telegramWebhookSecret, aiKey, staffPassword, privateKeyLine]
    }
    static var privateKeyLine: String {
        FakeFCMServer.testPrivateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "none"
    }

    /// The settings: every service configured with a secret and pointed at `failing`.
    static func environment(_ harness: ServerHarness, failing: String, port: Int, format: LogFormat) throws -> [String: String] {
        let account = harness.directory + "/service-account.json"
        let json = try JSONSerialization.data(withJSONObject: [
            "type": "service_account", "project_id": "replyflow-test", "private_key_id": "k1", "private_key": FakeFCMServer.testPrivateKeyPEM,
            "client_email": "push@replyflow-test.iam.gserviceaccount.com", "token_uri": failing + "/token",
        ])
        try json.write(to: URL(fileURLWithPath: account))
        // Every app message pushes too, so a push (and FCM's token request) fails as well.
        try """
        name: Push for the test
        on: app_message
        do:
          - push:
              text: "{{message.text}}"
        """.write(toFile: harness.configuration.flowsDirectory + "/push-test.yaml", atomically: true, encoding: .utf8)
        return ServerProcess.environment(harness, port: port).merging([
            "LOG_LEVEL": "trace", "LOG_FORMAT": format.rawValue,
            "BOT_TOKEN": botToken, "GROUP_CHAT_ID": "-100555", "TELEGRAM_API_URL": failing, "TELEGRAM_POLL_TIMEOUT": "1",
            "TELEGRAM_WEBHOOK_SECRET": telegramWebhookSecret, "API_KEY": apiKey,
            "BREVO_API_KEY": brevoKey, "BREVO_AGENT_ID": "agent-1", "BREVO_API_URL": failing, "BREVO_WEBHOOK_SECRET": brevoWebhookSecret,
            "OPENAI_API_KEY": aiKey, "OPENAI_BASE_URL": failing, "OPENAI_MAX_ATTEMPTS": "1",
            "FCM_SERVICE_ACCOUNT_PATH": account, "FCM_API_URL": failing,
        ]) { $1 }
    }

    /// What the test does as the app, an API client, a member of staff and Brevo.
    static func exercise(_ request: (String, String, [String: String], String?) async throws -> Int) async throws {
        let json = ["Content-Type": "application/json"]
        #expect(try await request("POST", "/register_device", json, #"{"user_id": "u1", "fcm_token": "device-token-1"}"#) == 200)
        #expect(try await request("POST", "/send_message", json, #"{"user_id": "u1", "user_name": "Ann", "message": "hello"}"#) == 200)
        _ = try await request("POST", "/api/messages", json.merging(["X-API-Key": apiKey]) { $1 }, #"{"source": "app", "platformChatId": "u1", "text": "hi"}"#)
        #expect(try await request("GET", "/api/chats", ["X-API-Key": apiKey + "x"], nil) == 401)
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        _ = try await request("POST", "/admin/login", form, "username=ann&password=\(staffPassword)")
        // An Instagram visitor: the AI is asked (and fails), then staff answer (Brevo fails).
        let visitor = FakeBrevoServer.webhookEvent(
            visitorID: "visitor-1", messages: [FakeBrevoServer.visitorMessage(id: "in-1", visitorID: "visitor-1", text: "hello")])
        #expect(try await request("POST", "/webhooks/brevo/\(brevoWebhookSecret)", json, visitor.jsonString) == 200)
        _ = try await request(
            "POST", "/api/messages", json.merging(["X-API-Key": apiKey]) { $1 }, #"{"source": "instagram", "platformChatId": "visitor-1", "text": "hi"}"#)
        _ = try await request("POST", "/webhooks/brevo/\(brevoWebhookSecret)", json, "{not json")
        _ = try await request("POST", "/webhooks/brevo/wrong-\(brevoWebhookSecret)", json, "{}")
        _ = try await request("POST", "/webhooks/telegram", json.merging(["X-Telegram-Bot-Api-Secret-Token": telegramWebhookSecret]) { $1 }, "{}")
        // Polls, deliveries and their retries fail meanwhile.
        try await Task.sleep(for: .seconds(3))
    }

    /// Checks the captured lines: some were written by each failing path, none holds a secret.
    static func check(_ text: String, format: LogFormat) {
        #expect(text.contains("getUpdates"), "a Telegram poll failed and was logged")
        #expect(text.contains("delivery failed"), "a delivery failed and was logged")
        #expect(text.contains("FCM"), "a push failed and was logged")
        #expect(text.contains("login failed"), "a sign-in failed and was logged")
        // The failures quote Telegram's path, the token taken out by the client or the log.
        #expect(text.contains("/bot<token>/getUpdates") || text.contains("/bot[redacted]/getUpdates"), "the error quoted the request's path")
        for secret in secrets {
            #expect(!text.contains(secret), "\(format): \(secret) appears in the log")
        }
        if format == .json {
            let lines = text.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                #expect(object?["message"] is String && object?["level"] is String && object?["time"] is String, "not a log object: \(line)")
            }
        }
    }

    @Test("in process: every line the server logs, through the handler serve uses", arguments: LogFormat.allCases)
    func inProcess(format: LogFormat) async throws {
        let failing = EchoingFailureServer()
        let failingURL = try await failing.start()
        defer { Task { await failing.stop() } }
        var harness = try ServerHarness()
        defer { harness.remove() }
        let environment = try Self.environment(harness, failing: failingURL, port: 0, format: format)
        harness.configuration = try ServerConfiguration.load(environment: environment)
        harness.configuration.staffBcryptCost = 4
        let captured = CapturedLog()
        let logger = ServerLog.logger(for: harness.configuration, output: captured.output)
        let app = try ReplyflowServer.buildApplication(configuration: harness.configuration, logger: logger)
        try await app.application.test(.live) { client in
            try await Self.exercise { method, path, headers, body in
                var fields = HTTPFields()
                for (name, value) in headers { fields[.init(name)!] = value }
                let response = try await client.execute(
                    uri: path, method: HTTPRequest.Method(rawValue: method)!, headers: fields, body: body.map { ByteBuffer(string: $0) })
                return Int(response.status.code)
            }
        }
        Self.check(captured.all, format: format)
    }

    @Test("the real replyflow serve: its whole output, start-up and shutdown included", arguments: LogFormat.allCases)
    func realProcess(format: LogFormat) async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let failing = EchoingFailureServer()
        let failingURL = try await failing.start()
        defer { Task { await failing.stop() } }
        let harness = try ServerHarness()
        defer { harness.remove() }
        let environment = try Self.environment(harness, failing: failingURL, port: try ServerProcess.freePort(), format: format)
        let server = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/serve.log")
        defer { server.kill() }
        try await server.waitForHealth()
        try await Self.exercise { method, path, headers, body in
            try await server.request(method, path, headers: headers, body: body).status
        }
        server.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(15)
        while server.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        server.kill()
        Self.check(try String(contentsOfFile: server.logPath, encoding: .utf8), format: format)
    }
}

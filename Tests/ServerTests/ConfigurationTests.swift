import Foundation
import Testing

@testable import Server
import TestSupport

@Suite("Configuration", .machineShare)
struct ConfigurationTests {
    @Test func defaultsAreTheSeedServers() throws {
        let configuration = try ServerConfiguration.load(environment: [:])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 5000)
        #expect(configuration.databasePath == "data/replyflow.sqlite")
        #expect(configuration.uploadsDirectory == "uploads")
        #expect(configuration.flowsDirectory == "flows")
        #expect(configuration.timeZone.secondsFromGMT() == 0)
        #expect(configuration.rateLimitPerUser == 30)
        #expect(configuration.rateLimitPerAddress == 0)
        #expect(!configuration.telegramEnabled)
    }

    @Test func adminPanelSettings() throws {
        let defaults = try ServerConfiguration.load(environment: [:])
        #expect(defaults.adminSessionIdleMinutes == 60 && defaults.adminSessionMaxHours == 12 && defaults.staffBcryptCost == 12)
        let set = try ServerConfiguration.load(environment: ["ADMIN_SESSION_IDLE_MINUTES": "15", "ADMIN_SESSION_MAX_HOURS": "8", "STAFF_BCRYPT_COST": "10"])
        #expect(set.adminSessionIdleMinutes == 15 && set.adminSessionMaxHours == 8 && set.staffBcryptCost == 10)
        for (key, value) in [("ADMIN_SESSION_IDLE_MINUTES", "0"), ("ADMIN_SESSION_MAX_HOURS", "a day"), ("STAFF_BCRYPT_COST", "3")] {
            let error = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.load(environment: [key: value]) }
            #expect(error?.description.contains(key) == true)
        }
    }

    @Test func environmentWinsOverDotEnv() throws {
        let dotEnv = try DotEnv.parse(
            """
            # comment
            export BOT_TOKEN="123:abc"
            GROUP_CHAT_ID=-1001
            SERVER_PORT=6000 # inline comment
            TELEGRAM_TOPICS=on
            TRUSTED_PROXIES=10.0.0.1, 10.0.0.2
            """, path: ".env")
        let configuration = try ServerConfiguration.load(environment: ["SERVER_PORT": "7000"], dotEnv: dotEnv)
        #expect(configuration.port == 7000)
        #expect(configuration.botToken == "123:abc")
        #expect(configuration.groupChatID == -1001)
        #expect(configuration.telegramTopics)
        #expect(configuration.telegramEnabled)
        #expect(configuration.trustedProxies == ["10.0.0.1", "10.0.0.2"])
    }

    @Test func brevoAndTheAIAreOnOnlyWhenConfigured() throws {
        let none = try ServerConfiguration.load(environment: [:])
        #expect(!none.brevoEnabled)
        #expect(!none.openAI.enabled)
        #expect(none.openAI.baseURL == "https://api.openai.com/v1")
        #expect(none.openAI.mode == .responses)
        let local = try ServerConfiguration.load(environment: ["OPENAI_BASE_URL": "http://localhost:11434/v1/", "OPENAI_API_MODE": "chat_completions"])
        #expect(local.openAI.enabled)
        #expect(local.openAI.apiKey == nil)
        #expect(local.openAI.baseURL == "http://localhost:11434/v1")
        #expect(local.openAI.mode == .chatCompletions)
        let brevo = try ServerConfiguration.load(environment: [
            "BREVO_API_KEY": "xkeysib-1", "BREVO_AGENT_ID": "agent", "BREVO_WEBHOOK_SECRET": "0123456789abcdef-_", "OPENAI_API_KEY": "sk-1",
        ])
        #expect(brevo.brevoEnabled)
        #expect(brevo.brevoWebhookSecret == "0123456789abcdef-_")
        #expect(brevo.openAI.enabled)
        #expect(brevo.openAI.visionModel == nil)
    }

    @Test func mistakesAreOneClearLine() {
        func message(_ environment: [String: String]) -> String {
            do {
                _ = try ServerConfiguration.load(environment: environment)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(message(["SERVER_PORT": "http"]).contains("SERVER_PORT=http is not a whole number"))
        #expect(message(["GROUP_CHAT_ID": "staff"]).contains("GROUP_CHAT_ID=staff"))
        #expect(message(["REQUEST_TIMEOUT_SECONDS": "0"]).contains("REQUEST_TIMEOUT_SECONDS=0 is not a whole number between 1 and 3600"))
        #expect(message(["IDLE_TIMEOUT_SECONDS": "1m"]).contains("IDLE_TIMEOUT_SECONDS=1m is not a whole number"))
        #expect(message(["TIMEZONE": "Mars/Base"]).contains("TIMEZONE=Mars/Base"))
        #expect(message(["TELEGRAM_TOPICS": "maybe"]).contains("on or off"))
        #expect(message(["TELEGRAM_WEBHOOK_SECRET": "has space"]).contains("TELEGRAM_WEBHOOK_SECRET"))
        #expect(message(["BREVO_WEBHOOK_SECRET": "short"]).contains("BREVO_WEBHOOK_SECRET must be at least 16"))
        #expect(message(["BREVO_API_URL": "brevo.com"]).contains("BREVO_API_URL=brevo.com is not an http(s) URL"))
        #expect(message(["OPENAI_API_MODE": "assistants"]).contains("OPENAI_API_MODE=assistants must be one of responses, chat_completions"))
        #expect(message(["OPENAI_BASE_URL": "localhost:11434"]).contains("OPENAI_BASE_URL=localhost:11434 is not an http(s) URL"))
        #expect(message(["OPENAI_MAX_ATTEMPTS": "0"]).contains("OPENAI_MAX_ATTEMPTS=0"))
        #expect(message(["OPENAI_INSTRUCTIONS_FILE": "/nonexistent/prompt.txt"]).contains("cannot be read"))
        #expect(throws: DotEnv.Failure.self) { try DotEnv.parse("JUST TEXT", path: ".env") }
        #expect(throws: DotEnv.Failure.self) { try DotEnv.parse("A=\"open", path: ".env") }
    }

    @Test func aFlowErrorStopsStartUpWithItsPosition() throws {
        let harness = try ServerHarness(flows: ["broken.yaml": "name: Broken\non: app_mesage\ndo:\n  - stop\n"])
        defer { harness.remove() }
        do {
            _ = try harness.build()
            Issue.record("start-up should have failed")
        } catch let error as StartupError {
            #expect(error.description.contains("broken.yaml:2:5"))
            // The command that exists (`replyflow check DIR`), not a made-up option.
            #expect(error.description.contains("run `replyflow check \(harness.configuration.flowsDirectory)`"), "\(error)")
            #expect(!error.description.contains("--flows"))
        }
    }

    @Test func aMalformedServiceAccountStopsStartUp() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let path = harness.directory + "/account.json"
        try "{\"type\": \"service_account\"".write(toFile: path, atomically: true, encoding: .utf8)
        harness.configuration.fcmServiceAccountPath = path
        #expect(throws: StartupError.self) { _ = try harness.build() }
    }
}

@Suite("Telegram forwarding text", .machineShare)
struct ForwardTextTests {
    @Test func headerEscapesNamesAndIDs() {
        let header = TelegramForwarder.header(userID: "<42>", userName: "Ann & <b>Bob</b>")
        #expect(header == "👤 <b>Ann &amp; &lt;b&gt;Bob&lt;/b&gt;</b> (ID: <code>&lt;42&gt;</code>)")
    }

    @Test func longTextIsSplitNeverCut() {
        let text = String(repeating: "Слово <тег> & ещё ", count: 800)  // about 14,400 characters
        let header = TelegramForwarder.header(userID: "1", userName: "A")
        let pieces = TelegramForwarder.pieces(header: header, text: text, firstLimit: 4096, restLimit: 4096)
        #expect(pieces.count >= 4)
        for piece in pieces { #expect(TelegramForwarder.visibleLength(piece) <= 4096) }
        // Unescaped and joined, the pieces hold every word of the original.
        let visible = pieces.dropFirst().reduce(String(pieces[0].dropFirst(header.count + 2))) { $0 + " " + $1 }
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        #expect(visible.split(separator: " ") == text.split(separator: " "))
    }

    @Test func aNameOfCombiningMarksStillLeavesRoomForTheText() {
        let name = "Z" + String(repeating: "\u{0301}", count: 2_000)
        let header = TelegramForwarder.header(userID: "1", userName: name)
        let pieces = TelegramForwarder.pieces(header: header, text: "hello", firstLimit: 1024, restLimit: 4096)
        #expect(pieces.allSatisfy { TelegramForwarder.visibleLength($0) <= 1024 })
        #expect(pieces.joined().contains("hello"))
    }

    @Test func captionsUseTheCaptionLimit() {
        let text = String(repeating: "a", count: 3000)
        let pieces = TelegramForwarder.pieces(header: "H", text: text, firstLimit: 1024, restLimit: 4096)
        #expect(TelegramForwarder.visibleLength(pieces[0]) <= 1024)
        #expect(pieces.count == 2)
        #expect(pieces.joined().count == 3000 + 1 + 2)
    }
}

@Suite("History items", .machineShare)
struct HistoryItemTests {
    @Test func createdAtIsUTCToTheSecondLikeSQLite() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // From 1901 to 2099, fractional seconds included.
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_177_452_800...4_102_444_799, using: &generator)) + 0.75)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            #expect(HistoryItem.format(date) == expected)
        }
        #expect(HistoryItem.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29 00:00:00")
    }
}

// Fake Telegram, FCM, Brevo and OpenAI servers on loopback, for benchmarks and trying the server by hand:
//
//     swift run replyflow-fakes /tmp/fakes.env
//
// writes the settings that point `replyflow serve` at them (BOT_TOKEN, GROUP_CHAT_ID,
// TELEGRAM_API_URL, FCM_SERVICE_ACCOUNT_PATH, FCM_API_URL, BREVO_*, OPENAI_*) to the given file, prints them,
// and runs until interrupted. Requests are checked against the services' published shapes;
// violations are printed as they happen.
import Foundation
import TestServers

let output = CommandLine.arguments.dropFirst().first ?? "fakes.env"
let telegram = FakeTelegramServer()
let fcm = FakeFCMServer()
let brevo = FakeBrevoServer()
let openAI = FakeOpenAIServer()
let telegramURL = try await telegram.start()
let fcmURL = try await fcm.start()
let brevoURL = try await brevo.start()
let openAIURL = try await openAI.start()
let accountPath =
    (output as NSString).deletingLastPathComponent.isEmpty
    ? "fake-service-account.json" : (output as NSString).deletingLastPathComponent + "/fake-service-account.json"
try await fcm.serviceAccountJSON().write(toFile: accountPath, atomically: true, encoding: .utf8)
let settings = """
    BOT_TOKEN=\(telegram.token)
    GROUP_CHAT_ID=-1001000000001
    TELEGRAM_API_URL=\(telegramURL.absoluteString)
    FCM_SERVICE_ACCOUNT_PATH=\(accountPath)
    FCM_API_URL=\(fcmURL.absoluteString)
    BREVO_API_URL=\(brevoURL.absoluteString)
    BREVO_API_KEY=\(brevo.apiKey)
    BREVO_AGENT_ID=fake-agent
    OPENAI_BASE_URL=\(openAIURL.absoluteString)
    OPENAI_API_KEY=\(openAI.apiKey)

    """
try settings.write(toFile: output, atomically: true, encoding: .utf8)
print(settings, terminator: "")
FileHandle.standardOutput.synchronizeFile()

var reported = 0
var lastCounts = (0, 0, 0, 0)
while true {
    try await Task.sleep(for: .seconds(1))
    let brevoViolations = await brevo.messages().compactMap(\.violation)
    let openAIViolations = await openAI.requests().compactMap(\.violation)
    let violations = await telegram.violations() + fcm.violations() + brevoViolations + openAIViolations
    for line in violations.dropFirst(reported) { print("violation: \(line)") }
    reported = violations.count
    let sent = await telegram.requestCount(method: nil)
    let pushes = await fcm.messages().count
    let instagram = await brevo.messages().count
    let ai = await openAI.requests().count
    if (sent, pushes, instagram, ai) != lastCounts {
        lastCounts = (sent, pushes, instagram, ai)
        print("telegram requests: \(sent), fcm messages: \(pushes), brevo messages: \(instagram), openai requests: \(ai)")
    }
}

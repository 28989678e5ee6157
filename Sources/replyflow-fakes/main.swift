// Fake Telegram, FCM, Brevo and OpenAI servers on loopback, for benchmarks and trying the server by hand:
//
//     swift run replyflow-fakes /tmp/fakes.env
//
// writes the settings that point `replyflow serve` at them (BOT_TOKEN, GROUP_CHAT_ID,
// TELEGRAM_API_URL, FCM_SERVICE_ACCOUNT_PATH, FCM_API_URL, BREVO_*, OPENAI_*) to the given file, prints them
// and how to make the fake Telegram deliver a staff reply or a customer's message (see
// TestServers' TelegramFakeControl), and runs until interrupted, printing each request the
// fakes receive as it arrives. Requests are checked against the services' published shapes;
// violations are printed too.
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
printNow(settings)
printNow(
    """
    Telegram delivers to the server (by getUpdates, or to its webhook once it set one):
      a staff reply:  curl -d '{"reply_to": MESSAGE_ID, "text": "Hello from staff"}' \(telegramURL.absoluteString)/fake/staff-reply
      with a photo:   curl -F reply_to=MESSAGE_ID -F photo=@picture.jpg -F caption=Look \(telegramURL.absoluteString)/fake/staff-reply
      a customer:     curl -d '{"user_id": 5550001, "first_name": "Anna", "text": "Hi"}' \(telegramURL.absoluteString)/fake/private-message
    MESSAGE_ID: the message_id of a message the bot sent to the group, printed below as it is sent.
    """)

let printer = ActivityPrinter(telegram: telegram, fcm: fcm, brevo: brevo, openAI: openAI)
while true {
    try await Task.sleep(for: .milliseconds(200))
    await printer.printNew()
}

import Foundation
import TestServers

/// Writes `text` and a line break to standard output at once: `print` would keep it in a
/// buffer when the output is a pipe or a file, and whoever watches would see nothing.
func printNow(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints what the fakes received since it last looked, one line per request, then any new
/// violations of the services' published shapes.
actor ActivityPrinter {
    let telegram: FakeTelegramServer
    let fcm: FakeFCMServer
    let brevo: FakeBrevoServer
    let openAI: FakeOpenAIServer
    /// Records are only appended (nothing here resets them), so what is new is what lies
    /// past the count looked at before, per list.
    private var seen: [String: Int] = [:]
    /// Records seen while still in flight (a Telegram long poll is recorded when it starts),
    /// printed once they are answered.
    private var inFlight: [String: [Int]] = [:]

    init(telegram: FakeTelegramServer, fcm: FakeFCMServer, brevo: FakeBrevoServer, openAI: FakeOpenAIServer) {
        self.telegram = telegram
        self.fcm = fcm
        self.brevo = brevo
        self.openAI = openAI
    }

    func printNew() async {
        let sent = await telegram.requests()
        let pushes = await fcm.messages()
        let instagram = await brevo.messages()
        let questions = await openAI.requests()
        printNew("telegram", sent, answered: { $0.responseStatus != 0 }) { $0.line }
        printNew("fcm", pushes) { $0.line }
        printNew("brevo", instagram) { $0.line }
        printNew("openai", questions) { $0.line }
        printNew("telegram violations", await telegram.violations()) { "violation: \($0)" }
        printNew("fcm violations", await fcm.violations()) { "violation: \($0)" }
        printNew("brevo violations", instagram.compactMap(\.violation)) { "violation: \($0)" }
        printNew("openai violations", questions.compactMap(\.violation)) { "violation: \($0)" }
    }

    /// Formats only records not printed before: a benchmark's fakes hold hundreds of thousands.
    private func printNew<Record>(
        _ list: String, _ records: [Record], answered: (Record) -> Bool = { _ in true }, _ line: (Record) -> String?
    ) {
        var waiting: [Int] = []
        for index in inFlight[list, default: []] + Array(records.indices.dropFirst(seen[list, default: 0])) {
            guard answered(records[index]) else {
                waiting.append(index)
                continue
            }
            if let text = line(records[index]) { printNow(text) }
        }
        inFlight[list] = waiting
        seen[list] = records.count
    }
}

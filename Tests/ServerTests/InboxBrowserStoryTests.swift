import Foundation
import TestSupport
import Testing

/// The admin panel in a real browser (headless Chromium driven by selenium,
/// `python/browser_story.py`), against the real `replyflow serve` and the fake Telegram of
/// `replyflow-fakes`. The inbox: accounts made with `replyflow users add`, a customer's
/// Telegram chat appearing live, a reply that reaches Telegram, taking over from the AI and
/// giving back, a hostile name shown as text, a cross-site post refused, logout, and an
/// agent refused the users page. Then the flow studio: an editor types a misspelt action and
/// sees the error at its line within a second, fixes it, tries the draft on a history
/// fetch, compares it with the live flows on the week's events, saves, sees the server greet
/// with the new text, and restores the old version. Run once, in one browser: the
/// router-level tests cover each rule in detail.
@Suite("The panel in a browser", .serialized, .machineShare)
struct InboxBrowserStoryTests {
    static let apiKey = "browser-story-key"

    @Test(.timeLimit(.minutes(8))) func aSupportLeadWorksTheInbox() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        // Chromium takes both cores of a small machine for a minute: it takes its turn among
        // the heavy stories, then waits until the machine is quiet (the other tests are
        // done), for two minutes at most.
        await HeavyStoryTurn.shared.take()
        defer { HeavyStoryTurn.shared.release() }
        await Self.waitForQuietMachine(atMost: .seconds(120))
        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
            "the browser story needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver (.ci/run does)")
        try await TryItByHandTests.Scene.run(webhook: false, settings: ["API_KEY": Self.apiKey]) { scene in
            let database = try #require(scene.environment["DATABASE_PATH"])
            let adminPassword = "lead-password-1", agentPassword = "sam-password-1", editorPassword = "erin-password-1"
            try Self.users(binary, ["add", "lead", "--role", "admin", "--password-stdin", "--db", database], input: adminPassword)
            try Self.users(binary, ["add", "sam", "--role", "agent", "--password-stdin", "--db", database], input: agentPassword)
            try Self.users(binary, ["add", "erin", "--role", "editor", "--password-stdin", "--db", database], input: editorPassword)

            let screens = scene.directory + "/screens"
            let story = try ChatClientProcess(
                script: "browser_story.py",
                arguments: [scene.server.url(""), scene.telegramURL, Self.apiKey, adminPassword, agentPassword, editorPassword, screens])
            defer { story.stop() }
            _ = try await story.line("the end of the story", timeout: .seconds(230)) { $0 == "story: done" }
            let live = try await story.line(startingWith: "live: ")
            let check = try await story.line(startingWith: "check: ")
            print("panel browser story: a new chat reached the open page in \(live.dropFirst("live: ".count)); a typed mistake was pointed out in \(check.dropFirst("check: ".count))")

            // The fake Telegram received the staff reply, and never the forged one.
            let sent = try await scene.fakes.line("the staff reply sent to the customer") {
                $0.hasPrefix("telegram  sendMessage to 7770001 ") && $0.contains("Your order ships today")
            }
            #expect(!sent.isEmpty)
            let forged = try? await scene.fakes.line("a forged reply", timeout: .milliseconds(300)) { $0.contains("forged") }
            #expect(forged == nil, "the cross-site reply reached Telegram: \(forged ?? "")")

            // The file the editor changed holds the restored greeting again.
            let greeting = try String(contentsOfFile: try #require(scene.environment["FLOWS_DIR"]) + "/daily-greeting.yaml", encoding: .utf8)
            #expect(greeting.contains("Здравствуйте") && !greeting.contains("Добрый день"), "\(greeting)")

            // The README's screenshots come from this run when asked for.
            if let target = ProcessInfo.processInfo.environment["REPLYFLOW_SCREENSHOT_DIR"] {
                for name in ["inbox.png", "studio-mistake.png", "studio-compare.png", "studio-history.png"] {
                    try? FileManager.default.removeItem(atPath: target + "/" + name)
                    try FileManager.default.copyItem(atPath: screens + "/" + name, toPath: target + "/" + name)
                }
            }
        }
    }

    /// `replyflow users ...` with `input` on its standard input; fails the test with its output.
    static func users(_ binary: String, _ arguments: [String], input: String) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["users"] + arguments
        let stdin = Pipe(), output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        stdin.fileHandleForWriting.write(Data((input + "\n").utf8))
        try stdin.fileHandleForWriting.close()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "replyflow users \(arguments.joined(separator: " ")): \(printed)")
    }

    /// Waits until three one-second samples of `/proc/stat` in a row show the machine at
    /// least 60% idle (on two cores: not even one busy), or `atMost` has passed.
    static func waitForQuietMachine(atMost limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        var quietSamples = 0
        var previous = cpuTimes()
        while ContinuousClock.now < deadline, quietSamples < 3 {
            try? await Task.sleep(for: .seconds(1))
            let now = cpuTimes()
            guard let before = previous, let after = now, after.total > before.total else { return }
            let idle = Double(after.idle - before.idle) / Double(after.total - before.total)
            quietSamples = idle >= 0.6 ? quietSamples + 1 : 0
            previous = now
        }
    }

    /// All CPUs' time so far, and the idle part of it, in clock ticks (nil where there is no `/proc`).
    static func cpuTimes() -> (total: Int, idle: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
        guard fields.count >= 5 else { return nil }
        // user nice system idle iowait ...: idle and iowait are the idle part.
        return (fields.reduce(0, +), fields[3] + fields[4])
    }
}

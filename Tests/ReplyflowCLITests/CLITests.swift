import Flows
import Foundation
import Storage
import TestSupport
import Testing

@testable import ReplyflowCLI

// The commands as people (and outside checks) use them: exit codes, `path:line:col: error:`
// lines, the dry-run JSON contract, test failures that point at the test, replay summaries.

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let defaultFlows = packageRoot.appendingPathComponent("flows").path

/// One folder per test process for every temporary directory, removed when the process exits.
let cliTestsScratch: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("replyflow-cli-tests-\(ProcessInfo.processInfo.processIdentifier)")
    atexit { try? FileManager.default.removeItem(at: cliTestsScratch) }
    return root
}()

/// A fresh temporary directory holding `files` (relative path → contents).
func makeDirectory(_ files: [String: String]) throws -> String {
    let root = cliTestsScratch.appendingPathComponent(UUID().uuidString)
    for (path, contents) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    return root.path
}

func options(_ arguments: [String] = []) throws -> RuntimeOptions {
    try RuntimeOptions.parse(["--timezone", "UTC", "--auto-mode-default", "on"] + arguments)
}

/// The lines of some output, without the trailing empty one.
func lines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
}

/// The value printed after `label` on a summary row (`  label      value`).
private func row(_ text: String, _ label: String) -> String? {
    for line in lines(text) where line.hasPrefix("  ") {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(label + " ") else { continue }
        return trimmed.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

private let forwardFlow = """
    name: Forward
    on: app_message
    priority: 1
    do:
      - forward_to_group: {}

    """

private let gateFlow = """
    name: Gate
    on: app_message
    priority: 2
    if:
      auto_mode: on
    do:
      - reply: "Hi{{#user.name}} {{user.name}}{{/user.name}}!"

    """

private let greetingFlow = """
    name: Greeting
    on: history_first_fetch_today
    do:
      - greet: "Hello!"

    """

@Suite("CLI: check", .machineShare)
struct CheckCommandTests {
    @Test("check exits 0 on the default flows and says they are valid")
    func defaultFlowsAreValid() {
        let (console, output) = Console.capturing()
        let code = CheckCommand.check(directory: defaultFlows, console: console)
        #expect(code == 0, "\(output.out)\(output.error)")
        #expect(!output.out.contains("error"))
        #expect(output.out.contains("are valid"))
    }

    @Test("check exits 1 and prints one path:line:col: error: line per problem, in flows and in tests")
    func brokenFlows() throws {
        let directory = try makeDirectory([
            "good.yaml": forwardFlow,
            "bad.yaml": "name: Bad\non: app_message\npriorty: 5\ndo:\n  - replly: hi\n",
            "tests/broken.yaml": "name: broken test\nsteps:\n  - event: { kind: app_mesage, user: { id: \"1\" } }\n",
        ])
        let (console, output) = Console.capturing()
        let code = CheckCommand.check(directory: directory, console: console)
        #expect(code == 1)
        let out = lines(output.out)
        #expect(out.contains { $0.hasPrefix("\(directory)/bad.yaml:3:1: error: unknown key 'priorty'") && $0.contains("did you mean 'priority'?") }, "\(out)")
        #expect(out.contains { $0.hasPrefix("\(directory)/bad.yaml:5:5: error: unknown action 'replly'") }, "\(out)")
        #expect(out.contains { $0.hasPrefix("\(directory)/tests/broken.yaml:3:") && $0.contains("error: ") && $0.contains("app_mesage") }, "\(out)")
        #expect(!out.contains { $0.contains("good.yaml") }, "a valid file has nothing to report")
        // Every diagnostic line has the contract's shape.
        let diagnostics = out.filter { $0.hasPrefix(directory) }
        #expect(diagnostics.count >= 3)
        for line in diagnostics {
            #expect(line.range(of: #"^[^:]+:\d+:\d+: (error|warning): .+"#, options: .regularExpression) != nil, "\(line)")
        }
    }

    @Test("check of a directory that does not exist exits 1 with a positioned error")
    func missingDirectory() {
        let (console, output) = Console.capturing()
        let missing = "/nonexistent/replyflow-\(UUID().uuidString)"
        #expect(CheckCommand.check(directory: missing, console: console) == 1)
        #expect(output.out.hasPrefix("\(missing):1:1: error:"))
    }

    @Test("warnings alone keep exit 0 and are printed")
    func warningsOnly() throws {
        let directory = try makeDirectory(["w.yaml": "name: W\non: app_message\ndo:\n  - stop: {}\n  - reply: x\n"])
        let (console, output) = Console.capturing()
        #expect(CheckCommand.check(directory: directory, console: console) == 0)
        #expect(output.out.contains("\(directory)/w.yaml:5:5: warning:"))
    }
}

@Suite("CLI: dry-run", .machineShare)
struct DryRunCommandTests {
    static func flows() throws -> String {
        try makeDirectory(["forward.yaml": forwardFlow, "gate.yaml": gateFlow, "greeting.yaml": greetingFlow])
    }

    static let event = """
        kind: app_message
        at: 2026-11-20T10:00:00+03:00
        user: { id: "42", name: "Анна" }
        chat: { auto_mode: off }
        message: { text: "Где мой заказ?" }

        """

    @Test("--json prints the contract: actions {flow, type, text} and flows {name, result, reason}")
    func jsonContract() async throws {
        let flows = try Self.flows()
        let directory = try makeDirectory(["event.yaml": Self.event])
        let (console, output) = Console.capturing()
        try await DryRunCommand.dryRun(eventFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: true, console: console)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.out.utf8)) as? [String: Any], "\(output.out)")

        let actions = try #require(json["actions"] as? [[String: Any]])
        #expect(actions.count == 1)
        #expect(actions.first?["flow"] as? String == "Forward")
        #expect(actions.first?["type"] as? String == "forward_to_group")
        #expect(actions.first?["text"] as? String == "Где мой заказ?")

        let flowList = try #require(json["flows"] as? [[String: Any]])
        #expect(flowList.map { $0["name"] as? String } == ["Forward", "Gate"])
        #expect(flowList.map { $0["result"] as? String } == ["ran", "skipped"])
        for flow in flowList { #expect(flow.keys.contains("reason"), "reason is always present") }
        #expect(flowList[0]["reason"] is NSNull, "null when the flow ran")
        #expect(flowList[1]["reason"] as? String == "auto_mode is off, the flow wants on")
        #expect(json["trigger"] as? String == "app_message")
    }

    @Test("--json renders templates in action texts")
    func jsonRenderedText() async throws {
        let flows = try Self.flows()
        let directory = try makeDirectory(["event.yaml": Self.event.replacingOccurrences(of: "auto_mode: off", with: "auto_mode: on")])
        let (console, output) = Console.capturing()
        try await DryRunCommand.dryRun(eventFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: true, console: console)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.out.utf8)) as? [String: Any])
        let actions = try #require(json["actions"] as? [[String: Any]])
        #expect(actions.map { $0["type"] as? String } == ["forward_to_group", "reply"])
        #expect(actions.last?["text"] as? String == "Hi Анна!")
        #expect(actions.last?["flow"] as? String == "Gate")
        let flowList = try #require(json["flows"] as? [[String: Any]])
        #expect(flowList.allSatisfy { $0["result"] as? String == "ran" && $0["reason"] is NSNull })
    }

    @Test("without --json, the text says which flows ran and why others were skipped")
    func textOutput() async throws {
        let flows = try Self.flows()
        let directory = try makeDirectory(["event.yaml": Self.event])
        let (console, output) = Console.capturing()
        try await DryRunCommand.dryRun(eventFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: false, console: console)
        #expect(output.out.contains("ran"))
        #expect(
            lines(output.out).contains { $0.contains("skipped") && $0.contains("Gate") && $0.contains("auto_mode is off, the flow wants on") }, "\(output.out)")
        #expect(output.out.contains("forward_to_group: \"Где мой заказ?\""))
    }

    @Test("a bad event file is an error with its position, and exit 1")
    func badEventFile() async throws {
        let flows = try Self.flows()
        let directory = try makeDirectory(["event.yaml": "kind: app_mesage\nuser: { id: \"1\" }\n"])
        let (console, output) = Console.capturing()
        await #expect(throws: (any Error).self) {
            try await DryRunCommand.dryRun(eventFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: true, console: console)
        }
        #expect(output.error.contains("\(directory)/event.yaml:1:7: error: unknown event kind 'app_mesage'"), "\(output.error)")
        #expect(output.error.contains("did you mean 'app_message'?"))
        #expect(output.out.isEmpty, "no JSON for an event that could not be read")
    }

    @Test("flows with errors: nothing runs, the errors are printed")
    func brokenFlows() async throws {
        let flows = try makeDirectory(["bad.yaml": "name: Bad\non: app_mesage\ndo:\n  - reply: x\n"])
        let directory = try makeDirectory(["event.yaml": Self.event])
        let (console, output) = Console.capturing()
        await #expect(throws: (any Error).self) {
            try await DryRunCommand.dryRun(eventFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: true, console: console)
        }
        #expect(output.error.contains("\(flows)/bad.yaml:2:5: error: unknown trigger 'app_mesage'"))
        #expect(output.out.isEmpty)
    }
}

@Suite("CLI: test", .machineShare)
struct TestCommandTests {
    static let failingTest = """
        name: greeting text
        steps:
          - event: { kind: app_message, at: 2026-11-20T10:00:00Z, user: { id: "1", name: "Bob" }, message: { text: "hi" } }
            expect:
              - forward_to_group: "hi"
              - reply: "Hello, Bob!"

        """

    static let passingTest = """
        name: greeting passes
        steps:
          - event: { kind: app_message, at: 2026-11-20T10:00:00Z, user: { id: "1", name: "Bob" }, message: { text: "hi" } }
            expect:
              - forward_to_group: "hi"
              - reply: "Hi Bob!"
          - event: { kind: app_message, at: 2026-11-20T10:01:00Z, user: { id: "1" }, chat: { auto_mode: off }, message: { text: "x" } }
            expect:
              - forward_to_group: "x"

        """

    @Test("a failing test exits 1, names the test file and line, and shows expected against actual")
    func failingTest() async throws {
        let directory = try makeDirectory(["forward.yaml": forwardFlow, "gate.yaml": gateFlow, "tests/fail.yaml": Self.failingTest])
        let (console, output) = Console.capturing()
        let code = try await TestCommand.test(directory: directory, options: try options(), console: console)
        #expect(code == 1)
        let out = output.out
        #expect(out.contains("FAIL"))
        // The step is the `- event:` item on line 3, its map starting in column 5.
        #expect(out.contains("\(directory)/tests/fail.yaml:3:5"), "\(out)")
        let expectedIndex = try #require(out.range(of: "expected:"))
        let actualIndex = try #require(out.range(of: "actual:"))
        #expect(expectedIndex.lowerBound < actualIndex.lowerBound)
        let expectedPart = out[expectedIndex.upperBound..<actualIndex.lowerBound]
        let actualPart = out[actualIndex.upperBound...]
        #expect(expectedPart.contains("- reply: \"Hello, Bob!\""))
        #expect(actualPart.contains("- reply: \"Hi Bob!\""))
        #expect(actualPart.contains("- forward_to_group: \"hi\""))
        #expect(out.contains("0 passed, 1 failed"))
    }

    @Test("passing tests exit 0; state carries from step to step")
    func passingTest() async throws {
        let directory = try makeDirectory(["forward.yaml": forwardFlow, "gate.yaml": gateFlow, "tests/pass.yaml": Self.passingTest])
        let (console, output) = Console.capturing()
        let code = try await TestCommand.test(directory: directory, options: try options(), console: console)
        #expect(code == 0, "\(output.out)")
        #expect(output.out.contains("PASS"))
        #expect(output.out.contains("1 passed, 0 failed"))
    }

    @Test("the default flows' own tests pass")
    func defaultFlowTests() async throws {
        let (console, output) = Console.capturing()
        let code = try await TestCommand.test(directory: defaultFlows, options: try options(), console: console)
        #expect(code == 0, "\(output.out)\(output.error)")
        #expect(!output.out.contains("FAIL"))
    }

    @Test("no test files is exit 1, not a silent pass")
    func noTests() async throws {
        let directory = try makeDirectory(["forward.yaml": forwardFlow])
        let (console, output) = Console.capturing()
        #expect(try await TestCommand.test(directory: directory, options: try options(), console: console) == 1)
        #expect(output.out.contains("No tests"))
    }
}

@Suite("CLI: replay and experiments report", .machineShare)
struct ReplayCommandTests {
    static let events =
        [
            #"{"kind":"app_message","at":"2026-11-20T10:00:00Z","user":{"id":"1","name":"Ann"},"message":{"text":"hi"}}"#,
            #"this is not JSON"#,
            #"{"kind":"history_fetch","at":"2026-11-20T10:00:00Z","user":{"id":"1"}}"#,
            #"{"kind":"bogus","at":"2026-11-20T10:00:00Z","user":{"id":"1"}}"#,
            #"{"kind":"app_message","at":"2026-11-20T10:01:00Z","user":{"id":2},"chat":{"auto_mode":false},"message":{"text":"x"}}"#,
            "",
            #"{"kind":"history_fetch","at":"2026-11-20T11:00:00Z","user":{"id":"1"}}"#,
        ].joined(separator: "\n") + "\n"

    @Test("bad lines are reported as file:LINE:1: error:, the rest is replayed and summarised, exit 1")
    func replayWithBadLines() async throws {
        let flows = try makeDirectory(["forward.yaml": forwardFlow, "gate.yaml": gateFlow, "greeting.yaml": greetingFlow])
        let directory = try makeDirectory(["events.jsonl": Self.events])
        let file = directory + "/events.jsonl"
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(eventsFile: file, flowsDirectory: flows, options: try options(), json: false, traces: true, console: console)
        #expect(code == 1)

        let errors = lines(output.error)
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("\(file):2:1: error:") })
        #expect(errors.contains { $0.hasPrefix("\(file):4:1: error:") && $0.contains("bogus") })

        let out = output.out
        #expect(out.contains("Replayed 4 events"), "\(out)")
        #expect(out.contains("2 lines could not be read"))
        #expect(row(out, "app_message") == "2")
        #expect(row(out, "history_first_fetch_today") == "1")
        #expect(row(out, "(no trigger)") == "1")
        #expect(row(out, "Forward") == "ran 2, skipped 0")
        #expect(row(out, "Gate") == "ran 1, skipped 1")
        #expect(row(out, "Greeting") == "ran 1, skipped 0")
        #expect(row(out, "forward_to_group") == "2")
        #expect(row(out, "reply") == "1")
        #expect(row(out, "greet") == "1")
    }

    @Test("a line over the length limit is one positioned error and is skipped; the lines after it still run")
    func replayOverlongLine() async throws {
        let flows = try makeDirectory(["forward.yaml": forwardFlow])
        let long =
            #"{"kind":"app_message","user":{"id":"9"},"message":{"text":""# + String(repeating: "x", count: JSONLinesReader.maximumLineLength * 2) + #""}}"#
        let text = [
            #"{"kind":"app_message","at":"2026-11-20T10:00:00Z","user":{"id":"1"},"message":{"text":"a"}}"#,
            long,
            #"{"kind":"app_message","at":"2026-11-20T10:01:00Z","user":{"id":"2"},"message":{"text":"b"}}"#,
            String(repeating: "y", count: JSONLinesReader.maximumLineLength + 10),
        ].joined(separator: "\n")
        let directory = try makeDirectory(["events.jsonl": text])
        let file = directory + "/events.jsonl"
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(eventsFile: file, flowsDirectory: flows, options: try options(), json: false, traces: true, console: console)
        #expect(code == 1)
        let errors = lines(output.error)
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("\(file):2:1: error:") && $0.contains("longer than") })
        #expect(errors.contains { $0.hasPrefix("\(file):4:1: error:") && $0.contains("longer than") })
        #expect(output.out.contains("Replayed 2 events"), "\(output.out)")
        #expect(row(output.out, "forward_to_group") == "2")
    }

    @Test("a clean file replays with exit 0; --json prints one contract object per event")
    func replayJSON() async throws {
        let flows = try makeDirectory(["forward.yaml": forwardFlow, "gate.yaml": gateFlow])
        let good =
            Self.events.split(separator: "\n").filter { $0.hasPrefix("{") && !$0.contains("bogus") }.joined(separator: "\n")
            + "\n" + #"{"kind":"app_message","at":"2026-11-20T10:02:00Z","user":{"id":"3"},"chat":{"auto_mode":"off"},"message":{"text":"y"}}"#
        let directory = try makeDirectory(["events.jsonl": good])
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/events.jsonl", flowsDirectory: flows, options: try options(), json: true, traces: false, console: console)
        #expect(code == 0, "\(output.error)")
        let objects = try lines(output.out).map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.count == 5)
        #expect(objects.allSatisfy { $0["actions"] is [Any] && $0["flows"] is [Any] })
        // auto_mode written as JSON false and as "off": both turn the chat's auto mode off.
        for index in [2, 4] {
            let flows = try #require(objects[index]["flows"] as? [[String: Any]])
            #expect(flows.first { $0["name"] as? String == "Gate" }?["result"] as? String == "skipped", "event \(index + 1)")
        }
        let first = try #require(objects.first?["actions"] as? [[String: Any]])
        #expect(first.map { $0["type"] as? String } == ["forward_to_group", "reply"])
        #expect(first.last?["text"] as? String == "Hi Ann!")
    }

    @Test("a missing events file is exit 1 with a positioned error")
    func missingEventsFile() async throws {
        let flows = try makeDirectory(["forward.yaml": forwardFlow])
        let (console, output) = Console.capturing()
        let missing = flows + "/missing.jsonl"
        #expect(
            try await ReplayCommand.replay(eventsFile: missing, flowsDirectory: flows, options: try options(), json: false, traces: true, console: console) == 1
        )
        #expect(output.error.hasPrefix("\(missing):1:1: error:"))
    }

    static let experimentFlow = """
        name: Daily greeting
        on: history_first_fetch_today
        experiment:
          key: greeting-cli-test
          goal: { on: app_message, within: 24h }
          variants:
            - name: formal
              weight: 50
              do:
                - greet: "Здравствуйте!"
            - name: warm
              weight: 50
              do:
                - greet: "Привет!"

        """

    @Test("replay --db, then experiments report prints both variants with their exposures and conversions")
    func replayThenReport() async throws {
        let flows = try makeDirectory(["greeting.yaml": Self.experimentFlow])
        let users = (0..<40).map { "user-\($0)" }
        let converting = Set(users.prefix(12))
        var events: [String] = []
        for user in users {
            events.append(#"{"kind":"history_fetch","at":"2026-11-20T09:00:00Z","user":{"id":"\#(user)"}}"#)
        }
        for user in users where converting.contains(user) {
            events.append(#"{"kind":"app_message","at":"2026-11-20T12:00:00Z","user":{"id":"\#(user)"},"message":{"text":"hi"}}"#)
        }
        let directory = try makeDirectory(["events.jsonl": events.joined(separator: "\n") + "\n"])
        let database = directory + "/state/replyflow.sqlite"

        let (replayConsole, replayOutput) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/events.jsonl", flowsDirectory: flows, options: try options(["--db", database]), json: false, traces: true,
            console: replayConsole)
        #expect(code == 0, "\(replayOutput.error)")

        // What GrowthBook's bucketing assigns each user.
        var expected: [String: (exposures: Int, conversions: Int)] = ["formal": (0, 0), "warm": (0, 0)]
        let ranges = GrowthBookBucketing.bucketRanges(count: 2, coverage: 1, weights: [0.5, 0.5])
        for user in users {
            let bucket = try #require(GrowthBookBucketing.hash(seed: "greeting-cli-test", value: user, version: 2))
            let name = ["formal", "warm"][GrowthBookBucketing.chooseVariation(bucket: bucket, ranges: ranges)]
            expected[name]!.exposures += 1
            if converting.contains(user) { expected[name]!.conversions += 1 }
        }
        #expect(expected["formal"]!.exposures > 0 && expected["warm"]!.exposures > 0)

        let (console, output) = Console.capturing()
        let reportCode = try await ExperimentsCommand.ReportCommand.report(flowsDirectory: flows, databasePath: database, console: console)
        #expect(reportCode == 0)
        let out = output.out
        #expect(out.contains("Experiment greeting-cli-test"), "\(out)")
        #expect(out.contains("Daily greeting"))
        for name in ["formal", "warm"] {
            let cells = try #require(lines(out).first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") }, "no row for \(name) in\n\(out)")
                .split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.count >= 4)
            #expect(cells[1] == String(expected[name]!.exposures), "\(name) exposures in \(cells)")
            #expect(cells[2] == String(expected[name]!.conversions), "\(name) conversions in \(cells)")
            let rate = Double(expected[name]!.conversions) / Double(expected[name]!.exposures) * 100
            #expect(cells[3] == String(format: "%.2f%%", rate))
        }
    }

    @Test("experiments report without a database is an error, not an empty report")
    func reportWithoutDatabase() async throws {
        let flows = try makeDirectory(["greeting.yaml": Self.experimentFlow])
        let (console, _) = Console.capturing()
        await #expect(throws: (any Error).self) {
            _ = try await ExperimentsCommand.ReportCommand.report(flowsDirectory: flows, databasePath: flows + "/none.sqlite", console: console)
        }
    }
}

@Suite("CLI: the executable", .machineShare)
struct ExecutableTests {
    static let binary = packageRoot.appendingPathComponent(".build/debug/replyflow").path

    @Test("an unknown option exits 2 (usage error)", .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the replyflow executable first"))
    func unknownOption() throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["check", "--no-such-option"]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(stderr)")
        #expect(stderr.contains("no-such-option"))
    }
}

@Suite("CLI: misspelt commands", .machineShare)
struct MisspeltCommandTests {
    @Test("replyflow chek says it is not a command and suggests check")
    func chek() {
        let message = ReplyflowMain.unknownCommand(["chek", "flows"])
        #expect(message?.contains("'chek' is not a replyflow command") == true, "\(message ?? "nil")")
        #expect(message?.contains("did you mean 'check'?") == true, "\(message ?? "nil")")
        #expect(ReplyflowMain.unknownCommand(["check", "flows"]) == nil)
        #expect(ReplyflowMain.unknownCommand(["--help"]) == nil)
        #expect(ReplyflowMain.unknownCommand(["experiments", "report"]) == nil)
    }

    @Test(
        "the executable exits 2 on replyflow chek with the hint",
        .enabled(if: FileManager.default.isExecutableFile(atPath: ExecutableTests.binary), "build the replyflow executable first"))
    func chekExecutable() throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: ExecutableTests.binary)
        process.arguments = ["chek"]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(stderr)")
        #expect(stderr.contains("did you mean 'check'?"), "\(stderr)")
    }
}

@Suite("CLI: test paths and failure output", .machineShare)
struct TestPathsTests {
    static let test = """
        name: hello
        steps:
          - event: { kind: app_message, at: 2026-11-20T10:00:00Z, user: { id: "1" }, message: { text: "hi" } }
            expect:
              - forward_to_group: "hi "

        """

    @Test("replyflow test takes one test file and the tests folder itself")
    func fileAndFolder() async throws {
        let passing = Self.test.replacingOccurrences(of: "\"hi \"", with: "\"hi\"")
        let directory = try makeDirectory(["forward.yaml": forwardFlow, "tests/t.yaml": passing])
        for path in [directory + "/tests/t.yaml", directory + "/tests"] {
            let (console, output) = Console.capturing()
            #expect(try await TestCommand.test(directory: path, options: try options(), console: console) == 0, "\(path): \(output.out)\(output.error)")
            #expect(output.out.contains("1 passed, 0 failed"))
        }
    }

    @Test("replyflow test given a flow file says what it expected, at 1:1, exit 1")
    func flowFileGiven() async throws {
        let directory = try makeDirectory(["forward.yaml": forwardFlow])
        let (console, output) = Console.capturing()
        #expect(try await TestCommand.test(directory: directory + "/forward.yaml", options: try options(), console: console) == 1)
        #expect(output.out.hasPrefix("\(directory)/forward.yaml:1:1: error: "), "\(output.out)")
        #expect(output.out.contains("is a flow file") && output.out.contains("one test file"), "\(output.out)")
    }

    @Test("a failed step marks the first difference (a trailing space)")
    func differenceShown() async throws {
        let directory = try makeDirectory(["forward.yaml": forwardFlow, "tests/t.yaml": Self.test])
        let (console, output) = Console.capturing()
        #expect(try await TestCommand.test(directory: directory, options: try options(), console: console) == 1)
        #expect(output.out.contains("- forward_to_group: \"hi\""), "\(output.out)")
        #expect(output.out.contains("the actual text stops after character 2"), "\(output.out)")
        #expect(output.out.contains("a space (U+0020 SPACE)"), "\(output.out)")
    }
}

@Suite("CLI: paths and file kinds", .machineShare)
struct PathsAndKindsTests {
    @Test("check on a flow file checks that file only")
    func checkOneFile() throws {
        let directory = try makeDirectory(["good.yaml": forwardFlow, "bad.yaml": "name: Bad\non: app_message\npriorty: 5\ndo:\n  - reply: x\n"])
        let (console, output) = Console.capturing()
        #expect(CheckCommand.check(directory: directory + "/good.yaml", console: console) == 0, "\(output.out)")
        #expect(!output.out.contains("bad.yaml"))
        let (badConsole, badOutput) = Console.capturing()
        #expect(CheckCommand.check(directory: directory + "/bad.yaml", console: badConsole) == 1)
        #expect(badOutput.out.contains("\(directory)/bad.yaml:3:1: error: unknown key 'priorty'"), "\(badOutput.out)")
    }

    @Test("check on an empty folder says there are no flows, exit 1")
    func checkEmptyFolder() throws {
        let directory = try makeDirectory([:])
        let (console, output) = Console.capturing()
        #expect(CheckCommand.check(directory: directory, console: console) == 1)
        #expect(output.out.hasPrefix("\(directory):1:1: error: there are no flows in this folder"), "\(output.out)")
    }

    @Test("check on a missing path says it does not exist")
    func checkMissing() {
        let missing = "/nonexistent/replyflow-\(UUID().uuidString)"
        let (console, output) = Console.capturing()
        #expect(CheckCommand.check(directory: missing, console: console) == 1)
        #expect(output.out.contains("\(missing):1:1: error: '\(missing)' does not exist"), "\(output.out)")
    }

    @Test("replay given a YAML event file says dry-run reads it")
    func replayGivenYAML() async throws {
        let flows = try DryRunCommandTests.flows()
        let directory = try makeDirectory(["event.yaml": "kind: app_message\nuser: { id: \"1\" }\n"])
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/event.yaml", flowsDirectory: flows, options: try options(), json: false, traces: false, console: console)
        #expect(code == 1)
        #expect(output.error.contains("is an event file (YAML)"), "\(output.error)")
        #expect(output.error.contains("`replyflow dry-run \(directory)/event.yaml` reads it"), "\(output.error)")
    }

    @Test("dry-run given a JSONL file says replay reads it")
    func dryRunGivenJSONL() async throws {
        let flows = try DryRunCommandTests.flows()
        let directory = try makeDirectory(["events.jsonl": #"{"kind":"app_message","user":{"id":"1"}}"# + "\n"])
        let (console, output) = Console.capturing()
        await #expect(throws: (any Error).self) {
            try await DryRunCommand.dryRun(eventFile: directory + "/events.jsonl", flowsDirectory: flows, options: try options(), json: false, console: console)
        }
        #expect(output.error.contains("is a file of JSON lines"), "\(output.error)")
        #expect(output.error.contains("`replyflow replay \(directory)/events.jsonl` reads it"), "\(output.error)")
    }

    @Test("experiments report on a file that is not a database says so")
    func reportOnNonDatabase() async throws {
        let flows = try makeDirectory(["greeting.yaml": greetingFlow])
        let (console, _) = Console.capturing()
        do {
            _ = try await ExperimentsCommand.ReportCommand.report(flowsDirectory: flows, databasePath: flows + "/greeting.yaml", console: console)
            Issue.record("a flow file is not a database")
        } catch let failure as CommandFailure {
            #expect(failure.description.contains("is a flow file, but this command takes the server's SQLite database"), "\(failure.description)")
        }
    }
}

@Suite("CLI: replay --json lines", .machineShare)
struct ReplayJSONLineTests {
    @Test("each object carries its input line and user id; a malformed line is an error object in its place")
    func lineForLine() async throws {
        let flows = try makeDirectory(["forward.yaml": forwardFlow])
        let directory = try makeDirectory(["events.jsonl": ReplayCommandTests.events])
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/events.jsonl", flowsDirectory: flows, options: try options(), json: true, traces: false, console: console)
        #expect(code == 1)
        // Every non-blank input line gets one object, in order, naming its line (line 6 is blank).
        let eventLines = ReplayCommandTests.events.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.isEmpty }.map { $0.offset + 1 }
        let objects = try lines(output.out).map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.compactMap { $0["line"] as? Int } == eventLines, "\(output.out)")
        #expect(objects[0]["user"] as? String == "1")
        #expect(objects[0]["actions"] != nil)
        // Line 2 is not JSON: an error object with its column, no actions.
        #expect(objects[1]["error"] is String, "\(objects[1])")
        #expect(objects[1]["column"] as? Int == 1)
        #expect(objects[1]["actions"] == nil)
        #expect(objects[3]["error"] as? String == "unknown event kind 'bogus'" || (objects[3]["error"] as? String)?.contains("bogus") == true, "\(objects[3])")
    }
}

import Foundation
import Testing

@testable import Flows

// What a failed flow test shows: where the texts differ, the actual actions in the test
// file's own syntax, the `else` branches that ran; a test file's own time zone; the paths
// `replyflow test` takes.

private func flows(_ text: String) throws -> FlowSet {
    try #require(FlowLoader.load(files: [(path: "flow.yaml", data: Data(text.utf8))]).flowSet)
}

private func run(_ flowText: String, _ testText: String, zone: TimeZone = TimeZone(identifier: "UTC")!) async throws -> FlowTestResult {
    let (test, diagnostics) = FlowTestLoader.load(data: Data(testText.utf8), file: "t.yaml")
    let loaded = try #require(test, "\(diagnostics)")
    return await FlowTestRunner.run(loaded, flows: try flows(flowText), makeState: { InMemoryStateStore() }, timeZone: zone)
}

private let replyFlow = "name: R\non: app_message\ndo:\n  - reply: \"Аnswer \"\n"

private func step(_ expect: String) -> String {
    "name: t\nsteps:\n  - event: { kind: app_message, at: 2026-11-20T10:00:00Z, user: { id: \"1\" }, message: { text: \"x\" } }\n    expect:\n      - \(expect)\n"
}

@Suite("Flow test output")
struct FlowTestOutputTests {
    @Test("a Latin A against a Cyrillic А is named, with the position and a caret")
    func latinAgainstCyrillic() async throws {
        let result = try await run(replyFlow, step("reply: \"Answer \""))
        let difference = try #require(result.failures.first?.difference)
        #expect(difference.position == 1)
        #expect(difference.message.contains("first differ at character 1"))
        #expect(difference.message.contains("U+0041 LATIN CAPITAL LETTER A"), "\(difference.message)")
        #expect(difference.message.contains("U+0410 CYRILLIC CAPITAL LETTER A"), "\(difference.message)")
        #expect(difference.lines == ["expected \"Answer \"", "actual   \"Аnswer \"", "          ^"])
    }

    @Test("a trailing space is named as a space at the end")
    func trailingSpace() async throws {
        let result = try await run(replyFlow, step("reply: \"Аnswer\""))
        let difference = try #require(result.failures.first?.difference)
        #expect(difference.position == 7)
        #expect(difference.message.contains("1 more character at the end"), "\(difference.message)")
        #expect(difference.message.contains("a space (U+0020 SPACE)"), "\(difference.message)")
    }

    @Test("actual actions are printed in the test file's syntax, so they paste back")
    func actualInTestSyntax() async throws {
        let flow =
            "name: R\non: app_message\ndo:\n  - reply: \"Say \\\"hi\\\"\"\n  - set_auto_mode: off\n  - push: { title: \"T\", text: \"B\" }\n  - broadcast: {}\n"
        let result = try await run(flow, step("reply: \"x\""))
        let actual = try #require(result.failures.first?.actual)
        #expect(actual == ["reply: \"Say \\\"hi\\\"\"", "set_auto_mode: off", "push: { title: \"T\", text: \"B\" }", "broadcast: \"x\""])
        // Pasted back as the expectation, they pass.
        let pasted =
            "name: t\nsteps:\n  - event: { kind: app_message, at: 2026-11-20T10:00:00Z, user: { id: \"1\" }, message: { text: \"x\" } }\n    expect:\n"
            + actual.map { "      - \($0)\n" }.joined()
        #expect(try await run(flow, pasted).passed)
    }

    @Test("an else branch that ran is listed with its reason, like skips")
    func elseShown() async throws {
        let flow = "name: Hours\non: app_message\nif:\n  auto_mode: off\ndo:\n  - reply: a\nelse:\n  - reply: b\n"
        let result = try await run(flow, step("reply: \"a\""))
        let elseRan = try #require(result.failures.first?.elseRan)
        #expect(elseRan.count == 1)
        #expect(elseRan.first?.hasPrefix("Hours: ran 'else': ") == true, "\(elseRan)")
        #expect(elseRan.first?.contains("auto_mode") == true, "\(elseRan)")
    }

    @Test("a test file's timezone: decides time windows, whatever the machine's zone")
    func testTimeZone() async throws {
        let flow = "name: Hours\non: app_message\nif:\n  time: { between: \"09:00-18:00\" }\ndo:\n  - reply: open\n"
        // 07:00 UTC is 10:00 in Moscow: open there, closed in UTC.
        let test =
            "name: t\ntimezone: Europe/Moscow\nsteps:\n  - event: { kind: app_message, at: 2026-11-20T07:00:00Z, user: { id: \"1\" }, message: { text: \"x\" } }\n    expect:\n      - reply: open\n"
        #expect(try await run(flow, test, zone: TimeZone(identifier: "UTC")!).passed)
        #expect(try await run(flow, test, zone: TimeZone(identifier: "America/New_York")!).passed)
        #expect(try await !run(flow, test.replacingOccurrences(of: "timezone: Europe/Moscow\n", with: "")).passed)
    }

    @Test("an unknown timezone: in a test file is an error at the value with a hint")
    func badTestTimeZone() {
        let (test, diagnostics) = FlowTestLoader.load(data: Data("name: t\ntimezone: Europe/Moskow\nsteps: []\n".utf8), file: "t.yaml")
        #expect(test == nil)
        let error = diagnostics.first { $0.location.line == 2 && $0.location.column == 11 }
        #expect(error?.message == "unknown time zone 'Europe/Moskow'", "\(diagnostics)")
        #expect(error?.hint == "did you mean 'Europe/Moscow'?")
    }
}

@Suite("Paths and file kinds")
struct FileKindTests {
    static func scratch(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("filekind-\(UUID().uuidString)")
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root.path
    }

    @Test("files are told apart by their contents")
    func kinds() throws {
        let root = try Self.scratch([
            "flows/a.yaml": "name: A\non: app_message\ndo:\n  - reply: x\n",
            "flows/tests/t.yaml": "name: t\nsteps:\n  - event: { kind: app_message }\n",
            "event.yaml": "kind: app_message\nuser: { id: \"1\" }\n",
            "events.jsonl": "{\"kind\":\"app_message\"}\n",
            "db.sqlite": "SQLite format 3\u{0}rest",
        ])
        #expect(FileKind.of(root + "/flows") == .flowsFolder)
        #expect(FileKind.of(root + "/flows/tests") == .testsFolder)
        #expect(FileKind.of(root + "/flows/a.yaml") == .flowFile)
        #expect(FileKind.of(root + "/flows/tests/t.yaml") == .testFile)
        #expect(FileKind.of(root + "/event.yaml") == .eventFile)
        #expect(FileKind.of(root + "/events.jsonl") == .eventLines)
        #expect(FileKind.of(root + "/db.sqlite") == .database)
        #expect(FileKind.of(root + "/nope.yaml") == .missing)
    }

    @Test("replyflow test takes the flows folder, its tests folder, or one test file")
    func testTargets() throws {
        let root = try Self.scratch(["flows/a.yaml": "name: A\non: app_message\ndo:\n  - reply: x\n", "flows/tests/t.yaml": "name: t\nsteps: []\n"])
        let flows = root + "/flows"
        #expect(try TestTarget.resolve(flows).get() == TestTarget(flowsDirectory: flows, testFiles: [flows + "/tests/t.yaml"]))
        #expect(try TestTarget.resolve(flows + "/tests").get() == TestTarget(flowsDirectory: flows, testFiles: [flows + "/tests/t.yaml"]))
        #expect(try TestTarget.resolve(flows + "/tests/t.yaml").get() == TestTarget(flowsDirectory: flows, testFiles: [flows + "/tests/t.yaml"]))
    }

    @Test("replyflow test given a flow file or a missing path says what it expected")
    func wrongTestTargets() throws {
        let root = try Self.scratch(["flows/a.yaml": "name: A\non: app_message\ndo:\n  - reply: x\n"])
        guard case .failure(let flowFile) = TestTarget.resolve(root + "/flows/a.yaml") else { Issue.record("a flow file is not a test"); return }
        #expect(flowFile.message.contains("is a flow file"), "\(flowFile.message)")
        #expect(flowFile.message.contains("a flows folder, its tests folder, or one test file"))
        #expect(flowFile.message.contains("`replyflow check \(root)/flows/a.yaml` reads it"))
        guard case .failure(let missing) = TestTarget.resolve(root + "/nope") else { Issue.record("missing"); return }
        #expect(missing.message.contains("does not exist"), "\(missing.message)")
    }
}

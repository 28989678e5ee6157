import ArgumentParser
import Flows
import Foundation
import Storage
import TestSupport
import Testing

@testable import ReplyflowCLI

/// `replyflow traces` on known data: a replay written with `--db`, read back by the command
/// as the library and as the executable, with the same filters as the panel's traces page.
@Suite("CLI: traces", .machineShare)
struct TracesCommandTests {
    static let flows = [
        "forward.yaml": "name: Forward\non: app_message\npriority: 1\ndo:\n  - forward_to_group: {}\n",
        "gate.yaml": "name: Gate\non: app_message\npriority: 2\nif:\n  auto_mode: on\ndo:\n  - reply: \"Hi{{#user.name}} {{user.name}}{{/user.name}}!\"\n",
    ]
    /// Ann writes with the AI on; user 2 writes with it off; Ann's history fetch fires a trigger no flow listens to.
    static let events = [
        #"{"kind":"app_message","at":"2026-11-20T10:00:00Z","user":{"id":"1","name":"Ann"},"message":{"text":"hi"}}"#,
        #"{"kind":"app_message","at":"2026-11-20T10:01:00Z","user":{"id":"2"},"chat":{"auto_mode":false},"message":{"text":"x"}}"#,
        #"{"kind":"history_fetch","at":"2026-11-20T11:00:00Z","user":{"id":"1"}}"#,
    ]

    /// A folder with the flows, the events, and the database `replay --db` left.
    struct Files {
        let directory = NSTemporaryDirectory() + "replyflow-traces-" + UUID().uuidString
        var database: String { directory + "/state.sqlite" }

        init() async throws {
            try FileManager.default.createDirectory(atPath: directory + "/flows", withIntermediateDirectories: true)
            for (name, text) in TracesCommandTests.flows { try text.write(toFile: directory + "/flows/" + name, atomically: true, encoding: .utf8) }
            try (TracesCommandTests.events.joined(separator: "\n") + "\n").write(toFile: directory + "/events.jsonl", atomically: true, encoding: .utf8)
            let (console, output) = Console.capturing()
            let code = try await ReplayCommand.replay(
                eventsFile: directory + "/events.jsonl", flowsDirectory: directory + "/flows", options: try RuntimeOptions.parse(["--db", database]),
                json: false, traces: true, console: console)
            #expect(code == 0, "\(output.error)")
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    func output(_ files: Files, _ query: TraceQuery, zone: String = "UTC", json: Bool = false) async throws -> CapturedOutput {
        let (console, output) = Console.capturing()
        try await TracesCommand.traces(
            query, database: try ReplyflowDatabase(path: files.database), timeZone: try #require(TimeZone(identifier: zone)), json: json, console: console)
        return output
    }

    @Test("the table: a line a trace, newest first, times in the zone, why in words; --before when there are more")
    func table() async throws {
        let files = try await Files()
        defer { files.remove() }
        let all = try await output(files, TraceQuery(), zone: "Europe/Moscow")
        #expect(
            all.out.split(separator: "\n").map(String.init) == [
                "TIME (Europe/Moscow)  TRIGGER                    USER  FLOW     RESULT   WHY",
                "2026-11-20 14:00:00   history_first_fetch_today  1     -        no_flow  no flow listens to this trigger",
                "2026-11-20 13:01:00   app_message                2     Gate     skipped  auto_mode is off, the flow wants on",
                "2026-11-20 13:01:00   app_message                2     Forward  ran",
                "2026-11-20 13:00:00   app_message                1     Gate     ran",
                "2026-11-20 13:00:00   app_message                1     Forward  ran",
            ], "\(all.out)")
        let paged = try await output(files, TraceQuery(limit: 2))
        let lines = paged.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 4 && lines[0].hasPrefix("TIME (UTC)  ") && lines[1].hasPrefix("2026-11-20 11:00:00  "))
        #expect(lines.last == "Older traces: add --before 4.")
        #expect(try await output(files, TraceQuery(flow: "Nobody")).out == "No traces match.\n")
    }

    @Test("the filters narrow the rows as on the panel: flow, user, result, trigger, since")
    func filters() async throws {
        let files = try await Files()
        defer { files.remove() }
        func rows(_ query: TraceQuery) async throws -> [String] {
            Array(try await output(files, query).out.split(separator: "\n").map(String.init).dropFirst())
        }
        #expect(try await rows(TraceQuery(flow: "Gate")).count == 2)
        #expect(try await rows(TraceQuery(userID: "2")).allSatisfy { $0.hasPrefix("2026-11-20 10:01:00  app_message  2 ") })
        #expect(try await rows(TraceQuery(result: .noFlow)).count == 1)
        #expect(
            try await rows(TraceQuery(flow: "Gate", result: .skipped)) == [
                "2026-11-20 10:01:00  app_message  2     Gate  skipped  auto_mode is off, the flow wants on"
            ])
        #expect(try await rows(TraceQuery(trigger: .historyFirstFetchToday)).count == 1)
        #expect(try await rows(TraceQuery(since: Timestamp.parse("2026-11-20T10:01:00Z"))).count == 3)
    }

    @Test("--json: one object a trace with every key, times in UTC")
    func json() async throws {
        let files = try await Files()
        defer { files.remove() }
        let out = try await output(files, TraceQuery(userID: "1"), zone: "Europe/Moscow", json: true).out
        let objects = try out.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.count == 3)
        let greeting = objects[0]
        #expect(greeting["at"] as? String == "2026-11-20T11:00:00Z" && greeting["event"] as? String == "history_fetch")
        #expect(greeting["trigger"] as? String == "history_first_fetch_today" && greeting["result"] as? String == "no_flow")
        #expect(greeting["flow"] is NSNull && greeting["note"] as? String == "no flow listens to this trigger")
        #expect(Set(greeting.keys) == ["id", "at", "event", "trigger", "user", "flow", "result", "reason", "note", "variant", "actions"])
        let gate = objects[1]
        #expect(gate["flow"] as? String == "Gate" && gate["result"] as? String == "ran" && gate["user"] as? String == "1")
        #expect(gate["actions"] as? [String] == ["reply: Hi Ann!"])
        #expect(out.hasSuffix("}\n") && !out.contains("Older"), "nothing but JSON lines on standard output")
    }

    @Test("options are read by the panel's rules: a bad value is a usage error naming what would do")
    func options() throws {
        let command = try TracesCommand.parse(["--db", "x.sqlite", "--flow", "Gate", "--result", "skipped", "--trigger", "app_message", "--limit", "5"])
        let query = try command.traceQuery(now: Date(), timeZone: .gmt)
        #expect(query == TraceQuery(flow: "Gate", result: .skipped, trigger: .appMessage, limit: 5))
        let now = Date(timeIntervalSince1970: 1_795_600_000)
        #expect(try TracesCommand.parse(["--since", "12h"]).traceQuery(now: now, timeZone: .gmt).since == now.addingTimeInterval(-43_200))
        for (arguments, message) in [
            (["--result", "maybe"], "result must be ran, skipped or no_flow"), (["--since", "last week"], "since must be a duration back from now"),
            (["--limit", "0"], "limit must be a whole number from 1 to 1000"), (["--trigger", "sms"], "trigger must be one of"),
        ] {
            do {
                _ = try TracesCommand.parse(arguments + ["--env-file", "/nonexistent.env"])
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(TracesCommand.message(for: error).contains(message), "\(arguments): \(TracesCommand.message(for: error))")
            }
        }
    }

    /// Runs the executable; returns its exit status, standard output and standard error.
    func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: ExecutableTests.binary)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe()
        let error = Pipe()
        process.standardOutput = out
        process.standardError = error
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    @Test(
        "the executable: prints the table; a bad value exits 2, a missing or wrong file exits 1 with one line",
        .enabled(if: FileManager.default.isExecutableFile(atPath: ExecutableTests.binary), "build the replyflow executable first"))
    func executable() async throws {
        let files = try await Files()
        defer { files.remove() }
        let noEnv = ["--env-file", files.directory + "/none.env"]

        let (status, stdout, stderr) = try run(["traces", "--db", files.database, "--flow", "Gate", "--since", "2026-11-20T10:00:30Z"] + noEnv)
        #expect(status == 0, "\(stderr)")
        #expect(
            stdout == """
                TIME (UTC)           TRIGGER      USER  FLOW  RESULT   WHY
                2026-11-20 10:01:00  app_message  2     Gate  skipped  auto_mode is off, the flow wants on

                """)

        let (badResult, _, resultError) = try run(["traces", "--db", files.database, "--result", "failed"] + noEnv)
        #expect(badResult == 2)
        #expect(resultError.contains("result must be ran, skipped or no_flow (got \"failed\")"), "\(resultError)")
        let (badSince, _, sinceError) = try run(["traces", "--db", files.database, "--since", "yesterday"] + noEnv)
        #expect(badSince == 2 && sinceError.contains("since must be a duration back from now"), "\(sinceError)")

        let (wrongFile, _, wrongError) = try run(["traces", "--db", files.directory + "/flows/gate.yaml"] + noEnv)
        #expect(wrongFile == 1)
        #expect(
            wrongError.split(separator: "\n").count == 1 && wrongError.contains("is a flow file, but this command takes the server's SQLite database"),
            "\(wrongError)")
        let (missing, _, missingError) = try run(["traces", "--db", files.directory + "/none.sqlite"] + noEnv)
        #expect(missing == 1 && missingError.hasPrefix("error: no database at "), "\(missingError)")
        #expect(!FileManager.default.fileExists(atPath: files.directory + "/none.sqlite"), "a missing database is not created")
    }
}

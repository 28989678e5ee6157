import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// schemathesis (PyPI) against a live server with the fake services: it generates
/// requests from `/openapi.json`, valid and invalid, and fails on a 5xx, a status or
/// content type the document does not name, or a body that breaks its schema. Bounded:
/// a few examples an operation, a time budget, a hard limit on the process.
///
/// Without schemathesis installed the test says so and passes, except under `CI`
/// (which `.ci/run` sets, after installing it), where it fails.
@Suite("schemathesis", .serialized, .machineShare)
struct SchemathesisTests {
    static let key = "schemathesis-key-321"
    /// The checks that hold the server to the description.
    static let checks = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]
    /// Generated cases an operation and phase, and schemathesis' own time budget.
    static let maxExamples = 12
    static let budgetSeconds = 90
    /// Past this the process is killed and the test fails.
    static let hardLimit: Duration = .seconds(200)

    @Test func schemathesisFindsNothing() async throws {
        guard Schemathesis.isInstalled else {
            let message = "schemathesis is not installed (python3 -m pip install 'schemathesis>=4,<5'); the API fuzzing test did not run"
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record(Comment(rawValue: message))
            } else {
                print("SKIPPED: \(message)")
            }
            return
        }
        // schemathesis keeps both cores busy for a minute and more: it takes its turn among
        // the heavy stories and waits for the rest of the suite to be done.
        await HeavyStoryTurn.shared.take()
        defer { HeavyStoryTurn.shared.release() }
        await InboxBrowserStoryTests.waitForQuietMachine(atMost: .seconds(120))
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.key
        harness.configuration.brevoWebhookSecret = "schemathesis-brevo-secret-0123456789"
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        let directory = harness.directory
        let outcome = try await app.application.test(.live) { client in
            let port = try #require(client.port)
            return try await Schemathesis.run(
                arguments: [
                    "run", "http://127.0.0.1:\(port)/openapi.json",
                    // This server, whatever the document's `servers` says.
                    "--url", "http://127.0.0.1:\(port)",
                    "--checks", Self.checks.joined(separator: ","),
                    "--max-examples", String(Self.maxExamples),
                    "--max-time", String(Self.budgetSeconds),
                    "--phases", "examples,coverage,fuzzing",
                    "--header", "X-API-Key: \(Self.key)",
                    "--generation-with-security-parameters", "false",
                    // Stays open by design: it would only time out.
                    "--exclude-path", "/api/stream",
                    "--request-timeout", "30",
                    // Hypothesis's speed and filtering health checks would fail a slow shared CI machine, not the API.
                    "--suppress-health-check", "all",
                    "--seed", "19",
                    "--workers", "1",
                    "--generation-database", "none",
                    "--no-color",
                ],
                in: directory, timeout: Self.hardLimit)
        }
        #expect(!outcome.timedOut, "schemathesis did not finish within \(Self.hardLimit); its output:\n\(outcome.output)")
        #expect(outcome.status == 0, "schemathesis found problems (exit \(outcome.status)):\n\(outcome.output)")
        // How much it tried, for the log: "Test cases: 906 generated, 906 passed".
        let tried = outcome.output.split(separator: "\n").drop { !$0.hasPrefix("Test cases:") }.dropFirst().first
        print("schemathesis: \(tried.map { $0.trimmingCharacters(in: .whitespaces) } ?? "no summary")")
        #expect(tried?.contains("generated") == true, "schemathesis ran no cases:\n\(outcome.output)")
    }
}

/// The schemathesis command line in a child process, its output in a file.
enum Schemathesis {
    struct Outcome: Sendable {
        var status: Int32
        var timedOut: Bool
        var output: String
    }

    static var isInstalled: Bool {
        (try? run(["-c", "import schemathesis"])) == 0
    }

    /// Runs `python3 -m schemathesis.cli ARGUMENTS` in `directory` (where it may leave
    /// files), killing it after `timeout`.
    static func run(arguments: [String], in directory: String, timeout: Duration) async throws -> Outcome {
        let outputPath = directory + "/schemathesis-output.txt"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "schemathesis.cli"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let timedOut = process.isRunning
        if timedOut {
            // SIGKILL: a child inherits the test runner's blocked signals, SIGTERM among them.
            kill(process.processIdentifier, SIGKILL)
        }
        await process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Outcome(status: process.terminationStatus, timedOut: timedOut, output: text)
    }

    /// `python3 ARGUMENTS`, quietly; its exit status.
    private static func run(_ arguments: [String]) throws -> Int32 {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

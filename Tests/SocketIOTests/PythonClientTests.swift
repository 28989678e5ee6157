import Foundation
import TestSupport
import Testing

@testable import SocketIO

/// Runs a real Socket.IO client (python-socketio) against the conformance handlers.
@Suite("python-socketio client", .machineShare)
struct PythonClientTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("python/client_check.py")

    @Test(.timeLimit(.minutes(5)))
    func pythonClientPollingUpgradeAndWebSocket() async throws {
        let probe = try await run(["python3", "-c", "import socketio"], timeout: 20)
        try #require(
            probe.status == 0,
            """
            python-socketio is not importable (\(probe.output.trimmingCharacters(in: .whitespacesAndNewlines))). \
            Install it with: pip install "python-socketio[client]"
            """
        )
        // The suite's handlers and 300 ms pings, but a roomy pong timeout: with the suite's 200 ms,
        // a whole-suite run that starves either process for a moment dropped the session (seen
        // once in CI). The strict timing is held by the heartbeat tests in Polling/WebSocketTests.
        var configuration = SocketIOConformanceHandlers.configuration
        configuration.pingTimeout = .seconds(10)
        try await withSocketIOServer(configuration: configuration, timeout: 90) { port, _ in
            let result = try await run(["python3", Self.script.path, "http://127.0.0.1:\(port)"], timeout: 60)
            #expect(result.status == 0, "client_check.py failed (exit \(result.status)):\n\(result.output)")
        }
    }

    struct ProcessResult: Sendable {
        let status: Int32
        let output: String
    }

    /// Runs a command with stdout and stderr captured, killing it after `timeout` seconds.
    func run(_ arguments: [String], timeout: Double) async throws -> ProcessResult {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        // Drain the pipe while the process runs so it can never block on a full pipe.
        let collected = ResultBox<Data>()
        let reader = Thread {
            collected.set(output.fileHandleForReading.readDataToEndOfFile())
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
                reader.start()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if process.isRunning, process.processIdentifier == pid { process.terminate() }
            }
        }
        // The reader finishes once the child closed its end of the pipe.
        for _ in 0..<200 where collected.get() == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        return ProcessResult(status: status, output: String(decoding: collected.get() ?? Data(), as: UTF8.self))
    }
}

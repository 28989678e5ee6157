import Foundation
import TestSupport

/// `python/app_chat_client.py` in a child process: a real socket.io client library
/// playing the app's chat screen (or another program whose output a test follows line by
/// line, such as `replyflow-fakes`). Killed when the test is done with it.
final class ChatClientProcess: @unchecked Sendable {
    private let process = ChildProcess()
    private let output = Pipe()
    private let errors = Pipe()
    /// The script's or program's name, for failures.
    private let name: String
    // Guarded by `lock`: appended by the output's reader thread, read by the test.
    private let lock = NSLock()
    private var buffer = ""

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The app's chat screen; it prints the first `count` `new_message` events (see `jsonLines`).
    convenience init(url: String, userID: String, transport: String, timeoutSeconds: Int = 15, count: Int = 1) throws {
        try self.init(script: "app_chat_client.py", arguments: [url, userID, transport, String(timeoutSeconds), String(count)])
    }

    /// Any script of `python/`, with its arguments.
    convenience init(script name: String, arguments: [String]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/" + name).path
        try self.init(executable: "/usr/bin/env", arguments: ["python3", script] + arguments)
    }

    /// Any program, with its arguments.
    init(executable: String, arguments: [String]) throws {
        name = ((arguments.first { $0.hasSuffix(".py") } ?? executable) as NSString).lastPathComponent
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // A thread of its own reads until the end of the output (the child's exit), rather
        // than a `readabilityHandler`: its dispatch source outlived the pipe it watched
        // once, and libdispatch's event loop crashed the test process on the closed
        // descriptor's next owner.
        let reading = output.fileHandleForReading
        Thread.detachNewThread { [weak self] in
            while true {
                let data = reading.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.withLock { self.buffer += String(decoding: data, as: UTF8.self) }
            }
        }
    }

    /// The first output line starting with `prefix` (or any line when nil).
    func line(startingWith prefix: String?, timeout: Duration = .seconds(15)) async throws -> String {
        try await line(prefix ?? "line", timeout: timeout) { prefix == nil || $0.hasPrefix(prefix!) }
    }

    /// The first output line that `matches`; `what` names it in the failure.
    func line(_ what: String, timeout: Duration = .seconds(15), where matches: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = snapshot().split(separator: "\n").map(String.init)
            if let match = lines.first(where: matches) { return match }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
                let final = snapshot()
                if let match = final.split(separator: "\n").map(String.init).first(where: matches) { return match }
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw Failure(description: "\(name) exited (\(process.terminationStatus)): \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "\(name) printed no \(what) in time; its output:\n\(snapshot())")
    }

    private func snapshot() -> String {
        lock.withLock { buffer }
    }

    /// Every JSON line printed so far, waiting until there are `count` (or `timeout`).
    func jsonLines(_ count: Int, timeout: Duration = .seconds(15)) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = snapshot().split(separator: "\n").filter { $0.hasPrefix("{") }
            if lines.count >= count || ContinuousClock.now >= deadline || !process.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                let final = snapshot().split(separator: "\n").filter { $0.hasPrefix("{") }
                return final.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The first `new_message` payload the client printed, as JSON.
    func newMessage(timeout: Duration = .seconds(15)) async throws -> [String: Any] {
        let line = try await line(startingWith: "{", timeout: timeout)
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(line)")
        }
        return object
    }

    /// Kills the process with SIGKILL: a child inherits the test runner's blocked signals,
    /// SIGTERM among them, so a script still running would not see `terminate()`.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

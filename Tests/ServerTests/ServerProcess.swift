import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The real `replyflow serve` binary in a child process on loopback, for tests that kill
/// it (SIGKILL, as a crash or the OOM killer would) and start it again on the same files.
/// Its log goes to a file in the test's folder, whose end is quoted when it fails to start.
final class ServerProcess: @unchecked Sendable {
    /// `replyflow`, built next to the test bundle by `swift build` / `swift test`.
    static var binary: String? { executable(named: "replyflow") }

    /// A product of the package (`replyflow`, `replyflow-fakes`) built next to the test bundle.
    static func executable(named name: String) -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = ServerHarness.repositoryRoot + "/.build/debug/" + name
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }

    /// A port nobody listens on right now.
    static func freePort() throws -> Int {
        try FreePort.next()
    }

    /// The settings every run shares: loopback on `port`, the harness's database, uploads
    /// and flows. Services are added by the caller.
    static func environment(_ harness: ServerHarness, port: Int) -> [String: String] {
        [
            "SERVER_HOST": "127.0.0.1", "SERVER_PORT": String(port),
            "DATABASE_PATH": harness.configuration.databasePath, "UPLOADS_DIR": harness.configuration.uploadsDirectory,
            "FLOWS_DIR": harness.configuration.flowsDirectory, "LOG_LEVEL": "info",
        ]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    /// Where the server's output goes.
    let logPath: String
    private let process = ChildProcess()

    /// Starts `replyflow serve` with exactly `environment` (no `.env` file is read).
    /// `environment` must hold `SERVER_PORT` (see ``environment(_:port:)``).
    init(binary: String, environment: [String: String], logPath: String) throws {
        guard let port = environment["SERVER_PORT"].flatMap(Int.init) else { throw Failure(description: "SERVER_PORT is not set") }
        self.port = port
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw Failure(description: "cannot write \(logPath)") }
        defer { try? log.close() }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--env-file", (logPath as NSString).deletingLastPathComponent + "/none.env"]
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var terminationReason: Process.TerminationReason { process.terminationReason }
    var terminationStatus: Int32 { process.terminationStatus }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Returns once `/health` answers 200; throws, quoting the log, when the process exits
    /// or `timeout` passes first.
    func waitForHealth(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw Failure(description: "replyflow serve exited (\(process.terminationStatus)):\n\(logTail())") }
            if let response = try? await request("GET", "/health", timeout: .seconds(2)), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "replyflow serve did not answer /health in \(timeout):\n\(logTail())")
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits until it is gone.
    func kill() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Sends a signal (SIGTERM for a clean stop).
    func signal(_ number: Int32) {
        if process.isRunning { sendSignal(number, to: process.processIdentifier) }
    }

    /// The last lines of the server's log.
    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    struct Response {
        var status: Int
        var body: Data

        /// The body as a JSON object (empty when it is not one).
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    }

    /// One HTTP request to the server, on a connection of AsyncHTTPClient's shared pool.
    func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil, timeout: Duration = .seconds(15)
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url(path))
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.components.seconds * 1000))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Response(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    }

    /// `POST path` with a JSON body.
    func postJSON(_ path: String, _ body: String, headers: [String: String] = [:], timeout: Duration = .seconds(15)) async throws -> Response {
        try await request("POST", path, headers: headers.merging(["Content-Type": "application/json"]) { $1 }, body: body, timeout: timeout)
    }
}

private func sendSignal(_ number: Int32, to pid: Int32) {
    _ = kill(pid, number)
}

/// Read-only queries on a server's SQLite file from a python3 child process (the standard
/// library's sqlite3, opened with `mode=ro`): what a test checks about durable state
/// without writing to the file or opening it the way the server does.
enum SQLiteReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The rows of `sql`, each an array of JSON values (numbers, strings, nulls).
    static func rows(_ path: String, _ sql: String) throws -> [[Any]] {
        let script = """
            import json, sqlite3, sys, urllib.parse
            connection = sqlite3.connect("file:" + urllib.parse.quote(sys.argv[1]) + "?mode=ro", uri=True, timeout=10)
            print(json.dumps(connection.execute(sys.argv[2]).fetchall()))
            """
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, sql]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let rows = try JSONSerialization.jsonObject(with: data) as? [[Any]] else {
            throw Failure(description: "sqlite3 query failed (\(sql)): \(errorText)")
        }
        return rows
    }

    /// The single integer `sql` selects.
    static func integer(_ path: String, _ sql: String) throws -> Int {
        guard let value = try rows(path, sql).first?.first as? Int else { throw Failure(description: "no integer from \(sql)") }
        return value
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Server

/// A server on a temporary database, uploads folder and copy of the default flows.
struct ServerHarness {
    let directory: String
    var configuration: ServerConfiguration

    init(flows: [String: String]? = nil) throws {
        directory = NSTemporaryDirectory() + "replyflow-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/flows", withIntermediateDirectories: true)
        if let flows {
            for (name, text) in flows { try text.write(toFile: directory + "/flows/" + name, atomically: true, encoding: .utf8) }
        } else {
            let defaults = Self.repositoryRoot + "/flows"
            for name in try FileManager.default.contentsOfDirectory(atPath: defaults) where name.hasSuffix(".yaml") {
                try FileManager.default.copyItem(atPath: defaults + "/" + name, toPath: directory + "/flows/" + name)
            }
        }
        configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.databasePath = directory + "/state.sqlite"
        configuration.uploadsDirectory = directory + "/uploads"
        configuration.flowsDirectory = directory + "/flows"
        configuration.socketPingInterval = 1_000
        configuration.socketPingTimeout = 1_000
        configuration.streamHeartbeatSeconds = 1
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    func build(clock: @escaping @Sendable () -> Date = Date.init) throws -> ReplyflowServer.ServerApp {
        try ReplyflowServer.buildApplication(configuration: configuration, logger: Self.quietLogger, clock: clock)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A setting read in `configure` (before the server runs) for the test's body.
final class CapturedSetting: @unchecked Sendable {
    // Set once, before the server runs; read after.
    var value = ""
}

/// Polls `body` until it returns a value or `timeout` passes.
func waitFor<T>(timeout: Duration = .seconds(10), _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await body() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw WaitTimeout()
}

struct WaitTimeout: Error, CustomStringConvertible {
    var description: String { "the expected state was not reached in time" }
}

/// A settable clock for greetings and rate limits.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_767_261_600)) {  // 2026-01-01 10:00 UTC
        current = start
    }

    var now: Date {
        lock.withLock { current }
    }

    func advance(_ seconds: TimeInterval) {
        lock.withLock { current += seconds }
    }

    var function: @Sendable () -> Date { { self.now } }
}

extension TestResponse {
    /// The body as a JSON object (fails the test's expectation when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
    }
}

/// A small valid PNG (1x1 pixel).
let tinyPNG: [UInt8] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
]

/// A multipart/form-data body.
struct MultipartBody {
    let boundary = "replyflow-test-" + UUID().uuidString
    private(set) var bytes: [UInt8] = []

    mutating func field(_ name: String, _ value: String) {
        append("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }

    mutating func file(_ name: String, filename: String, contentType: String, _ data: [UInt8]) {
        append("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n")
        bytes += data
        append("\r\n")
    }

    func finished() -> [UInt8] {
        bytes + Array("--\(boundary)--\r\n".utf8)
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    private mutating func append(_ text: String) { bytes += Array(text.utf8) }
}

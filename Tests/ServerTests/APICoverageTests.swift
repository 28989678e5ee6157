import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Server
import TestSupport

/// Corners of the `/api` and its live stream the other suites leave out: the heartbeat
/// of a quiet stream, auto mode changes on the stream, `AUTO_MODE_DEFAULT`, and a bad
/// `source` filter.
@Suite("API coverage", .serialized, .machineShare)
struct APICoverageTests {
    let key = "coverage-key-456"
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]
    var authorized: HTTPFields { [.contentType: "application/json", .init("X-API-Key")!: key] }

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    /// Starts a chat from the app and returns its `/api` id.
    func startChat(_ client: some TestClientProtocol, user: String) async throws -> String {
        let sent = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": user, "message": "hello"]))
        #expect(sent.status == .ok)
        let chats = try await client.execute(uri: "/api/chats", method: .get, headers: authorized)
        let chat = (chats.json["chats"] as? [[String: Any]])?.first { $0["platformChatId"] as? String == user }
        return try #require(chat?["id"] as? String)
    }

    // MARK: 1. Heartbeat

    @Test func aQuietStreamGetsHeartbeatComments() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        // From the same setting `replyflow serve` reads, so the interval is the configured one.
        let loaded = try ServerConfiguration.load(environment: ["STREAM_HEARTBEAT_SECONDS": "1"])
        #expect(loaded.streamHeartbeatSeconds == 1)
        harness.configuration.streamHeartbeatSeconds = loaded.streamHeartbeatSeconds
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in
            let port = try #require(client.port)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/stream")
            request.headers.add(name: "X-API-Key", value: key)
            request.headers.add(name: "Accept", value: "text/event-stream")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)

            // The raw bytes of the stream, read in the background until two heartbeats came.
            let received = RawStreamBuffer()
            let reader = Task {
                do {
                    for try await chunk in response.body {
                        received.append(chunk)
                        if received.lines.filter({ $0 == ": heartbeat" }).count >= 2 { break }
                    }
                } catch {
                    received.fail("\(error)")
                }
            }
            defer { reader.cancel() }
            // Two heartbeats well inside the default interval (15 s): the configured one is used.
            let lines = try await waitFor(timeout: .seconds(14)) { () -> [String]? in
                let lines = received.lines
                return lines.filter { $0 == ": heartbeat" }.count >= 2 ? lines : nil
            }
            #expect(received.failure == nil)
            #expect(lines.first == "retry: 3000")
            #expect(lines.contains(": connected"))
            // Nothing happened, so the stream held only comments: no events.
            #expect(!lines.contains { $0.hasPrefix("event:") || $0.hasPrefix("data:") }, "\(lines)")
            reader.cancel()
            await reader.value
        }
    }

    // MARK: 2. Auto mode on the stream

    @Test func patchingAutoModeIsStreamedAsAChatUpdate() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        harness.configuration.autoModeDefault = true
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in
            _ = try await startChat(client, user: "other-chat")
            let chatID = try await startChat(client, user: "auto-1")
            // No Last-Event-ID: the stream carries only what happens from now on.
            let url = "http://127.0.0.1:\(client.port!)/api/stream"
            let watcher = try ChatClientProcess(script: "sse_client.py", arguments: [url, key, "2", "-", "60"])
            defer { watcher.stop() }
            _ = try await watcher.line(startingWith: "READY text/event-stream", timeout: .seconds(30))

            func patch(_ on: Bool) async throws {
                let response = try await client.execute(uri: "/api/chats/\(chatID)/autoMode", method: .patch, headers: authorized, body: json(["autoMode": on]))
                #expect(response.status == .ok)
                #expect(response.json["autoMode"] as? Bool == on)
            }

            try await patch(false)
            let first = try await watcher.jsonLines(1, timeout: .seconds(30))
            try #require(first.count == 1, "no stream event after PATCH autoMode")
            try await patch(true)
            let events = try await watcher.jsonLines(2, timeout: .seconds(30))
            try #require(events.count == 2, "\(events)")

            for (event, expected) in zip(events, [false, true]) {
                #expect(event["event"] as? String == "update")
                #expect(event["id"] as? String != nil)
                let data = try #require(event["data"] as? [String: Any])
                #expect(Set(data.keys) == ["type", "record"])
                #expect(data["type"] as? String == "chat")
                let record = try #require(data["record"] as? [String: Any])
                #expect(record["id"] as? String == chatID)
                #expect(record["platformChatId"] as? String == "auto-1")
                #expect(record["source"] as? String == "app")
                #expect(record["autoMode"] as? Bool == expected, "\(record)")
            }
        }
    }

    // MARK: 3. AUTO_MODE_DEFAULT

    @Test func autoModeDefaultComesFromTheEnvironmentAndDotEnv() async throws {
        let directory = NSTemporaryDirectory() + "replyflow-env-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func dotEnv(_ text: String) throws -> [String: String] {
            let path = directory + "/.env"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try DotEnv.load(path: path)
        }

        // The way `replyflow serve` reads them: the environment over the .env file.
        let off = try ServerConfiguration.load(environment: [:], dotEnv: dotEnv("AUTO_MODE_DEFAULT=off\n"))
        #expect(off.autoModeDefault == false)
        let on = try ServerConfiguration.load(environment: ["AUTO_MODE_DEFAULT": "on"], dotEnv: [:])
        #expect(on.autoModeDefault == true)
        let environmentWins = try ServerConfiguration.load(environment: ["AUTO_MODE_DEFAULT": "on"], dotEnv: dotEnv("AUTO_MODE_DEFAULT=off\n"))
        #expect(environmentWins.autoModeDefault == true)
        let offFromEnvironment = try ServerConfiguration.load(environment: ["AUTO_MODE_DEFAULT": "off"], dotEnv: dotEnv("AUTO_MODE_DEFAULT=on\n"))
        #expect(offFromEnvironment.autoModeDefault == false)

        // The error quotes the value as it was written.
        for (environment, file) in [(["AUTO_MODE_DEFAULT": "maybe"], ""), ([:], "AUTO_MODE_DEFAULT=Maybe\n")] {
            let written = environment["AUTO_MODE_DEFAULT"] ?? "Maybe"
            do {
                _ = try ServerConfiguration.load(environment: environment, dotEnv: dotEnv(file))
                Issue.record("AUTO_MODE_DEFAULT=\(written) was accepted")
            } catch let error as ServerConfiguration.Failure {
                #expect(error.description.contains("AUTO_MODE_DEFAULT=\(written)"), "\(error)")
                #expect(error.description.contains("on or off"), "\(error)")
            }
        }

        // And the server built from it shows a new chat with auto mode off.
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        harness.configuration.autoModeDefault = off.autoModeDefault
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            _ = try await startChat(client, user: "default-off")
            let chats = try await client.execute(uri: "/api/chats", method: .get, headers: authorized)
            let chat = try #require((chats.json["chats"] as? [[String: Any]])?.first)
            #expect(chat["autoMode"] as? Bool == false, "\(chat)")
        }
    }

    // MARK: 4. A bad source filter

    @Test func anUnknownSourceIsABadRequestNamingIt() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        try await harness.build().application.test(.router) { client in
            for uri in ["/api/chats?source=bogus", "/api/stream?source=bogus"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.init("X-API-Key")!: key])
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(uri)")
                let body = response.json
                #expect(Set(body.keys) == ["success", "error"], "\(uri): \(body)")
                #expect(body["success"] as? Bool == false, "\(uri)")
                let error = try #require(body["error"] as? String, "\(uri)")
                #expect(error.contains("source"), "\(uri): \(error)")
                #expect(error.contains("bogus"), "\(uri): \(error)")
            }
            // A known source still answers.
            let app = try await client.execute(uri: "/api/chats?source=app", method: .get, headers: [.init("X-API-Key")!: key])
            #expect(app.status == .ok)
        }
    }
}

/// What a raw HTTP stream has sent so far, shared between its reader and the test.
private final class RawStreamBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    private var error: String?

    func append(_ chunk: ByteBuffer) {
        lock.withLock { text += String(buffer: chunk) }
    }

    func fail(_ description: String) {
        lock.withLock { error = description }
    }

    var failure: String? { lock.withLock { error } }

    /// Complete lines only (a line still being written is left out).
    var lines: [String] {
        let text = lock.withLock { self.text }
        var lines = text.components(separatedBy: "\n")
        lines.removeLast()
        return lines
    }
}

import Foundation
import TestSupport
import Testing

/// `SIGTERM` to the real `replyflow serve`, as a service manager sends it: open streams
/// and idle connections do not hold the process up, a request under way finishes, one that
/// never finishes is cut off after SHUTDOWN_GRACE_SECONDS, and the log says when the
/// shutdown started and when it ended.
@Suite("Graceful shutdown", .serialized, .machineShare)
struct GracefulShutdownTests {
    let key = "shutdown-key"

    func startServer(grace: Int) throws -> (ServerProcess, ServerHarness) {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        environment["API_KEY"] = key
        environment["SHUTDOWN_GRACE_SECONDS"] = String(grace)
        return (try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/server.log"), harness)
    }

    /// How long the process took to exit after `SIGTERM`; nil when it had not after `limit`.
    func terminate(_ server: ServerProcess, within limit: Duration) async throws -> Duration? {
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        while server.isRunning {
            guard signalled.duration(to: .now) < limit else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return signalled.duration(to: .now)
    }

    func log(_ server: ServerProcess) -> String {
        (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
    }

    @Test(.timeLimit(.minutes(5))) func anOpenStreamAnIdleAndAHungConnectionDoNotHoldTheShutdownUp() async throws {
        let grace = 10
        let (server, harness) = try startServer(grace: grace)
        defer { harness.remove() }
        defer { server.kill() }
        try await server.waitForHealth()
        let key = self.key
        let took = try await RawConnection.with(port: server.port) { stream in
            try await RawConnection.with(port: server.port) { idle in
                try await RawConnection.with(port: server.port) { hung in
                    try await stream.send("GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: \(key)\r\n\r\n")
                    #expect(try await stream.waitUntilReceived(": connected", within: .seconds(10)))
                    try await idle.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    #expect(try await idle.waitUntilReceived("\"ok\"", within: .seconds(10)))
                    // Half a request head, and then nothing.
                    try await hung.send("GET /health HTTP/1.1\r\nHost: 127.0")
                    let took = try await terminate(server, within: .seconds(grace + 20))
                    // The stream was ended as a response (its last chunk), not cut by the exit.
                    // Read the last bytes first: on a busy machine they may still be in the socket.
                    let ended = try await stream.waitUntilReceived("\r\n0\r\n\r\n", within: .seconds(3))
                    #expect(ended && stream.received.hasSuffix("0\r\n\r\n"), "the stream was not ended: \(stream.received.suffix(80))")
                    #expect(try await idle.waitUntilClosed(within: .seconds(1)))
                    #expect(try await hung.waitUntilClosed(within: .seconds(1)))
                    return took
                }
            }
        }
        let seconds = try #require(took, "replyflow serve still running \(grace + 20) s after SIGTERM:\n\(server.logTail())")
        #expect(seconds < .seconds(grace), "it waited out the grace period (\(seconds)) instead of ending the stream")
        #expect(server.terminationReason == .exit && server.terminationStatus == 0, "\(server.logTail())")
        let text = log(server)
        #expect(text.contains("shutdown started"), "\(server.logTail())")
        #expect(text.contains("shutdown ended"), "\(server.logTail())")
    }

    @Test(.timeLimit(.minutes(5))) func anAppOnASocketIOWebSocketDoesNotHoldTheShutdownUp() async throws {
        let grace = 10
        let (server, harness) = try startServer(grace: grace)
        defer { harness.remove() }
        defer { server.kill() }
        try await server.waitForHealth()
        let app = try ChatClientProcess(script: "reconnecting_chat_client.py", arguments: [server.url(""), "ws-1", "websocket", "60"])
        defer { app.stop() }
        _ = try await app.line(startingWith: "JOINED 1", timeout: .seconds(20))
        let took = try await terminate(server, within: .seconds(grace + 20))
        let seconds = try #require(took, "replyflow serve still running \(grace + 20) s after SIGTERM:\n\(server.logTail())")
        #expect(seconds < .seconds(grace), "it waited out the grace period (\(seconds)) instead of letting the WebSocket go")
        #expect(server.terminationStatus == 0)
        #expect(log(server).contains("shutdown ended"), "\(server.logTail())")
    }

    @Test(.timeLimit(.minutes(5))) func aRequestUnderWayFinishesAfterSIGTERM() async throws {
        let (server, harness) = try startServer(grace: 10)
        defer { harness.remove() }
        defer { server.kill() }
        try await server.waitForHealth()
        let body = #"{"user_id": "shutdown-1", "message": "ещё здесь"}"#
        let bytes = Array(body.utf8)
        try await RawConnection.with(port: server.port) { connection in
            try await connection.send(
                "POST /send_message HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n\r\n")
            try await connection.send(Array(bytes.prefix(10)))
            // Let the server start on the request before it is told to stop.
            try await Task.sleep(for: .milliseconds(500))
            server.signal(SIGTERM)
            _ = try await waitFor(timeout: .seconds(10)) { log(server).contains("shutdown started") ? true : nil }
            try await connection.send(Array(bytes.dropFirst(10)))
            #expect(try await connection.waitUntilReceived("\"success\":true", within: .seconds(10)), "\(connection.received)")
            #expect(connection.received.hasPrefix("HTTP/1.1 200"))
        }
        _ = try await waitFor(timeout: .seconds(15)) { server.isRunning ? nil : true }
        #expect(server.terminationStatus == 0)
        #expect(log(server).contains("shutdown ended"), "\(server.logTail())")
        #expect(try SQLiteReader.integer(harness.configuration.databasePath, "SELECT COUNT(*) FROM messages WHERE text = 'ещё здесь'") == 1)
    }

    @Test(.timeLimit(.minutes(5))) func aRequestThatNeverFinishesIsCutOffAfterTheGracePeriod() async throws {
        let grace = 2
        let (server, harness) = try startServer(grace: grace)
        defer { harness.remove() }
        defer { server.kill() }
        try await server.waitForHealth()
        let took = try await RawConnection.with(port: server.port) { connection in
            // Half a body, and then nothing (IDLE_TIMEOUT_SECONDS, 60, would close it much later).
            try await connection.send(
                "POST /send_message HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user_id\": ")
            try await Task.sleep(for: .milliseconds(500))
            return try await terminate(server, within: .seconds(grace + 15))
        }
        let seconds = try #require(took, "replyflow serve still running \(grace + 15) s after SIGTERM:\n\(server.logTail())")
        #expect(seconds >= .seconds(grace) - .milliseconds(100), "the request under way was not given its grace period")
        #expect(seconds < .seconds(grace + 5))
        #expect(server.terminationReason == .exit && server.terminationStatus == 0, "\(server.logTail())")
        let text = log(server)
        #expect(text.contains("shutdown started"))
        #expect(text.contains("shutdown ended: requests still under way after the grace period were cut off"), "\(server.logTail())")
    }
}

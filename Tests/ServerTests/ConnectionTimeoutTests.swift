import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// No connection hangs, as a client with a raw socket sees it: every malformed request gets an
/// answer, a request that stops arriving and an idle keep-alive connection are closed after
/// their timeouts, and live streams (SSE, socket.io polling and WebSocket) outlast them.
@Suite("Malformed and slow requests", .machineShare)
struct ConnectionTimeoutTests {
    /// Well past the 1 s timeouts the tests set, and short of the 30 s a hang would take.
    /// (Missed once when the PostgreSQL cluster started beside them: see
    /// `PostgresCluster.spawn`, which no longer lets it inherit this process's sockets.)
    static let patience = Duration.seconds(10)

    func withServer(_ configure: (inout ServerHarness) -> Void = { _ in }, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        var harness = try ServerHarness()
        // Generous unless a test is about the timeouts: on a loaded machine a client's first
        // bytes can take over a second to leave, and a 1 s deadline then closed the
        // connection under a test about something else.
        harness.configuration.requestTimeoutSeconds = 30
        harness.configuration.idleTimeoutSeconds = 30
        configure(&harness)
        defer { harness.remove() }
        try await harness.build().application.test(.live) { client in try await body(client.port!) }
    }

    /// Sends `request` on a fresh connection and returns all the server sent before it closed.
    func answer(to request: String, port: Int) async throws -> String {
        try await RawConnection.with(port: port) { connection in
            try await connection.send(request)
            let closed = try await connection.waitUntilClosed(within: Self.patience)
            #expect(closed, "the connection is still open, having received: \(connection.received.prefix(200))")
            return connection.received
        }
    }

    @Test func aRawUTF8QueryIsAnswered() async throws {
        try await withServer { port in
            let answer = try await answer(to: "GET /message_history/1?user_name=Анна HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(answer.contains("Здравствуйте, Анна!"), "\(answer)")
        }
    }

    @Test func aGarbageRequestLineIsA400() async throws {
        try await withServer { port in
            let answer = try await answer(to: "HELLO THERE\r\n\r\n", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        }
    }

    @Test func aHundredKilobyteURLIsA431() async throws {
        try await withServer { port in
            let answer = try await answer(to: "GET /health?q=\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(200))")
        }
    }

    @Test func twoContentLengthsAreA400() async throws {
        try await withServer { port in
            let answer = try await answer(
                to: "POST /send_message HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        }
    }

    @Test func aBrokenChunkedBodyIsA400() async throws {
        // A body that broke off is never read to its end, so Hummingbird's idle timeout runs
        // while the route answers: 1 s is too short for that on a loaded machine.
        try await withServer({ $0.configuration.idleTimeoutSeconds = 30 }) { port in
            let head = "POST /send_message HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            // In one piece, as curl sends it: broken before the route runs.
            let whole = try await answer(to: head + "zz\r\n{}\r\n0\r\n\r\n", port: port)
            #expect(whole.hasPrefix("HTTP/1.1 400"), "\(whole)")
            // Broken once the route is reading the body.
            let late = try await RawConnection.with(port: port) { connection in
                try await connection.send(head + "2\r\n{\"\r\n")
                try await Task.sleep(for: .milliseconds(300))
                try await connection.send("zz\r\n\r\n")
                _ = try await connection.waitUntilReceived("\r\n\r\n", within: Self.patience)
                return connection.received
            }
            #expect(late.hasPrefix("HTTP/1.1 400"), "\(late)")
        }
    }

    @Test func halfARequestHeadIsClosedAfterTheRequestTimeout() async throws {
        try await withServer({ $0.configuration.requestTimeoutSeconds = 1 }) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.sendUnlessClosed("GET /health HTTP/1.1\r\nHost: x\r\n")
                #expect(try await connection.waitUntilClosed(within: Self.patience))
                #expect(connection.received.hasPrefix("HTTP/1.1 408"), "\(connection.received)")
            }
        }
    }

    @Test func halfABodyIsClosedAfterTheIdleTimeout() async throws {
        try await withServer({ $0.configuration.idleTimeoutSeconds = 1 }) { port in
            let started = ContinuousClock.now
            _ = try await answer(
                to: "POST /send_message HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user_id\":", port: port)
            #expect(ContinuousClock.now - started < Self.patience)
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedWhileLiveStreamsStayOpen() async throws {
        try await withServer({
            $0.configuration.idleTimeoutSeconds = 1
            $0.configuration.apiKey = "key"
            // No Engine.IO ping while the test watches, so a long poll stays a long poll.
            $0.configuration.socketPingInterval = 20_000
        }) { port in
            try await RawConnection.with(port: port) { stream in
                try await stream.send("GET /api/stream?source=app HTTP/1.1\r\nHost: x\r\nX-API-Key: key\r\n\r\n")
                #expect(try await stream.waitUntilReceived("200 OK", within: Self.patience))
                try await RawConnection.with(port: port) { webSocket in
                    try await webSocket.send(
                        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    #expect(try await webSocket.waitUntilReceived("101 Switching Protocols", within: Self.patience))
                    let sid = try await pollingSession(port: port)
                    try await RawConnection.with(port: port) { poll in
                        try await poll.send("GET /socket.io/?EIO=4&transport=polling&sid=\(sid) HTTP/1.1\r\nHost: x\r\n\r\n")
                        try await RawConnection.with(port: port) { idle in
                            try await idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                            #expect(try await idle.waitUntilReceived("200 OK", within: Self.patience))
                            #expect(try await idle.waitUntilClosed(within: Self.patience))
                        }
                        // Twice the timeouts: the live ones are still there.
                        try await Task.sleep(for: .seconds(2))
                        #expect(!poll.isClosed)
                        #expect(!poll.received.contains("HTTP/1.1"), "the long poll was answered: \(poll.received)")
                    }
                    #expect(!webSocket.isClosed)
                }
                #expect(!stream.isClosed)
                #expect(stream.received.contains(": heartbeat"))
            }
        }
    }

    /// Opens a socket.io polling session and returns its sid.
    func pollingSession(port: Int) async throws -> String {
        let handshake = try await answer(to: "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        let sid = try #require(handshake.firstMatch(of: /"sid":"([^"]+)"/)?.1)
        return String(sid)
    }
}

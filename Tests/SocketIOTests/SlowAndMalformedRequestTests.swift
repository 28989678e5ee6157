import Foundation
import SocketIO
import TestSupport
import Testing

/// A server built with `HTTPServerBuilder.socketIO` leaves no connection hanging: a request it
/// cannot parse is answered, half a request and an idle connection are closed after their
/// timeouts, and live polling and WebSocket sessions outlast them.
@Suite(.machineShare)
struct SlowAndMalformedRequestTests {
    /// Well past the 1 s timeouts, short of the 30 s a hang would take. (These tests once
    /// missed 20 s when the PostgreSQL cluster started beside them: its processes inherited
    /// the test process's sockets, so a connection the server closed stayed open. The
    /// cluster is now spawned without them: `PostgresCluster.spawn`.)
    static let patience = Duration.seconds(10)

    /// Timeouts are generous unless a test is about one of them: on a loaded machine a
    /// client's first bytes can take over a second to leave.
    func withServer(
        requestTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30), _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        try await withSocketIOServer(requestTimeout: requestTimeout, idleTimeout: idleTimeout) { port, _ in try await body(port) }
    }

    @Test func anUnparsableRequestIsA400() async throws {
        try await withServer { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                #expect(try await connection.waitUntilClosed(within: Self.patience))
                #expect(connection.received.hasPrefix("HTTP/1.1 400"), "\(connection.received)")
            }
        }
    }

    @Test func aRawUTF8QueryIsRead() async throws {
        try await withServer { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /socket.io/?EIO=4&transport=polling&name=Анна HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.waitUntilReceived("0{\"sid\"", within: Self.patience), "\(connection.received)")
            }
        }
    }

    @Test func halfARequestIsClosedAfterTheRequestTimeout() async throws {
        try await withServer(requestTimeout: .seconds(1)) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.sendUnlessClosed("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n")
                #expect(try await connection.waitUntilClosed(within: Self.patience))
                #expect(connection.received.hasPrefix("HTTP/1.1 408"), "\(connection.received)")
            }
        }
    }

    @Test func anIdleConnectionIsClosedWhileLiveSessionsStayOpen() async throws {
        try await withServer(idleTimeout: .seconds(1)) { port in
            try await RawConnection.with(port: port) { webSocket in
                try await webSocket.send(
                    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                #expect(try await webSocket.waitUntilReceived("101 Switching Protocols", within: Self.patience))
                let sid = try await openPollingSession(port: port)
                try await RawConnection.with(port: port) { poll in
                    try await poll.send("GET \(pollingURI(sid)) HTTP/1.1\r\nHost: x\r\n\r\n")
                    try await RawConnection.with(port: port) { idle in
                        try await idle.send("GET /socket.io/?EIO=3 HTTP/1.1\r\nHost: x\r\n\r\n")
                        #expect(try await idle.waitUntilReceived("HTTP/1.1 400", within: Self.patience))
                        #expect(try await idle.waitUntilClosed(within: Self.patience))
                    }
                    // Twice the timeouts; the harness's heartbeat (30 s) has not ended the poll.
                    try await Task.sleep(for: .seconds(2))
                    #expect(!poll.isClosed)
                    #expect(!poll.received.contains("HTTP/1.1"), "the long poll was answered: \(poll.received)")
                }
                #expect(!webSocket.isClosed)
            }
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import SocketIO

/// Shared helpers: an in-process server on a free loopback port, tiny HTTP and WebSocket
/// clients, and a timeout so no test can hang the suite.

let testLogger: Logger = {
    var logger = Logger(label: "SocketIOTests")
    logger.logLevel = ProcessInfo.processInfo.environment["SOCKETIO_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
    return logger
}()

struct TimeoutError: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "timed out after \(seconds) s" }
}

/// Runs `body`, failing with ``TimeoutError`` (and cancelling it) after `seconds`.
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TimeoutError(seconds: seconds)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimeoutError(seconds: seconds) }
        return result
    }
}

/// Test configuration: long heartbeat and connect timeout unless a test is about them, so no
/// ping shows up where a test does not expect one.
func quietConfiguration(
    pingInterval: Duration = .seconds(30),
    pingTimeout: Duration = .seconds(30),
    maxPayload: Int = 1_000_000,
    connectTimeout: Duration = .seconds(30),
    maxQueuedFrames: Int = 1024
) -> SocketIOConfiguration {
    SocketIOConfiguration(
        pingInterval: pingInterval,
        pingTimeout: pingTimeout,
        maxPayload: maxPayload,
        connectTimeout: connectTimeout,
        maxQueuedFrames: maxQueuedFrames
    )
}

/// Starts a Hummingbird application serving a ``SocketIOServer`` on 127.0.0.1 and a free port,
/// runs `body`, then closes all sessions and stops the application. Everything is bounded by
/// `timeout`.
func withSocketIOServer<T: Sendable>(
    configuration: SocketIOConfiguration = quietConfiguration(),
    timeout: Double = 30,
    requestTimeout: Duration = .seconds(30),
    idleTimeout: Duration = .seconds(60),
    setup: (SocketIOServer) -> Void = SocketIOConformanceHandlers.install(on:),
    _ body: @escaping @Sendable (_ port: Int, _ server: SocketIOServer) async throws -> T
) async throws -> T {
    let server = SocketIOServer(configuration: configuration, logger: testLogger)
    setup(server)
    let router = Router(context: BasicWebSocketRequestContext.self)
    server.addRoutes(to: router)
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router,
        server: .socketIO(webSocketRouter: router, configuration: configuration, requestTimeout: requestTimeout, idleTimeout: idleTimeout),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: testLogger
    )
    // Stopped through graceful shutdown rather than cancellation, which Hummingbird logs as
    // errors.
    let services = ServiceGroup(services: [app], logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await services.run()
        }
        let result: Result<T, any Error>
        do {
            result = .success(
                try await withTimeout(timeout) {
                    var iterator = ports.makeAsyncIterator()
                    guard let port = await iterator.next(), port > 0 else { throw HarnessError("server did not start") }
                    return try await body(port, server)
                }
            )
        } catch {
            result = .failure(error)
        }
        await server.closeAll()
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

// MARK: HTTP

struct HTTPResult: Sendable {
    let status: Int
    let body: String
}

/// One HTTP request on a fresh connection (so concurrent requests never share a socket).
func http(_ method: HTTPRequest.Method, port: Int, _ uri: String, body: String? = nil) async throws -> HTTPResult {
    try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
        let response = try await client.execute(
            .init(uri, method: method, body: body.map { ByteBuffer(string: $0) })
        )
        return HTTPResult(status: Int(response.status.code), body: response.body.map { String(buffer: $0) } ?? "")
    }
}

/// Opens a polling session and returns its sid.
func openPollingSession(port: Int) async throws -> String {
    let handshake = try await http(.get, port: port, "/socket.io/?EIO=4&transport=polling")
    guard handshake.status == 200, handshake.body.first == "0",
        let sid = try JSONValue(parsing: String(handshake.body.dropFirst()))["sid"]?.string
    else { throw HarnessError("bad handshake: \(handshake)") }
    return sid
}

func pollingURI(_ sid: String) -> String {
    "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: WebSocket

/// A raw Engine.IO WebSocket as seen by a test: read messages, send packets.
struct RawWebSocket {
    var iterator: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter

    /// Next message; Engine.IO pings are answered and skipped unless `skipPings` is false.
    mutating func next(skipPings: Bool = true) async throws -> WebSocketMessage {
        while true {
            guard let message = try await iterator.next() else { throw HarnessError("WebSocket closed") }
            if skipPings, case .text("2") = message {
                try await outbound.write(.text("3"))
                continue
            }
            return message
        }
    }

    /// Next text message (pings skipped).
    mutating func text() async throws -> String {
        let message = try await next()
        guard case .text(let text) = message else { throw HarnessError("expected text, got \(message)") }
        return text
    }

    /// Waits until the server closes the connection; throws if a message arrives first that
    /// is not a ping.
    mutating func expectClose() async throws {
        while let message = try await iterator.next() {
            if case .text("2") = message { continue }
            throw HarnessError("expected close, got \(message)")
        }
    }

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    func send(binary bytes: [UInt8]) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }
}

/// Connects a WebSocket to the Engine.IO endpoint and runs `body` with it; returns what the
/// body returned. The connection is closed when the body returns.
func withWebSocket<T: Sendable>(
    port: Int,
    query: String = "",
    _ body: @escaping @Sendable (inout RawWebSocket) async throws -> T
) async throws -> T {
    let result = ResultBox<T>()
    try await WebSocketClient.connect(
        url: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket\(query)",
        configuration: .init(maxFrameSize: 1 << 20),
        logger: testLogger
    ) { inbound, outbound, _ in
        var socket = RawWebSocket(iterator: inbound.messages(maxSize: 1 << 20).makeAsyncIterator(), outbound: outbound)
        result.set(try await body(&socket))
    }
    guard let value = result.get() else { throw HarnessError("WebSocket handler did not run") }
    return value
}

/// Connects a WebSocket, reads the open packet and joins namespace `/` with `auth`; the body
/// starts after the CONNECT reply (whose socket id it receives).
func withConnectedSocket<T: Sendable>(
    port: Int,
    auth: String = "",
    _ body: @escaping @Sendable (inout RawWebSocket, _ socketID: String) async throws -> T
) async throws -> T {
    try await withWebSocket(port: port) { socket in
        let open = try await socket.text()
        guard open.hasPrefix("0") else { throw HarnessError("expected open packet, got \(open)") }
        try await socket.send("40" + auth)
        let connect = try await socket.text()
        guard connect.hasPrefix("40"), let id = try JSONValue(parsing: String(connect.dropFirst(2)))["sid"]?.string else {
            throw HarnessError("expected CONNECT reply, got \(connect)")
        }
        return try await body(&socket, id)
    }
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ newValue: T) { lock.withLock { value = newValue } }
    func get() -> T? { lock.withLock { value } }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass. The default is roomy:
/// in a whole-suite run on two cores the cooperative threads can be busy for 8-12 s
/// (twelve clients failed to connect within 5 s once); a passing wait returns at once.
func eventually(within seconds: Double = 30, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// Polls until `count` packets arrived (a handler's emits may land in separate polls).
func pollPackets(port: Int, sid: String, count: Int) async throws -> [String] {
    var packets: [String] = []
    while packets.count < count {
        let response = try await http(.get, port: port, pollingURI(sid))
        guard response.status == 200 else { throw HarnessError("poll failed: \(response)") }
        packets += response.body.split(separator: "\u{1e}", omittingEmptySubsequences: false).map(String.init)
    }
    return packets
}

/// Joins namespace `/` on a polling session and consumes the CONNECT reply and `auth` event.
func connectPolling(port: Int, sid: String) async throws {
    _ = try await http(.post, port: port, pollingURI(sid), body: "40")
    _ = try await pollPackets(port: port, sid: sid, count: 2)
}

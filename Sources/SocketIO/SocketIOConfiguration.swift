import HummingbirdWebSocket

/// Settings of a ``SocketIOServer``; the timing values are announced to clients in the
/// Engine.IO open packet.
public struct SocketIOConfiguration: Sendable {
    /// How often the server sends an Engine.IO ping (`2`). Clients treat the connection as dead
    /// after `pingInterval + pingTimeout` without one.
    public var pingInterval: Duration
    /// How long the server waits for the client's pong (`3`) before closing the session.
    public var pingTimeout: Duration
    /// Largest accepted message in bytes: a polling POST body or a WebSocket message.
    /// Announced as `maxPayload`; also caps the size of one polling GET response.
    public var maxPayload: Int
    /// Sessions that have not sent a Socket.IO CONNECT within this time are closed.
    public var connectTimeout: Duration
    /// HTTP path of the endpoint, without a trailing slash (clients request `path + "/"`).
    public var path: String
    /// Most frames that may wait in one session's outbound queue. A client that does not drain
    /// its queue (dead or too slow) is disconnected when it overflows, so one slow reader can
    /// neither block broadcasts nor grow memory without bound.
    public var maxQueuedFrames: Int

    /// Creates a configuration; the defaults are those of the reference node server.
    public init(
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxPayload: Int = 1_000_000,
        connectTimeout: Duration = .seconds(45),
        path: String = "/socket.io",
        maxQueuedFrames: Int = 1024
    ) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.connectTimeout = connectTimeout
        self.path = path
        self.maxQueuedFrames = maxQueuedFrames
    }

    /// The HTTP/1 + WebSocket upgrade settings `HTTPServerBuilder.socketIO` builds the
    /// server with, so WebSocket frames up to `maxPayload` are accepted (hummingbird-websocket's
    /// default is only 16 KiB) and the library's own WebSocket ping is off (Engine.IO has its
    /// own heartbeat).
    var webSocketUpgradeConfiguration: HTTP1WebSocketUpgradeChannel.Configuration {
        .init(ws: .init(maxFrameSize: max(maxPayload, 1 << 14), autoPing: .disabled))
    }

    /// `path` with one trailing slash removed, and a leading slash added if missing.
    var normalizedPath: String {
        var result = path.hasPrefix("/") ? path : "/" + path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}

extension Duration {
    /// Whole milliseconds, as announced in the Engine.IO open packet.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

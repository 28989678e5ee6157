import Logging
import ServiceLifecycle
import Synchronization

/// An Engine.IO v4 / Socket.IO v5 server (WebSocket and HTTP long-polling transports).
///
/// Create one, register namespaces and handlers, then mount it on a Hummingbird router with
/// ``addRoutes(to:)``:
///
/// ```swift
/// let socketIO = SocketIOServer(configuration: .init(), logger: logger)
/// let chat = socketIO.namespace("/")
/// chat.onConnect { socket, auth in await socket.join("lobby") }
/// chat.on("say") { socket, args, ack in
///     await socket.namespace.emit("said", args, toRoom: "lobby")
///     await ack?([])
/// }
/// ```
public final class SocketIOServer: Sendable {
    /// The settings this server was created with.
    public let configuration: SocketIOConfiguration
    let logger: Logger
    private let sessions = Mutex([String: EngineSession]())
    private let namespaces = Mutex([String: SocketIONamespace]())

    /// Creates a server. The main namespace `/` always exists.
    public init(configuration: SocketIOConfiguration = .init(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        _ = namespace("/")
    }

    /// Returns the namespace with this name, creating (and thereby opening it to clients) if
    /// needed. A missing leading `/` is added.
    public func namespace(_ name: String) -> SocketIONamespace {
        let name = name.hasPrefix("/") ? name : "/" + name
        return namespaces.withLock { namespaces in
            if let existing = namespaces[name] { return existing }
            let created = SocketIONamespace(name: name)
            namespaces[name] = created
            return created
        }
    }

    /// Number of open Engine.IO sessions (connections), whatever their namespaces.
    public var connectionCount: Int {
        sessions.withLock { $0.count }
    }

    /// Closes every connection (disconnect handlers run with ``SocketIODisconnectReason/serverShutdown``).
    /// Call it when shutting down so pending long-polling requests return at once instead of
    /// holding the HTTP server's graceful shutdown for up to `pingInterval`. Clients are told
    /// in a way that makes them reconnect: WebSockets are closed, pending polls get
    /// `400 Session ID unknown`.
    public func closeAll() async {
        for session in sessions.withLock({ Array($0.values) }) {
            session.close(reason: .serverShutdown)
        }
    }

    // MARK: Internals

    func registeredNamespace(_ name: String) -> SocketIONamespace? {
        namespaces.withLock { $0[name] }
    }

    func session(id: String) -> EngineSession? {
        sessions.withLock { $0[id] }
    }

    /// Creates and registers a session with its Socket.IO connection, queues `initialFrames`
    /// (the open packet for WebSocket sessions) and starts the heartbeat.
    func openSession(transport: EngineTransportKind, handshake: EngineHandshake, initialFrames: (EngineSession) -> [EngineFrame] = { _ in [] }) -> EngineSession
    {
        let session = EngineSession(
            id: RandomID.make(),
            transport: transport,
            handshake: handshake,
            configuration: configuration,
            logger: logger
        )
        let connection = SocketIOConnection(server: self, session: session)
        sessions.withLock { $0[session.id] = session }
        session.send(initialFrames(session))
        session.start(delegate: connection) { [weak self] closed in
            self?.sessions.withLock { _ = $0.removeValue(forKey: closed.id) }
        }
        connection.start()
        logger.debug("Engine.IO session opened", metadata: ["engine.sid": "\(session.id)", "transport": "\(transport.rawValue)"])
        return session
    }
}

/// Running the server as a service (for example in `Application(services:)`) closes every
/// connection on graceful shutdown.
extension SocketIOServer: Service {
    /// Waits for graceful shutdown (or cancellation), then calls ``closeAll()``.
    public func run() async throws {
        try? await gracefulShutdown()
        await closeAll()
    }
}

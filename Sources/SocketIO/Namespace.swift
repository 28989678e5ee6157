import Synchronization

/// A Socket.IO namespace (`/`, `/admin`, …): its handlers, its sockets and their rooms.
///
/// Obtain one with ``SocketIOServer/namespace(_:)``; registering it is what makes clients able
/// to connect to it. Register handlers before clients connect: handlers added later only see
/// later events.
public final class SocketIONamespace: Sendable {
    /// Event handler: the socket, the event arguments (without the event name), and the ack
    /// callback if the client asked for one.
    public typealias EventHandler = @Sendable (SocketIOSocket, [JSONValue], SocketIOAck?) async -> Void
    /// Connect handler: the socket and the auth payload of the CONNECT packet (`nil` if none).
    public typealias ConnectHandler = @Sendable (SocketIOSocket, JSONValue?) async -> Void
    /// Disconnect handler, called once per socket.
    public typealias DisconnectHandler = @Sendable (SocketIOSocket, SocketIODisconnectReason) async -> Void
    /// Admission check run before a socket is created; throw ``SocketIOConnectError`` to refuse.
    public typealias Middleware = @Sendable (SocketIOHandshake) async throws -> Void

    private struct Handlers {
        var middlewares: [Middleware] = []
        var connect: [ConnectHandler] = []
        var disconnect: [DisconnectHandler] = []
        var events: [String: [EventHandler]] = [:]
    }

    /// The namespace name, always starting with `/`.
    public let name: String
    let rooms = Rooms()
    private let handlers = Mutex(Handlers())

    init(name: String) {
        self.name = name
    }

    // MARK: Registering handlers

    /// Adds an admission check. Checks run in order before the CONNECT is accepted; the first
    /// one that throws refuses the connection with a CONNECT_ERROR (`44`) whose message is the
    /// ``SocketIOConnectError`` message (or "Connection refused" for other errors).
    public func use(_ middleware: @escaping Middleware) {
        handlers.withLock { $0.middlewares.append(middleware) }
    }

    /// Adds a handler called after a socket connected (its CONNECT reply is already queued, so
    /// anything it emits reaches the client after the reply).
    public func onConnect(_ handler: @escaping ConnectHandler) {
        handlers.withLock { $0.connect.append(handler) }
    }

    /// Adds a handler called once when a socket leaves the namespace for any reason.
    public func onDisconnect(_ handler: @escaping DisconnectHandler) {
        handlers.withLock { $0.disconnect.append(handler) }
    }

    /// Adds a handler for an event.
    ///
    /// Events from one client are handled one at a time, in order; a handler that awaits for a
    /// long time delays that client's later events (not other clients'). Acks from the client
    /// are not queued behind handlers, so awaiting ``SocketIOSocket/emitWithAck(_:_:timeout:)``
    /// inside a handler is fine.
    public func on(_ event: String, _ handler: @escaping EventHandler) {
        handlers.withLock { $0.events[event, default: []].append(handler) }
    }

    // MARK: Emitting

    /// Sends an event to every socket in `room`. The packet is encoded once for all recipients.
    /// - Parameter except: a socket to leave out (typically the sender).
    public func emit(_ event: String, _ args: [JSONValue], toRoom room: String, except: SocketIOSocket? = nil) async {
        broadcast(event, args, to: rooms.sockets(in: room), except: except)
    }

    /// Sends an event to every socket connected to this namespace.
    public func emit(_ event: String, _ args: [JSONValue]) async {
        broadcast(event, args, to: rooms.allSockets(), except: nil)
    }

    private func broadcast(_ event: String, _ args: [JSONValue], to sockets: [SocketIOSocket], except: SocketIOSocket?) {
        guard !sockets.isEmpty else { return }
        let frames = SocketPacket(kind: .event, namespace: name, payload: .array([.string(event)] + args)).encode()
        for socket in sockets where socket !== except {
            socket.connection.session.send(frames)
        }
    }

    // MARK: Looking up sockets

    /// Sockets currently connected to this namespace.
    public var sockets: [SocketIOSocket] {
        rooms.allSockets()
    }

    /// Number of sockets currently connected.
    public var socketCount: Int {
        rooms.count
    }

    /// The connected socket with this id, if any.
    public func socket(id: String) -> SocketIOSocket? {
        rooms.socket(id: id)
    }

    /// Sockets currently in `room`.
    public func sockets(inRoom room: String) -> [SocketIOSocket] {
        rooms.sockets(in: room)
    }

    // MARK: Running handlers (called by the connection)

    func admit(_ handshake: SocketIOHandshake) async throws {
        for middleware in handlers.withLock({ $0.middlewares }) {
            try await middleware(handshake)
        }
    }

    func runConnectHandlers(_ socket: SocketIOSocket, auth: JSONValue?) async {
        for handler in handlers.withLock({ $0.connect }) {
            await handler(socket, auth)
        }
    }

    func runDisconnectHandlers(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {
        for handler in handlers.withLock({ $0.disconnect }) {
            await handler(socket, reason)
        }
    }

    func dispatch(_ event: String, socket: SocketIOSocket, args: [JSONValue], ack: SocketIOAck?) async {
        for handler in handlers.withLock({ $0.events[event] ?? [] }) {
            await handler(socket, args, ack)
        }
    }
}

/// Refuses a namespace connection from a ``SocketIONamespace/use(_:)`` middleware; the client
/// receives `44{"message":…,"data":…}` (its `connect_error` event).
public struct SocketIOConnectError: Error, Sendable, Equatable {
    /// Sent as `message`.
    public var message: String
    /// Sent as `data` when not `nil`.
    public var data: JSONValue?

    /// Creates a refusal with a message and optional extra data for the client.
    public init(message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }

    var payload: JSONValue {
        var object: [String: JSONValue] = ["message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }
}

/// What a client presented when connecting to a namespace.
public struct SocketIOHandshake: Sendable {
    /// The CONNECT packet's payload (socket.io's `auth` option), `nil` if there was none.
    public var auth: JSONValue?
    /// Query parameters of the request that opened the Engine.IO session.
    public var query: [String: String]
    /// Headers of that request; names are lowercased.
    public var headers: [String: String]
}

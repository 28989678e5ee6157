import Synchronization

/// One client connected to one namespace.
///
/// A client connected to several namespaces over one connection has one socket per namespace.
/// Sockets are reference types: compare them with `===` or by ``id``.
public final class SocketIOSocket: Sendable, Hashable, CustomStringConvertible {
    /// Errors of ``emitWithAck(_:_:timeout:)``.
    public enum AckError: Error, Sendable, Equatable {
        /// The client did not acknowledge in time.
        case timeout
        /// The socket disconnected before the acknowledgement arrived.
        case disconnected
    }

    private struct State {
        var connected = true
        var nextAckID = 1
        var pendingAcks: [Int: CheckedContinuation<[JSONValue], any Error>] = [:]
    }

    /// Socket id, random and distinct from the Engine.IO session id (the `sid` of the CONNECT
    /// reply). Every socket is a member of the room with this name.
    public let id: String
    /// The namespace this socket belongs to.
    public let namespace: SocketIONamespace
    /// What the client sent when connecting.
    public let handshake: SocketIOHandshake
    let connection: SocketIOConnection
    private let state = Mutex(State())

    init(id: String, namespace: SocketIONamespace, handshake: SocketIOHandshake, connection: SocketIOConnection) {
        self.id = id
        self.namespace = namespace
        self.handshake = handshake
        self.connection = connection
    }

    /// The Engine.IO session id of the underlying connection.
    public var engineSessionID: String {
        connection.session.id
    }

    /// The transport currently in use: `"polling"` or `"websocket"`.
    public var transport: String {
        connection.session.transport.rawValue
    }

    /// `false` once the socket has left its namespace.
    public var isConnected: Bool {
        state.withLock { $0.connected }
    }

    /// Rooms this socket is in (including the room named after its ``id``).
    public var rooms: Set<String> {
        namespace.rooms.rooms(of: self)
    }

    // MARK: Rooms

    /// Joins a room of this socket's namespace. No effect once disconnected.
    public func join(_ room: String) async {
        namespace.rooms.join(self, room)
    }

    /// Leaves a room.
    public func leave(_ room: String) async {
        namespace.rooms.leave(self, room)
    }

    // MARK: Emitting

    /// Sends an event to this socket. Values of `.binary` travel as binary attachments.
    public func emit(_ event: String, _ args: [JSONValue]) async {
        send(SocketPacket(kind: .event, namespace: namespace.name, payload: .array([.string(event)] + args)))
    }

    /// Sends an event and waits for the client's acknowledgement.
    /// - Returns: the arguments the client passed to its ack callback.
    /// - Throws: ``AckError/timeout`` or ``AckError/disconnected``.
    public func emitWithAck(_ event: String, _ args: [JSONValue], timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        let ackID = state.withLock { state -> Int? in
            guard state.connected else { return nil }
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
        guard let ackID else { throw AckError.disconnected }
        // The timer starts only once the continuation is registered, so even a zero timeout
        // cannot fire into nothing and leave the caller waiting forever.
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return try await withCheckedThrowingContinuation { continuation in
            let registered = state.withLock { state -> Bool in
                guard state.connected else { return false }
                state.pendingAcks[ackID] = continuation
                return true
            }
            guard registered else {
                continuation.resume(throwing: AckError.disconnected)
                return
            }
            timer.withLock {
                $0 = Task { [weak self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    self?.failAck(ackID, with: AckError.timeout)
                }
            }
            send(SocketPacket(kind: .event, namespace: namespace.name, ackID: ackID, payload: .array([.string(event)] + args)))
        }
    }

    // MARK: Disconnecting

    /// Removes the socket from its namespace: the client gets a DISCONNECT packet and the
    /// namespace's disconnect handlers run with ``SocketIODisconnectReason/serverNamespaceDisconnect``.
    /// - Parameter closeConnection: also close the underlying connection (and so every other
    ///   namespace of this client).
    public func disconnect(closeConnection: Bool = false) async {
        await connection.serverDisconnect(self, closeConnection: closeConnection)
    }

    // MARK: Internals

    func send(_ packet: SocketPacket) {
        connection.session.send(packet.encode())
    }

    /// Called when a client ACK arrives.
    func resolveAck(_ ackID: Int, args: [JSONValue]) {
        let continuation = state.withLock { $0.pendingAcks.removeValue(forKey: ackID) }
        continuation?.resume(returning: args)
    }

    private func failAck(_ ackID: Int, with error: AckError) {
        let continuation = state.withLock { $0.pendingAcks.removeValue(forKey: ackID) }
        continuation?.resume(throwing: error)
    }

    /// Marks the socket gone and fails pending acks. Returns `false` if it already was.
    func markDisconnected() -> Bool {
        let (wasConnected, pending) = state.withLock { state -> (Bool, [CheckedContinuation<[JSONValue], any Error>]) in
            defer {
                state.connected = false
                state.pendingAcks = [:]
            }
            return (state.connected, Array(state.pendingAcks.values))
        }
        for continuation in pending { continuation.resume(throwing: AckError.disconnected) }
        return wasConnected
    }

    public static func == (lhs: SocketIOSocket, rhs: SocketIOSocket) -> Bool {
        lhs === rhs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }

    public var description: String {
        "SocketIOSocket(\(id) on \(namespace.name))"
    }
}

/// The acknowledgement callback of an event the client sent with an ack id.
///
/// Calling it sends the ACK packet; only the first call has an effect (a class: every
/// copy handed to a handler shares that one use).
public final class SocketIOAck: Sendable {
    private let socket: SocketIOSocket
    private let ackID: Int
    private let used = Mutex(false)

    init(socket: SocketIOSocket, ackID: Int) {
        self.socket = socket
        self.ackID = ackID
    }

    /// Sends the acknowledgement with these arguments (`.binary` values become attachments).
    public func callAsFunction(_ args: [JSONValue]) async {
        let first = used.withLock { used -> Bool in
            defer { used = true }
            return !used
        }
        guard first else { return }
        socket.send(SocketPacket(kind: .ack, namespace: socket.namespace.name, ackID: ackID, payload: .array(args)))
    }
}

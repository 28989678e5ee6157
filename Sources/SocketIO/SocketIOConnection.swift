import Logging
import Synchronization

/// The Socket.IO side of one Engine.IO session: decodes packets, reassembles binary
/// attachments, tracks the client's namespaces and runs handlers.
///
/// Decoding happens synchronously as packets arrive, so malformed input closes the session
/// at once and client ACKs resolve immediately. CONNECT, EVENT and DISCONNECT go through an
/// ordered inbox consumed by one task, which gives handlers per-client ordering without
/// blocking the transport (a slow handler must not stall pongs and get the client dropped).
final class SocketIOConnection: EngineSessionDelegate {
    /// Packets waiting in the inbox beyond this close the session: a client flooding events
    /// faster than its handlers run is not allowed to grow memory without bound.
    static let inboxCapacity = 1024

    private struct State {
        var sockets: [String: SocketIOSocket] = [:]
        /// A binary packet still waiting for attachments.
        var partial: (packet: SocketPacket, attachments: [[UInt8]])?
        var connectTimer: Task<Void, Never>?
        var closeReason: SocketIODisconnectReason?
    }

    let session: EngineSession
    private let server: SocketIOServer
    private let state = Mutex(State())
    private let inbox: AsyncStream<SocketPacket>
    private let inboxContinuation: AsyncStream<SocketPacket>.Continuation

    init(server: SocketIOServer, session: EngineSession) {
        self.server = server
        self.session = session
        (inbox, inboxContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.inboxCapacity))
    }

    /// Starts the inbox consumer and the connect timeout.
    func start() {
        Task { await self.consumeInbox() }
        let timeout = server.configuration.connectTimeout
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil, let self else { return }
            // Like the node server: a client that has not joined any namespace by now is dropped.
            if self.state.withLock({ $0.sockets.isEmpty }) {
                self.session.logger.debug("No Socket.IO namespace joined within connectTimeout, closing")
                self.session.close(reason: .forcedClose)
            }
        }
        state.withLock { $0.connectTimer = timer }
    }

    // MARK: EngineSessionDelegate

    func engineSession(_ session: EngineSession, didReceive message: EngineMessage) throws {
        let complete: SocketPacket? = try state.withLock { state throws(SocketPacket.DecodingError) -> SocketPacket? in
            switch message {
            case .text(let text):
                guard state.partial == nil else { throw .unexpectedText }
                let packet = try SocketPacket.decode(text)
                if (packet.kind == .binaryEvent || packet.kind == .binaryAck) && packet.attachmentCount > 0 {
                    state.partial = (packet, [])
                    return nil
                }
                return packet
            case .binary(let bytes):
                guard var partial = state.partial else { throw .unexpectedBinary }
                partial.attachments.append(bytes)
                guard partial.attachments.count == partial.packet.attachmentCount else {
                    state.partial = partial
                    return nil
                }
                state.partial = nil
                return try partial.packet.resolvingAttachments(partial.attachments)
            }
        }
        if let complete { try route(complete) }
    }

    func engineSessionDidClose(_ session: EngineSession, reason: SocketIODisconnectReason) {
        let timer = state.withLock { state -> Task<Void, Never>? in
            state.closeReason = reason
            defer { state.connectTimer = nil }
            return state.connectTimer
        }
        timer?.cancel()
        // The consumer disconnects the remaining sockets after the last queued packet.
        inboxContinuation.finish()
    }

    // MARK: Routing

    private struct InboxOverflow: Error {}

    private func route(_ packet: SocketPacket) throws {
        switch packet.kind {
        case .ack, .binaryAck:
            // Not queued: a handler awaiting emitWithAck must get its answer while it waits.
            let socket = state.withLock { $0.sockets[packet.namespace] }
            socket?.resolveAck(packet.ackID ?? -1, args: packet.payload?.array ?? [])
            return
        default:
            break
        }
        if case .dropped = inboxContinuation.yield(packet) {
            throw InboxOverflow()
        }
    }

    private func consumeInbox() async {
        for await packet in inbox {
            switch packet.kind {
            case .connect: await connect(packet)
            case .disconnect: await clientDisconnected(namespace: packet.namespace)
            case .event, .binaryEvent: await dispatch(packet)
            default: break
            }
        }
        let (sockets, reason) = state.withLock { state -> ([SocketIOSocket], SocketIODisconnectReason) in
            defer { state.sockets = [:] }
            return (Array(state.sockets.values), state.closeReason ?? .transportClose)
        }
        for socket in sockets {
            await remove(socket, reason: reason)
        }
    }

    // MARK: Handling packets

    private func connect(_ packet: SocketPacket) async {
        let name = packet.namespace
        guard let namespace = server.registeredNamespace(name) else {
            session.send(SocketPacket(kind: .connectError, namespace: name, payload: ["message": "Invalid namespace"]).encode())
            return
        }
        guard state.withLock({ $0.sockets[name] == nil }) else {
            // Already connected to this namespace: nothing to do.
            return
        }
        let handshake = SocketIOHandshake(auth: packet.payload, query: session.handshake.query, headers: session.handshake.headers)
        do {
            try await namespace.admit(handshake)
        } catch {
            let refusal = error as? SocketIOConnectError ?? SocketIOConnectError(message: "Connection refused")
            session.send(SocketPacket(kind: .connectError, namespace: name, payload: refusal.payload).encode())
            return
        }
        let socket = SocketIOSocket(id: RandomID.make(), namespace: namespace, handshake: handshake, connection: self)
        let added = state.withLock { state -> Bool in
            guard state.closeReason == nil, state.sockets[name] == nil else { return false }
            state.sockets[name] = socket
            return true
        }
        guard added else { return }
        // The reply carries only `sid` (the conformance suite checks that). It is queued before
        // the socket joins any room so no broadcast can overtake it.
        session.send(SocketPacket(kind: .connect, namespace: name, payload: ["sid": .string(socket.id)]).encode())
        namespace.rooms.add(socket)
        await namespace.runConnectHandlers(socket, auth: packet.payload)
    }

    private func dispatch(_ packet: SocketPacket) async {
        guard let socket = state.withLock({ $0.sockets[packet.namespace] }),
            var elements = packet.payload?.array, case .string(let event) = elements.first
        else {
            // Events for a namespace the client did not join are ignored, like the node server does.
            return
        }
        elements.removeFirst()
        let ack = packet.ackID.map { SocketIOAck(socket: socket, ackID: $0) }
        await socket.namespace.dispatch(event, socket: socket, args: elements, ack: ack)
    }

    private func clientDisconnected(namespace name: String) async {
        guard let socket = state.withLock({ $0.sockets.removeValue(forKey: name) }) else { return }
        await remove(socket, reason: .clientNamespaceDisconnect)
    }

    /// ``SocketIOSocket/disconnect(closeConnection:)``.
    func serverDisconnect(_ socket: SocketIOSocket, closeConnection: Bool) async {
        let removed = state.withLock { state -> Bool in
            guard state.sockets[socket.namespace.name] === socket else { return false }
            state.sockets[socket.namespace.name] = nil
            return true
        }
        if removed {
            await remove(socket, reason: .serverNamespaceDisconnect) {
                // Sent after leaving the rooms, so no broadcast follows the DISCONNECT.
                self.session.send(SocketPacket(kind: .disconnect, namespace: socket.namespace.name).encode())
            }
        }
        if closeConnection {
            session.close(reason: .forcedClose)
        }
    }

    private func remove(_ socket: SocketIOSocket, reason: SocketIODisconnectReason, afterLeavingRooms: () -> Void = {}) async {
        guard socket.markDisconnected() else { return }
        socket.namespace.rooms.remove(socket)
        afterLeavingRooms()
        await socket.namespace.runDisconnectHandlers(socket, reason: reason)
    }
}

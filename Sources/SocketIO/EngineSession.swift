import Logging
import Synchronization

/// The transport an Engine.IO session currently uses.
enum EngineTransportKind: String, Sendable {
    case polling
    case websocket
}

/// Receives what an Engine.IO session carries (implemented by the Socket.IO layer).
protocol EngineSessionDelegate: AnyObject, Sendable {
    /// A message packet (text without the `4`, or binary) arrived. Throwing closes the session
    /// with a parse error.
    func engineSession(_ session: EngineSession, didReceive message: EngineMessage) throws
    /// The session closed; called exactly once.
    func engineSessionDidClose(_ session: EngineSession, reason: SocketIODisconnectReason)
}

/// The payload of an Engine.IO message packet.
enum EngineMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// One Engine.IO v4 session: its outbound queue, heartbeat, transport and upgrade state.
///
/// Transports (``PollingTransport``, ``WebSocketTransport``) feed client packets into
/// ``receive(_:)`` and drain ``queue``; everything else about the session lives here so both
/// transports behave the same.
final class EngineSession: Sendable {
    enum UpgradeState {
        case none
        /// A WebSocket with this sid is open and probing; `signal` finishes when the upgrade
        /// completes or the session closes, so the WebSocket writer knows when to start.
        case probing(signal: AsyncStream<Void>.Continuation)
        case done
    }

    /// Mutable state; extensions in EngineHeartbeat.swift and EngineSession+Transports.swift
    /// use it too, always through the lock.
    struct State {
        var transport: EngineTransportKind
        var upgrade: UpgradeState = .none
        var pollInProgress = false
        var postInProgress = false
        var closed = false
        /// Sequence number of the ping awaiting its pong, and when it was sent.
        var pendingPing: (sequence: UInt64, sentAt: ContinuousClock.Instant)?
        var pingSequence: UInt64 = 0
        var heartbeat: Task<Void, Never>?
        var delegate: (any EngineSessionDelegate)?
        var onClose: (@Sendable (EngineSession) -> Void)?
    }

    /// The public session id (`sid` query parameter).
    let id: String
    let configuration: SocketIOConfiguration
    /// Query parameters and headers of the request that opened the session.
    let handshake: EngineHandshake
    let queue: OutboundQueue
    let logger: Logger
    let state: Mutex<State>

    init(
        id: String,
        transport: EngineTransportKind,
        handshake: EngineHandshake,
        configuration: SocketIOConfiguration,
        logger: Logger
    ) {
        self.id = id
        self.configuration = configuration
        self.handshake = handshake
        self.queue = OutboundQueue(capacity: configuration.maxQueuedFrames)
        var logger = logger
        logger[metadataKey: "engine.sid"] = "\(id)"
        self.logger = logger
        self.state = Mutex(State(transport: transport))
    }

    /// The Engine.IO open packet for this session.
    var openPacket: EnginePacket {
        let upgrades = transport == .polling ? "[\"websocket\"]" : "[]"
        return .open(
            "{\"sid\":\"\(id)\",\"upgrades\":\(upgrades),\"pingInterval\":\(configuration.pingInterval.wholeMilliseconds)"
                + ",\"pingTimeout\":\(configuration.pingTimeout.wholeMilliseconds),\"maxPayload\":\(configuration.maxPayload)}"
        )
    }

    var transport: EngineTransportKind {
        state.withLock { $0.transport }
    }

    var isClosed: Bool {
        state.withLock { $0.closed }
    }

    /// Wires the session up and starts its heartbeat. Call once, after the open packet is on
    /// its way.
    func start(delegate: any EngineSessionDelegate, onClose: @escaping @Sendable (EngineSession) -> Void) {
        state.withLock {
            $0.delegate = delegate
            $0.onClose = onClose
        }
        scheduleNextPing()
    }

    // MARK: Sending

    /// Queues frames for the client. On overflow the session is closed, because a client that
    /// stopped reading must not hold up anyone else; returns `false` then.
    @discardableResult
    func send(_ frames: [EngineFrame]) -> Bool {
        guard queue.enqueue(frames) else {
            if !isClosed {
                logger.info("Engine.IO outbound queue overflow, closing session")
                close(reason: .transportError("outbound queue overflow"))
            }
            return false
        }
        return true
    }

    // MARK: Receiving

    /// Handles one packet from the client. Never throws: protocol violations close the session.
    func receive(_ packet: EnginePacket) {
        switch packet {
        case .pong:
            pongReceived()
        case .ping(let data):
            // v4 clients do not ping, but answering is harmless and helps hand-written clients.
            send([EnginePacket.pong(data).frame])
        case .message(let text):
            deliver(.text(text))
        case .binaryMessage(let bytes):
            deliver(.binary(bytes))
        case .close:
            close(reason: .transportClose, byClient: true)
        case .noop, .upgrade:
            // `5` only means something on a probing WebSocket, which handles it itself.
            break
        case .open:
            logger.debug("Client sent an open packet")
            close(reason: .parseError)
        }
    }

    private func deliver(_ message: EngineMessage) {
        guard let delegate = state.withLock({ $0.closed ? nil : $0.delegate }) else { return }
        do {
            try delegate.engineSession(self, didReceive: message)
        } catch {
            logger.debug("Malformed Socket.IO packet, closing session", metadata: ["error": "\(error)"])
            close(reason: .parseError)
        }
    }

    // MARK: Closing

    /// Closes the session once: stops the heartbeat, closes the queue (a pending GET answers
    /// `6` if the client asked to close, 400 on server shutdown, `1` otherwise), unregisters
    /// it and tells the delegate.
    func close(reason: SocketIODisconnectReason, byClient: Bool = false) {
        let taken = state.withLock {
            state -> (Task<Void, Never>?, (any EngineSessionDelegate)?, (@Sendable (EngineSession) -> Void)?, AsyncStream<Void>.Continuation?)? in
            guard !state.closed else { return nil }
            state.closed = true
            var signal: AsyncStream<Void>.Continuation?
            if case .probing(let probing) = state.upgrade { signal = probing }
            defer {
                state.heartbeat = nil
                state.delegate = nil
                state.onClose = nil
            }
            return (state.heartbeat, state.delegate, state.onClose, signal)
        }
        guard let (heartbeat, delegate, onClose, signal) = taken else { return }
        logger.debug("Engine.IO session closed", metadata: ["reason": "\(reason)"])
        heartbeat?.cancel()
        queue.close(farewell: byClient ? .noop : reason == .serverShutdown ? .unknownSession : .closePacket)
        signal?.finish()
        onClose?(self)
        delegate?.engineSessionDidClose(self, reason: reason)
    }
}

/// The parts of the opening HTTP request that handlers may want (auth tokens in the query,
/// cookies, forwarded addresses).
struct EngineHandshake: Sendable {
    var query: [String: String]
    /// Header names lowercased; repeated headers joined with ", ".
    var headers: [String: String]
}

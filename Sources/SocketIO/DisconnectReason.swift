/// Why a socket was disconnected, as reported to ``SocketIONamespace/onDisconnect(_:)``.
///
/// The cases mirror the reasons of the reference node server.
public enum SocketIODisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// The client sent a Socket.IO DISCONNECT for this namespace.
    case clientNamespaceDisconnect
    /// The server called ``SocketIOSocket/disconnect(closeConnection:)``.
    case serverNamespaceDisconnect
    /// The client closed the connection (Engine.IO close packet, or the WebSocket closed).
    case transportClose
    /// The transport failed: write error, outbound queue overflow, payload too large.
    case transportError(String)
    /// The client did not answer a ping within `pingTimeout`.
    case pingTimeout
    /// The client sent something that is not valid Engine.IO / Socket.IO.
    case parseError
    /// The server closed the whole connection (connect timeout, or
    /// ``SocketIOSocket/disconnect(closeConnection:)``).
    case forcedClose
    /// The server is shutting down (``SocketIOServer/closeAll()``); clients are told so in a
    /// way that makes them reconnect.
    case serverShutdown

    public var description: String {
        switch self {
        case .clientNamespaceDisconnect: "client namespace disconnect"
        case .serverNamespaceDisconnect: "server namespace disconnect"
        case .transportClose: "transport close"
        case .transportError(let detail): "transport error: \(detail)"
        case .pingTimeout: "ping timeout"
        case .parseError: "parse error"
        case .forcedClose: "forced close"
        case .serverShutdown: "server shutting down"
        }
    }
}

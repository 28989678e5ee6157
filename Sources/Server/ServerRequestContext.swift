import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Storage

/// The request context of every route, WebSocket upgrades (socket.io) included.
public struct ServerRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext, AdminRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The peer's address, for rate limits per client address.
    public let remoteAddress: SocketAddress?
    /// The signed-in member of staff on `/admin` routes (set by `AdminSessionMiddleware`).
    public var staff: StaffSession?

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }
}

import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with the WebSocket upgrade, plus a ``FirstRequestGuard``, so no
/// connection stays open and silent before its first request is read, and a
/// ``RequestLineEscaper``, so a raw UTF-8 query in it is read rather than refused.
struct GuardedUpgradeChannel: ServerChildChannel {
    let upgrade: HTTP1WebSocketUpgradeChannel
    let headTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        upgrade.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Last in the pipeline for now: after the upgrade handler, which reports the
            // decoder's errors and passes on nothing until it has decided.
            try channel.pipeline.syncOperations.addHandler(FirstRequestGuard(headTimeout: headTimeout))
            // First: it rewrites bytes before the HTTP decoder sees them.
            try channel.pipeline.syncOperations.addHandler(RequestLineEscaper(), position: .first)
            return value
        }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await upgrade.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the WebSocket upgrade socket.io needs, where every connection gets an
    /// answer or is closed: a raw UTF-8 query on a connection's first request is read as if
    /// percent-encoded, a request NIO cannot parse gets a 400 (431 for a head over NIO's
    /// 80 KB), a first request head that has not arrived whole within `requestTimeout` gets a
    /// 408 and the connection is closed, and a connection that sends nothing for
    /// `idleTimeout` while no response is under way (between keep-alive requests, or a body
    /// that stops) is closed. Responses under way (long polls, event streams) and WebSockets
    /// are not timed.
    ///
    /// ```swift
    /// server: .socketIO(webSocketRouter: router, configuration: socketIO.configuration,
    ///                   requestTimeout: .seconds(30), idleTimeout: .seconds(60))
    /// ```
    public static func socketIO<WebSocketRouter: HTTPResponderBuilder>(
        webSocketRouter: WebSocketRouter, configuration: SocketIOConfiguration, requestTimeout: Duration, idleTimeout: Duration
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: TimeAmount(idleTimeout)), ws: configuration.webSocketUpgradeConfiguration.ws)
        return .init { responder in
            GuardedUpgradeChannel(
                upgrade: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: channelConfiguration),
                headTimeout: TimeAmount(requestTimeout))
        }
    }
}

import NIOCore
import NIOHTTP1

/// Answers or closes a connection whose first request never gets past the WebSocket-upgrade
/// negotiation, and closes it when the server stops before that request has arrived.
///
/// hummingbird-websocket builds NIO's upgradable HTTP pipeline with its error handling off and
/// adds Hummingbird's own (the 400 for a parse error, the idle timeout) only once the upgrade
/// handler has seen a whole first request head. Until then nobody answers: a request line NIO
/// cannot parse (a raw UTF-8 query, garbage, a 100 KB URL, two `Content-Length`s) or a head that
/// never ends left the connection open and silent for as long as the client liked.
///
/// Sits after the upgrade handler, which passes nothing on until it has decided; it leaves the
/// pipeline as soon as anything comes through (the plain request it let through, or the news of
/// an upgrade), so it never sees a later request, a response or a WebSocket frame.
final class FirstRequestGuard: ChannelInboundHandler, RemovableChannelHandler {
    /// Never unwrapped: whatever comes through is passed on as it is.
    typealias InboundIn = Any
    typealias OutboundOut = HTTPServerResponsePart

    private let headTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var answered = false

    init(headTimeout: TimeAmount) {
        self.headTimeout = headTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headTimeout) { [self] in
            answer(.requestTimeout, context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    // Passed on before leaving: a removed handler's context leads nowhere.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server is stopping (SIGTERM) and this connection has not sent a whole request
        // yet: it is as idle as a connection gets, and nothing after this handler would close
        // it (Hummingbird's own quiescing starts with the first request).
        if event is ChannelShouldQuiesceEvent, !answered {
            answered = true
            deadline?.cancel()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
        if event is HTTPServerUpgradeEvents {
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? HTTPParserError {
            // NIO counts the request line into the head's size limit.
            answer(error == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest, context: context)
        }
        context.fireErrorCaught(error)
    }

    /// Writes an empty response that closes the connection, then closes it. Only once: the
    /// decoder reports every later byte of a broken request as another error.
    private func answer(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        deadline?.cancel()
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: ["Connection": "close", "Content-Length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            // Closing the input first lets the upgrade handler close the connection as for a
            // client that went away (Hummingbird logs that at trace level; a plain close is an
            // error in its log). The full close makes sure, whatever the handler did.
            context.close(mode: .input).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

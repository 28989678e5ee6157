import Hummingbird
import HummingbirdWebSocket

extension SocketIOServer {
    /// Adds the Engine.IO endpoint at `configuration.path` (both `/socket.io` and
    /// `/socket.io/`) to a router: `GET` for the polling handshake, polls and the WebSocket
    /// upgrade, `POST` for polling data, and `400` answers for other methods.
    ///
    /// The router's context can be any type of the application's choosing that supports
    /// WebSocket upgrades, and the `Application` must be built with the WebSocket upgrade
    /// channel using that same router, so upgrade requests reach these routes (`.socketIO` is
    /// that channel with timeouts and answers to unparsable requests, see
    /// `HTTPServerBuilder.socketIO(webSocketRouter:configuration:requestTimeout:idleTimeout:)`):
    ///
    /// ```swift
    /// import Hummingbird
    /// import HummingbirdWebSocket
    /// import SocketIO
    ///
    /// struct AppContext: RequestContext, WebSocketRequestContext {
    ///     var coreContext: CoreRequestContextStorage
    ///     let webSocket = WebSocketHandlerReference<Self>()
    ///     init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    /// }
    ///
    /// let socketIO = SocketIOServer(configuration: .init(), logger: logger)
    /// socketIO.namespace("/").on("ping") { socket, args, ack in await ack?(args) }
    ///
    /// let router = Router(context: AppContext.self)   // or BasicWebSocketRequestContext
    /// // ... the application's other routes ...
    /// socketIO.addRoutes(to: router)
    ///
    /// let app = Application(
    ///     router: router,
    ///     server: .socketIO(
    ///         webSocketRouter: router, configuration: socketIO.configuration,
    ///         requestTimeout: .seconds(30), idleTimeout: .seconds(60)
    ///     ),
    ///     configuration: .init(address: .hostname("127.0.0.1", port: 3000)),
    ///     services: [socketIO]   // closes all Socket.IO connections on graceful shutdown
    /// )
    /// try await app.runService()
    /// ```
    ///
    /// `router` may also be a `RouterGroup` (the path is then relative to the group). Router
    /// middleware added before this call applies to these routes too, including the upgrade
    /// request; Socket.IO authentication is better done with ``SocketIONamespace/use(_:)``.
    public func addRoutes<Methods: RouterMethods>(to router: Methods) where Methods.Context: WebSocketRequestContext {
        typealias Context = Methods.Context
        let path = RouterPath(configuration.normalizedPath)
        // hummingbird-websocket only lets the upgrade handler be set through its router
        // helpers; `router.ws` would claim GET on this path for itself, so the middleware is
        // called directly for requests that really are WebSocket upgrades.
        let upgrade = WebSocketUpgradeMiddleware<Context> { _, _ in
            .upgrade([:])
        } onUpgrade: { [self] inbound, outbound, context in
            await runWebSocket(inbound: inbound, outbound: outbound, request: context.request)
        }
        router.get(path) { [self] request, context in
            try await handleGet(request, context: context, upgrade: upgrade)
        }
        router.post(path) { [self] request, _ in
            await handlePost(request)
        }
        // HEAD as engine.io answers it, not as a GET: a HEAD handshake would open a session
        // nobody uses, and a HEAD poll would take a client's packets and drop them.
        for method in [HTTPRequest.Method.head, .put, .delete, .patch] {
            router.on(path, method: method) { _, _ in
                EngineError.badHandshakeMethod.response
            }
        }
    }

    private func handleGet<Context: WebSocketRequestContext>(
        _ request: Request,
        context: Context,
        upgrade: WebSocketUpgradeMiddleware<Context>
    ) async throws -> Response {
        let query = request.uri.queryParameters
        guard query.get("EIO") == "4" else { return EngineError.unsupportedProtocolVersion.response }
        switch query.get("transport") {
        case "polling":
            if let sid = query.get("sid") {
                return await poll(sid: sid)
            }
            return pollingHandshake(request)
        case "websocket":
            guard Self.isWebSocketUpgrade(request) else { return EngineError.badRequest.response }
            if let sid = query.get("sid") {
                guard let session = session(id: sid) else { return EngineError.unknownSession.response }
                guard session.transport == .polling, !session.isClosed else { return EngineError.badRequest.response }
            }
            // Answers 200 and stores the handler in the context; the upgrade channel then
            // switches the connection to WebSocket and calls `runWebSocket`.
            return try await upgrade.handle(request, context: context) { _, _ in Response(status: .ok) }
        default:
            return EngineError.unknownTransport.response
        }
    }

    private func handlePost(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        guard query.get("EIO") == "4" else { return EngineError.unsupportedProtocolVersion.response }
        switch query.get("transport") {
        case "polling":
            guard let sid = query.get("sid") else { return EngineError.badHandshakeMethod.response }
            return await pollingPost(sid: sid, request: request)
        case "websocket":
            return EngineError.badRequest.response
        default:
            return EngineError.unknownTransport.response
        }
    }

    private static func isWebSocketUpgrade(_ request: Request) -> Bool {
        request.headers[.upgrade]?.lowercased() == "websocket"
    }
}

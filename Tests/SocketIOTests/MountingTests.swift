import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Testing

@testable import SocketIO
import TestSupport

/// The application's own request context, as in the `addRoutes(to:)` documentation.
struct AppRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket = WebSocketHandlerReference<Self>()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

@Suite("Mounting into an application", .machineShare)
struct MountingTests {
    /// One router and one Application with a custom context serve ordinary routes and
    /// Socket.IO side by side; running the server as a service closes its connections on
    /// shutdown.
    @Test func sharesRouterWithOtherRoutesAndClosesOnShutdown() async throws {
        let socketIO = SocketIOServer(configuration: quietConfiguration(), logger: testLogger)
        SocketIOConformanceHandlers.install(on: socketIO)
        let router = Router(context: AppRequestContext.self)
        router.get("/health") { _, _ in "healthy" }
        socketIO.addRoutes(to: router)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: .socketIO(webSocketRouter: router, configuration: socketIO.configuration, requestTimeout: .seconds(30), idleTimeout: .seconds(60)),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: [socketIO],
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) },
            logger: testLogger
        )
        let services = ServiceGroup(services: [app], logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let outcome: Result<Void, any Error>
            do {
                try await withTimeout(20) {
                    var iterator = ports.makeAsyncIterator()
                    let port = try #require(await iterator.next())
                    #expect(try await http(.get, port: port, "/health").body == "healthy")
                    let sid = try await openPollingSession(port: port)
                    try await connectPolling(port: port, sid: sid)
                    let auth = try await withConnectedSocket(port: port, auth: #"{"k":1}"#) { socket, _ in
                        try await socket.text()
                    }
                    #expect(auth == #"42["auth",{"k":1}]"#)
                    #expect(socketIO.connectionCount >= 1)
                }
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            try outcome.get()
        }
        // The polling session was still open; shutdown closed it.
        #expect(socketIO.connectionCount == 0)
    }
}

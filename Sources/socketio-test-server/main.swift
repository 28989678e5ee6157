// The server the official socket.io-protocol test suite runs against: listens on
// 127.0.0.1:$PORT (default 3000) with the suite's timings and handlers.
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import SocketIO

var logger = Logger(label: "socketio-test-server")
logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info

let port = ProcessInfo.processInfo.environment["PORT"].flatMap { Int($0) } ?? 3000
let socketIO = SocketIOServer(configuration: SocketIOConformanceHandlers.configuration, logger: logger)
SocketIOConformanceHandlers.install(on: socketIO)

let router = Router(context: BasicWebSocketRequestContext.self)
socketIO.addRoutes(to: router)

let app = Application(
    router: router,
    server: .socketIO(webSocketRouter: router, configuration: socketIO.configuration, requestTimeout: .seconds(30), idleTimeout: .seconds(60)),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "socketio-test-server"),
    onServerRunning: { channel in
        // A machine-readable line so scripts can wait for readiness (and learn the port if PORT=0).
        let line = "listening on 127.0.0.1:\(channel.localAddress?.port ?? port)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    },
    logger: logger
)
try await app.runService()

import Hummingbird
import Logging

/// Where `GET /metrics` is served, as the operator chose: never open by accident.
///
/// - `METRICS_PORT` set: on that port of `METRICS_HOST` (default 127.0.0.1) only, by a
///   second small Hummingbird application in the server's service group, without the key
///   (whoever reaches that address may read it); the main port answers it 404.
/// - else `API_KEY` set: on the main port, behind `X-API-Key` like the `/api`.
/// - neither: 404 on the main port, with a JSON message saying how to turn it on.
enum MetricsExposure: Equatable {
    case ownAddress(host: String, port: Int)
    case behindAPIKey(String)
    case off

    init(_ configuration: ServerConfiguration) {
        if let port = configuration.metricsPort {
            self = .ownAddress(host: configuration.metricsHost, port: port)
        } else if let key = configuration.apiKey {
            self = .behindAPIKey(key)
        } else {
            self = .off
        }
    }

    /// Served by an application of its own, on METRICS_PORT.
    var hasOwnAddress: Bool {
        if case .ownAddress = self { return true }
        return false
    }

    static let offMessage = "/metrics is off: set API_KEY to serve it behind X-API-Key, or METRICS_PORT to serve it on its own address"

    /// Mounts `/metrics` on the main router, as this exposure wants it there.
    func addRoutes<Context: RequestContext>(_ controller: MetricsController<Context>, to router: Router<Context>) {
        switch self {
        case .behindAPIKey(let key):
            controller.addRoutes(to: router.group().add(middleware: APIKeyMiddleware<Context>(key: key)))
        case .off:
            router.get("/metrics") { _, _ -> Response in throw APIError(.notFound, Self.offMessage) }
        case .ownAddress:
            // Not on the main port: the router's 404 for an unknown path.
            break
        }
    }

    /// The metrics-only application for `.ownAddress` (nil otherwise): errors as JSON,
    /// `/metrics`, nothing else.
    func application(
        _ controller: MetricsController<BasicRequestContext>, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> (any ApplicationProtocol)? {
        guard case .ownAddress(let host, let port) = self else { return nil }
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        controller.addRoutes(to: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "replyflow-metrics"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

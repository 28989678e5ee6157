import Foundation
import Hummingbird
import Testing

@testable import Server
import TestSupport

/// The description cannot drift from the router: every route the server registers is
/// documented, and every documented operation is a route. The admin panel (`/admin`) is
/// left out: it is HTML for browsers, not an API.
@Suite("OpenAPI routes", .machineShare)
struct OpenAPIRouteTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteIsARoute() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        // The key puts /metrics on the main router; the Telegram webhook is registered
        // either way (404 while webhooks are off).
        harness.configuration.apiKey = "route-test-key"
        let logger = ServerHarness.quietLogger
        let services = try ReplyflowServer.buildServices(
            configuration: harness.configuration, storage: try ReplyflowServer.openSQLite(harness.configuration, logger: logger), logger: logger,
            clock: Date.init, ports: nil)
        let router = ReplyflowServer.buildRouter(services, configuration: harness.configuration, clock: Date.init, logger: logger)

        let registered = Set(
            router.routes.map { OpenAPISpec.Route(method: $0.method.rawValue, path: Self.normalized($0.path.description)) }
                .filter { !$0.path.hasPrefix("/admin") })
        let spec = try OpenAPISpec()
        let documented = Set(spec.routes.map { OpenAPISpec.Route(method: $0.method, path: Self.normalized($0.path)) })
        #expect(!registered.isEmpty)

        // HEAD answers where GET does (Hummingbird, or a HEAD route): a GET documents it.
        let undocumented = registered.subtracting(documented).filter { route in
            !(route.method == "HEAD" && documented.contains(.init(method: "GET", path: route.path)))
        }
        #expect(undocumented.isEmpty, "routes missing from openapi/openapi.json: \(undocumented.sorted())")
        let missing = documented.subtracting(registered)
        #expect(missing.isEmpty, "documented in openapi/openapi.json but not routed: \(missing.sorted())")
    }

    /// Hummingbird routes `/socket.io` and `/socket.io/` alike; the document names the
    /// address clients call, with the slash.
    static func normalized(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}

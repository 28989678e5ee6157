import Hummingbird
import PostgresStorage

/// While the shared database does not answer (`PostgresReachability`, watched on a
/// connection of its own), requests that need it get 503 with `Retry-After: 1` at once,
/// instead of waiting for the pool to give up (about a minute). What needs no database
/// goes on: `/health` (which says the database is down), `/metrics`, socket.io, the
/// `/api`'s live stream and its tokens (an `EventSource` refused once never reconnects),
/// uploaded files, the OpenAPI document and the panel's assets.
struct DatabaseOutageMiddleware<Context: RequestContext>: RouterMiddleware {
    let reachability: PostgresReachability

    static func needsNoDatabase(_ path: String) -> Bool {
        ["/health", "/metrics", "/openapi.json", "/api/stream", "/api/stream/token"].contains(path) || path.hasPrefix("/socket.io")
            || path.hasPrefix("/uploads/") || path.hasPrefix("/admin/assets/")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if reachability.isReachable == false && !Self.needsNoDatabase(request.uri.path) {
            throw APIError(.serviceUnavailable, "the database cannot be reached just now; try again", retryAfter: 1)
        }
        return try await next(request, context)
    }
}

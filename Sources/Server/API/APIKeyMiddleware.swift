import Hummingbird

/// `X-API-Key` on every `/api` request, compared in constant time. Without `API_KEY`
/// configured nobody gets in: an open API to every chat would be worse than none.
/// The live stream also takes `?token=` from `POST /api/stream/token`, for `EventSource`.
/// `/metrics` on the main port is behind the same key (without stream tokens).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?
    var streamTokens: StreamTokens?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let streamTokens, request.method == .get || request.method == .head, request.uri.path == "/api/stream",
            let token = request.uri.queryParameters.get("token")
        {
            guard streamTokens.isValid(token) else { throw APIError(.unauthorized, "the stream token is unknown or expired") }
            return try await next(request, context)
        }
        guard let key else {
            throw APIError(.unauthorized, "the API is off: set API_KEY")
        }
        guard let given = request.headers[.init("X-API-Key")!], ConstantTime.equals(given, key) else {
            throw APIError(.unauthorized, "missing or wrong X-API-Key")
        }
        return try await next(request, context)
    }
}

import Hummingbird

/// `X-API-Key` on every `/api` request, compared in constant time. Without `API_KEY`
/// configured nobody gets in: an open API to every chat would be worse than none.
/// The live stream also takes `?token=` from `POST /api/stream/token`, for `EventSource`.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?
    let streamTokens: StreamTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, request.uri.path == "/api/stream", let token = request.uri.queryParameters.get("token") {
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

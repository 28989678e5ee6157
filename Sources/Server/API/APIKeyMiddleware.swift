import Hummingbird

/// `X-API-Key` on every `/api` request, compared in constant time. Without `API_KEY`
/// configured nobody gets in: an open API to every chat would be worse than none.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key else {
            throw APIError(.unauthorized, "the API is off: set API_KEY")
        }
        guard let given = request.headers[.init("X-API-Key")!], ConstantTime.equals(given, key) else {
            throw APIError(.unauthorized, "missing or wrong X-API-Key")
        }
        return try await next(request, context)
    }
}

import Hummingbird

/// Requests per minute per client address. Behind a reverse proxy every request comes
/// from the proxy, so `X-Forwarded-For` is believed only from `trustedProxies`.
struct AddressRateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limiter: RateLimiter
    let clientAddress: ClientAddress

    init(limiter: RateLimiter, trustedProxies: Set<String>) {
        self.limiter = limiter
        self.clientAddress = ClientAddress(trustedProxies: trustedProxies)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = clientAddress.of(request, peer: context.remoteAddress)
        if let wait = limiter.check(address) {
            throw APIError(.tooManyRequests, "too many requests from \(address); try again in \(wait) s", retryAfter: wait)
        }
        return try await next(request, context)
    }
}

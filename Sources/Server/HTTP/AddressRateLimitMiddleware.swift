import Hummingbird

/// Requests per minute per client address. Behind a reverse proxy every request comes
/// from the proxy, so `X-Forwarded-For` is believed only from `trustedProxies`.
struct AddressRateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limiter: RateLimiter
    let trustedProxies: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = clientAddress(request, context: context)
        if let wait = limiter.check(address) {
            throw APIError(.tooManyRequests, "too many requests from \(address); try again in \(wait) s", retryAfter: wait)
        }
        return try await next(request, context)
    }

    private func clientAddress(_ request: Request, context: Context) -> String {
        let peer = context.remoteAddress?.ipAddress ?? "unknown"
        guard trustedProxies.contains(peer), let forwarded = request.headers[.init("X-Forwarded-For")!] else { return peer }
        // The last address not added by a trusted proxy is the client.
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return hops.last(where: { !trustedProxies.contains($0) }) ?? peer
    }
}
